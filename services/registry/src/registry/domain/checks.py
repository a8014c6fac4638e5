"""Input rules shared by the registry's aggregates: each refusal names the field and the fix."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from uuid import NAMESPACE_URL, UUID, uuid5

from lmp_kit.errors import FailedPreconditionError, InvalidArgumentError

FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2100, 12, 31)
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
PERSON_ID = re.compile(r"^\S{1,200}$")
TEXT_MAX = 20_000
MAX_ITEMS = 500


def natural_id(*parts: str) -> UUID:
    return uuid5(NAMESPACE_URL, "lmp:registry:" + ":".join(parts))


def normalized(text: str) -> str:
    return " ".join(text.casefold().split())


def invalid(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message)


def check_text(field: str, value: str, *, minimum: int = 0, maximum: int = TEXT_MAX) -> str:
    stripped = value.strip()
    if len(stripped) < minimum or len(stripped) > maximum:
        if minimum and not stripped:
            msg = f"{field} must not be empty"
        else:
            msg = f"{field} must be {minimum} to {maximum} characters (got {len(stripped)})"
        raise invalid(msg)
    return stripped


def check_choice(field: str, value: str, allowed: Iterable[str]) -> str:
    options = tuple(allowed)
    if value not in options:
        msg = f"{field} {value!r} is not one of: {', '.join(options)}"
        raise invalid(msg)
    return value


def check_date(field: str, value: str) -> str:
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        msg = f"{field} must be a date YYYY-MM-DD, not {value!r}"
        raise invalid(msg) from None
    if not FIRST_DATE <= parsed <= LAST_DATE:
        msg = f"{field} {value} is out of range {FIRST_DATE} to {LAST_DATE}"
        raise invalid(msg)
    return parsed.isoformat()


def check_moment(field: str, value: datetime) -> datetime:
    if value.tzinfo is None:
        msg = f"{field} must carry a time zone"
        raise invalid(msg)
    if not FIRST_DATE <= value.date() <= LAST_DATE:
        msg = f"{field} {value.isoformat()} is out of range {FIRST_DATE} to {LAST_DATE}"
        raise invalid(msg)
    return value


def check_month(field: str, value: str) -> str:
    found = MONTH.fullmatch(value)
    if not found or not FIRST_DATE.year <= int(found.group(1)) <= LAST_DATE.year:
        msg = f"{field} must be YYYY-MM between 2000-01 and 2100-12 (e.g. 2026-11), not {value!r}"
        raise invalid(msg)
    return value


def utc_today() -> date:
    """The registry's clock for "a month that has not begun": the server's UTC date."""
    return datetime.now(UTC).date()


def check_month_begun(field: str, month: str, today: date) -> str:
    """A record of what happened is dated in a month that has begun (UTC)."""
    if month > f"{today:%Y-%m}":
        msg = (
            f"{field} {month} has not begun (today is {today.isoformat()}, UTC): a record of "
            f"what happened is dated in the current month or earlier; record it once it happens"
        )
        raise FailedPreconditionError(msg)
    return month


def check_amount(field: str, value: str, *, allow_zero: bool = False) -> str:
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        msg = f"{field} must be a decimal number such as '1500.00', not {value!r}"
        raise invalid(msg) from None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "more than zero"
        msg = f"{field} must be {bound}, not {value!r}"
        raise invalid(msg)
    return str(amount)


def check_number(field: str, value: str) -> str:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        msg = f"{field} must be a decimal number, not {value!r}"
        raise invalid(msg) from None
    if not number.is_finite():
        msg = f"{field} must be a finite number, not {value!r}"
        raise invalid(msg)
    return str(number)


def check_currency(field: str, value: str) -> str:
    if not CURRENCY.fullmatch(value):
        msg = f"{field} must be an ISO 4217 code of 3 capital letters (e.g. RUB), not {value!r}"
        raise invalid(msg)
    return value


def check_count(field: str, value: int, *, minimum: int = 0, maximum: int = 10**9) -> int:
    if not minimum <= value <= maximum:
        msg = f"{field} must be between {minimum} and {maximum}, not {value}"
        raise invalid(msg)
    return value


def check_people(field: str, people: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    checked: list[dict[str, str]] = []
    seen: set[str] = set()
    for number, person in enumerate(people, start=1):
        person_id = person.get("person_id", "").strip()
        if not PERSON_ID.fullmatch(person_id):
            msg = f"{field} #{number} needs a person_id (1-200 characters, no spaces)"
            raise invalid(msg)
        if person_id in seen:
            msg = f"{field} lists person {person_id!r} twice"
            raise invalid(msg)
        seen.add(person_id)
        name = check_text(f"{field} #{number} name", person.get("name", ""), minimum=1, maximum=200)
        checked.append({"person_id": person_id, "name": name})
    if len(checked) > MAX_ITEMS:
        msg = f"{field} may list at most {MAX_ITEMS} people"
        raise invalid(msg)
    return checked


def check_ids(field: str, values: Iterable[str]) -> list[str]:
    checked: list[str] = []
    for value in values:
        try:
            as_uuid = str(UUID(value))
        except ValueError:
            msg = f"{field} must hold UUIDs, not {value!r}"
            raise invalid(msg) from None
        if as_uuid not in checked:
            checked.append(as_uuid)
    return checked


def check_texts(field: str, values: Iterable[str], *, maximum: int = 500) -> list[str]:
    checked: list[str] = []
    for number, value in enumerate(values, start=1):
        text = check_text(f"{field} #{number}", value, minimum=1, maximum=maximum)
        if normalized(text) in {normalized(c) for c in checked}:
            msg = f"{field} lists {text!r} twice"
            raise invalid(msg)
        checked.append(text)
    return checked
