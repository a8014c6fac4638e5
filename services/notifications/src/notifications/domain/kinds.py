"""What may be subscribed to, through which channels, and who a role subscription may name."""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS = ("inbox", "email", "webhook")

PEOPLE = frozenset(
    {"resident", "initiative_group", "working_group", "administration", "enterprise"}
)
PROGRAMME = frozenset({"working_group", "administration", "programme_office"})


@dataclass(frozen=True)
class EventKind:
    kind: str
    title: str
    roles: frozenset[str]


KINDS = {
    k.kind: k
    for k in (
        EventKind("practice_approved_for_vote", "Практика допущена к голосованию", PEOPLE),
        EventKind("passport_approved", "Паспорт практики утверждён", PEOPLE | PROGRAMME),
        EventKind("activity_registered", "Новое мероприятие", PEOPLE | PROGRAMME),
        EventKind("poll_opened", "Открыто голосование", PEOPLE),
        EventKind("poll_closed", "Голосование завершено", PEOPLE | PROGRAMME),
        EventKind("review_assigned", "Вам назначена экспертиза", frozenset({"expert"})),
        EventKind(
            "review_concluded", "Экспертный совет вынес решение", PEOPLE | frozenset({"expert"})
        ),
        EventKind(
            "scorecard_changed",
            "Изменилась оценка месяца (KPI)",
            PROGRAMME | frozenset({"curator", "enterprise"}),
        ),
        EventKind(
            "reminder_city_problem_poll", "Нет голосования по городским проблемам", PROGRAMME
        ),
        EventKind(
            "reminder_activity_incomplete", "Мероприятие без анонса, релиза или отчёта", PROGRAMME
        ),
        EventKind(
            "reminder_curator_evaluation",
            "Ожидается оценка куратора",
            PROGRAMME | frozenset({"curator"}),
        ),
        EventKind(
            "reminder_knockout_at_risk",
            "Под угрозой отсекающий показатель",
            PROGRAMME | frozenset({"curator"}),
        ),
    )
}
