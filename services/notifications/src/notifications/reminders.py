"""Reminders computed from the facts the consumers keep, on a schedule.

Each reminder has a stable id (rule, city, month or activity), used as its event id: however
often the schedule runs, a reminder reaches a subscription's channel once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from lmp_kit.metrics import WORKER_FAILURES
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from notifications.config import DeliverySettings
from notifications.domain.messages import CRITERIA, MISSING, Notice
from notifications.projections import ACTIVITIES, CITIES, POLLS, PRACTICES, fan_out

log = logging.getLogger(__name__)

Document = dict[str, Any]
WORKER = "reminders"
SPEAKERS_REQUIRED = 5
PASSPORTS_REQUIRED = 3


@dataclass
class CityFacts:
    city_id: str
    name: str = ""
    city_problem_poll_months: set[str] = field(default_factory=set)
    activities: list[Document] = field(default_factory=list)
    approved_passports: int = 0


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(day: date) -> str:
    return month_of(day.replace(day=1) - timedelta(days=1))


def reminder(city: CityFacts, kind: str, key: str, now: datetime, **data: Any) -> Notice:  # noqa: ANN401  # template values
    return Notice(
        event_id=str(
            uuid5(NAMESPACE_URL, f"lmp:notifications:reminder:{kind}:{city.city_id}:{key}")
        ),
        city_id=city.city_id,
        kind=kind,
        occurred_at=now,
        data={"city_name": city.name or city.city_id, **data},
    )


def due_reminders(city: CityFacts, now: datetime, settings: DeliverySettings) -> list[Notice]:
    today = now.astimezone(UTC).date()
    month = month_of(today)
    due = [
        reminder(
            city,
            "reminder_curator_evaluation",
            previous_month(today),
            now,
            month=previous_month(today),
        )
    ]
    late_in_month = today.day >= settings.reminder_day
    if late_in_month and month not in city.city_problem_poll_months:
        due.append(
            reminder(
                city,
                "reminder_city_problem_poll",
                month,
                now,
                month=month,
                day=settings.reminder_day,
            )
        )
    held_this_month = [a for a in city.activities if str(a.get("held_on", "")).startswith(month)]
    speakers = {s for a in held_this_month for s in a.get("speakers", [])}
    if late_in_month and len(speakers) < SPEAKERS_REQUIRED:
        due.append(
            _knockout(city, "K4", month, now, actual=len(speakers), required=SPEAKERS_REQUIRED)
        )
    if late_in_month and city.approved_passports < PASSPORTS_REQUIRED:
        due.append(
            _knockout(
                city, "K1", month, now, actual=city.approved_passports, required=PASSPORTS_REQUIRED
            )
        )
    overdue = (today - timedelta(days=settings.activity_grace_days)).isoformat()
    for activity in city.activities:
        missing = [MISSING[p] for p in MISSING if not activity.get(f"has_{p}")]
        held_on = str(activity.get("held_on", ""))
        if missing and held_on and held_on <= overdue:
            due.append(
                reminder(
                    city,
                    "reminder_activity_incomplete",
                    str(activity["_id"]),
                    now,
                    activity_id=str(activity["_id"]),
                    title=activity.get("title", ""),
                    held_on=held_on,
                    missing=", ".join(missing),
                )
            )
    return due


def _knockout(  # noqa: PLR0913  # the criterion and its numbers, each named
    city: CityFacts, criterion: str, month: str, now: datetime, *, actual: int, required: int
) -> Notice:
    return reminder(
        city,
        "reminder_knockout_at_risk",
        f"{month}:{criterion}",
        now,
        month=month,
        criterion=criterion,
        criterion_text=CRITERIA[criterion],
        actual=actual,
        required=required,
    )


async def city_facts(client: AsyncMongoClient[Document], database: str) -> list[CityFacts]:
    db = client[database]
    cities: dict[str, CityFacts] = {}

    def of(city_id: str) -> CityFacts:
        return cities.setdefault(city_id, CityFacts(city_id))

    async for doc in db[CITIES].find():
        of(doc["_id"]).name = str(doc.get("name", ""))
    async for doc in db[POLLS].find({"kind": "city_problem"}):
        facts = of(doc["city_id"])
        for key in ("opened_month", "closed_month"):
            if doc.get(key):
                facts.city_problem_poll_months.add(doc[key])
    async for doc in db[ACTIVITIES].find():
        of(doc["city_id"]).activities.append(doc)
    async for doc in db[PRACTICES].find({"passport_approved": True}):
        of(doc["city_id"]).approved_passports += 1
    return [c for c in cities.values() if c.city_id != "*"]


async def send_reminders(
    client: AsyncMongoClient[Document], database: str, now: datetime, settings: DeliverySettings
) -> int:
    """Queue the reminders due now; a city whose facts cannot be read is recorded and passed
    over, and the others get theirs."""
    created = 0
    db = client[database]
    for city in await city_facts(client, database):
        try:
            due = due_reminders(city, now, settings)
        except Exception:  # one city's odd facts stop no other city's reminders
            WORKER_FAILURES.labels(worker=WORKER).inc()
            log.exception("cannot compute the reminders of %s", city.city_id)
            continue
        for notice in due:
            async with client.start_session() as session:
                created += len(
                    await session.with_transaction(
                        lambda s, n=notice: fan_out(db, n, s, subscribed_before=False)  # type: ignore[misc]  # bound per notice
                    )
                )
    return created


async def remind_forever(
    client: AsyncMongoClient[Document],
    database: str,
    settings: DeliverySettings,
    stopping: asyncio.Event,
    clock: Callable[[], datetime],
) -> None:
    while not stopping.is_set():
        try:
            created = await send_reminders(client, database, clock(), settings)
        except PyMongoError as error:
            log.warning("cannot compute reminders: %s", error)
        except Exception:  # the schedule runs again next round whatever failed
            WORKER_FAILURES.labels(worker=WORKER).inc()
            log.exception("cannot compute reminders")
        else:
            if created:
                log.info("queued %d reminder deliveries", created)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), settings.reminder_interval_s)
