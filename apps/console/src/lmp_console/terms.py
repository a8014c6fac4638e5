"""The programme's Russian terms as the seed names them (docs/domain.md), for the pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from starlette.exceptions import HTTPException

INDICATORS = {
    "packaged": "Упакованная (описанная) городская практика",
    "voting": "Голосование по реальным городским проблемам",
    "improvement": "Ежемесячные факты улучшения работы ОМСУ",
    "external_resources": "Решение городских задач с привлечением внешних ресурсов",
    "expert": "Экспертная оценка проекта",
}
# The thresholds are the scoring policy's, never written here (K1 and K4 name no number).
KNOCKOUTS = {
    "K1": "Упакованных практик меньше минимума",
    "K2": "Отсутствие анонса и релиза по мероприятию",
    "K3": "Нет демонстрации ежемесячных позитивных преобразований",
    "K4": "Спикеров (носителей идеологии и технологии) меньше минимума",
    "K5": "Нет совместных согласованных действий Предприятия и ОМСУ",
    "K6": "Не используется атрибутика проекта ГСР",
    "K7": "Несоблюдение методических рекомендаций и технологии, скорость реакции и корректировка",
    "K8": "Нет отчёта о мероприятии: списков и фото",
}
STATUSES = {
    "open": "месяц идёт",
    "awaiting_curator": "ждёт куратора",
    "closed": "подписан",
}
VERDICTS = {
    "passed": "зачтён",
    "failed": "не зачтён: сработал отсекающий показатель",
    "pending": "ждёт суждения куратора (К6, К7)",
}
OUTCOMES = {"passed": "пройден", "failed": "не пройден", "pending": "ждёт куратора"}
OUTCOME_CLASS = {"passed": "ok", "failed": "bad", "pending": "warn"}
FUNCTIONS = {
    "infrastructure": "качественная инфраструктура",
    "health": "здоровье жителей",
    "safety": "общественная безопасность",
    "employment": "занятость и доходы",
    "education": "образование",
    "culture": "культура, массовый спорт, досуг и молодёжь",
    "social": "социальная защита",
    "ecology": "экология",
    "regional_requirements": "выполнение требований РОИВ",
    "unclassified": "без классификации",
}
ACTIVITY_KINDS = {
    "working_meeting": "рабочая встреча",
    "strategic_session": "стратегическая сессия",
    "council_sitting": "заседание Экспертного совета",
    "charity_event": "благотворительное мероприятие",
    "other": "другое",
}
PARTICIPANTS = {
    "enterprise": "Предприятие",
    "administration": "администрация (ОМСУ)",
    "business": "бизнес",
    "ngo": "НКО",
    "residents": "жители",
}
POLL_KINDS = {
    "practice_rating": "рейтинговое голосование по практикам",
    "city_problem": "голосование по реальной городской проблеме",
    "practice_evaluation": "оценка практики жителями",
}
POLL_METHODS = {
    "single_choice": "один вариант",
    "approval": "одобрение",
    "score": "оценка 0–5",
    "borda": "метод Борда",
    "schulze": "метод Шульце",
}
POLL_STATUSES = {
    "draft": "черновик",
    "scheduled": "назначено",
    "open": "идёт",
    "closing": "подсчёт",
    "closed": "завершено",
}
FACT_VERDICTS = {"": "не рассмотрен", "recognized": "признан", "rejected": "отклонён"}
SOURCE_KINDS = {
    "co_financing_programme": "программа софинансирования",
    "donors": "доноры",
    "public_private_partnership": "МЧП",
    "residents_funds": "средства жителей",
}

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
CITY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def current_month(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


def months_back(month: str, count: int) -> list[str]:
    """`count` months ending with `month`, oldest first."""
    year, number = (int(part) for part in month.split("-"))
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{number:02d}")
        number -= 1
        if number == 0:
            year, number = year - 1, 12
    return found[::-1]


def checked_month(value: str, field: str = "month") -> str:
    if not MONTH.match(value):
        msg = f"Месяц ({field}) указывается как ГГГГ-ММ, например 2026-11, а не «{value[:20]}»."
        raise HTTPException(400, msg)
    return value


def checked_city(value: str) -> str:
    if not CITY.match(value):
        msg = f"Неверный код города «{value[:40]}»: латинские строчные буквы, цифры, дефис."
        raise HTTPException(404, msg)
    return value
