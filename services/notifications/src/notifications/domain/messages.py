"""A notice (what happened, for whom) and its Russian text per event kind."""
# ruff: noqa: RUF001  # Russian texts are Cyrillic on purpose

from __future__ import annotations

import hashlib
import hmac
import random
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined

ROUNDS = {"primary": "первичная", "secondary": "вторичная"}
VERDICTS = {
    "approved_for_vote": "допущена к голосованию",
    "approved_for_passport": "допущена к паспортизации",
    "needs_revision": "направлена на доработку",
    "rejected": "отклонена",
    "prioritized": "получила приоритет внедрения",
}
MISSING = {"announcement": "анонс", "press_release": "пресс-релиз", "report": "отчёт"}
CRITERIA = {
    "K1": "меньше 3 упакованных практик",
    "K4": "меньше 5 спикеров",
}

TEMPLATES = {
    "practice_approved_for_vote.subject": (
        "{{ city }}: практика «{{ practice_title }}» допущена к голосованию"
    ),
    "practice_approved_for_vote.body": (
        "Экспертный совет допустил практику «{{ practice_title }}» к рейтинговому голосованию "
        "в городе {{ city }}.\nСкоро вы сможете отдать за неё свой голос."
    ),
    "passport_approved.subject": "{{ city }}: утверждён паспорт практики «{{ practice_title }}»",
    "passport_approved.body": (
        "Паспорт практики «{{ practice_title }}» (версия {{ version }}) утверждён.\n"
        "Практика вошла в общую библиотеку лучших муниципальных практик."
    ),
    "activity_registered.subject": "{{ city }}: мероприятие «{{ title }}» {{ held_on }}",
    "activity_registered.body": (
        "Запланировано мероприятие «{{ title }}» на {{ held_on }}.\n"
        "Не забудьте опубликовать анонс, а после мероприятия — пресс-релиз и отчёт "
        "(список участников и фотографии)."
    ),
    "poll_opened.subject": "{{ city }}: открыто голосование «{{ poll_title }}»",
    "poll_opened.body": (
        "Голосование «{{ poll_title }}» открыто с {{ opens_at }}.\n"
        "Ваш голос определит, какие решения город примет первыми."
    ),
    "poll_closed.subject": "{{ city }}: голосование «{{ poll_title }}» завершено",
    "poll_closed.body": (
        "Голосование «{{ poll_title }}» завершено.\nПроголосовали: {{ distinct_voters }}"
        "{% if turnout %} (явка {{ turnout }} %){% endif %}."
        "{% if leader %}\nПервое место: «{{ leader }}».{% endif %}"
    ),
    "review_assigned.subject": "Вам назначена экспертиза практики «{{ practice_title }}»",
    "review_assigned.body": (
        "Открыта {{ round }} экспертиза практики «{{ practice_title }}» города {{ city }}.\n"
        "Как член Экспертного совета вы можете её оценить."
    ),
    "review_concluded.subject": "{{ city }}: решение по практике «{{ practice_title }}»",
    "review_concluded.body": (
        "По итогам экспертизы ({{ round }}) практика «{{ practice_title }}» {{ verdict }}."
        "{% if rationale %}\nОбоснование: {{ rationale }}{% endif %}"
    ),
    "scorecard_changed.subject": "{{ city }}: показатели за {{ month }} — {{ action }}",
    "scorecard_changed.body": (
        "Показатели города за {{ month }}: {{ action }}."
        "{% if curator %}\nКуратор: {{ curator }}.{% endif %}"
        "{% if reason %}\nПричина: {{ reason }}{% endif %}"
        "\nКарточка показателей доступна в сервисе KPI."
    ),
    "reminder_city_problem_poll.subject": (
        "{{ city }}: в {{ month }} нет голосования по городским проблемам"
    ),
    "reminder_city_problem_poll.body": (
        "Наступило {{ day }}-е число, а голосование жителей по реальным городским проблемам "
        "в {{ month }} ещё не проведено.\nБез него показатель «Голосование по реальным "
        "проблемам города» (вес 20) за месяц равен нулю."
    ),
    "reminder_activity_incomplete.subject": (
        "{{ city }}: у мероприятия «{{ title }}» нет: {{ missing }}"
    ),
    "reminder_activity_incomplete.body": (
        "Мероприятие «{{ title }}» ({{ held_on }}) прошло, но у него нет: {{ missing }}.\n"
        "Мероприятие без анонса и релиза (К2) или без отчёта (К8) обнуляет месяц."
    ),
    "reminder_curator_evaluation.subject": ("{{ city }}: ожидается оценка куратора за {{ month }}"),
    "reminder_curator_evaluation.body": (
        "Месяц {{ month }} завершён. Куратору территории пора дать экспертную оценку "
        "проекта (вес 20) и закрыть месяц."
    ),
    "reminder_knockout_at_risk.subject": (
        "{{ city }}: под угрозой отсекающий показатель {{ criterion }}"
    ),
    "reminder_knockout_at_risk.body": (
        "В {{ month }} у города {{ criterion_text }}: сейчас {{ actual }}, нужно не меньше "
        "{{ required }}.\nЕсли так останется до конца месяца, месяц не будет засчитан."
    ),
}

_templates = Environment(  # noqa: S701  # plain-text mail and inbox texts, never HTML
    loader=DictLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=False
)


@dataclass(frozen=True)
class Notice:
    """Something that happened in a city, for its kind's subscribers (or its addressees)."""

    event_id: str
    city_id: str
    kind: str
    occurred_at: datetime
    data: dict[str, Any]
    addressees: tuple[str, ...] = field(default=())
    traceparent: str = ""

    def render(self) -> tuple[str, str]:
        values = {**self.data, "city": self.data.get("city_name") or self.city_id}
        subject = _templates.get_template(f"{self.kind}.subject").render(values)
        body = _templates.get_template(f"{self.kind}.body").render(values)
        return subject, body


# C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional embeddings,
# overrides and isolates: what could end a header line or disguise the text around it.
UNSAFE_IN_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def single_line(text: str) -> str:
    """The text with every run of control characters replaced by one space."""
    return UNSAFE_IN_ONE_LINE.sub(" ", text)


def has_control_characters(text: str) -> bool:
    return UNSAFE_IN_ONE_LINE.search(text) is not None


def delivery_id(event_id: str, subscription_id: str, channel: str) -> str:
    return hashlib.sha256(f"{event_id}|{subscription_id}|{channel}".encode()).hexdigest()[:32]


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def backoff_delay(attempts: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^(attempts - 1))]."""
    ceiling = min(cap_s, base_s * 2 ** max(0, attempts - 1))
    return rng.uniform(0, ceiling)
