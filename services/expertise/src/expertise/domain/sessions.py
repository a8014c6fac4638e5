from __future__ import annotations

import re
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.errors import AlreadyExistsError, FailedPreconditionError, InvalidArgumentError

from expertise.domain.council import Council

AGENDA_MAX = 200
MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
MINUTES_MAX = 50_000


class CouncilSession(CityAggregate):
    scheduled_on: str
    agenda: list[str]
    held_on: str | None
    attendees: list[str]
    quorum_required: int
    quorum_met: bool
    minutes: str

    @staticmethod
    def create_id(city_id: str, scheduled_on: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"lmp:expertise:session:{city_id}:{scheduled_on}")

    @classmethod
    def schedule(cls, city_id: str, scheduled_on: str, agenda: list[str]) -> CouncilSession:
        check_city_id(city_id)
        return cls(
            city_id=city_id, scheduled_on=check_date(scheduled_on), agenda=check_agenda(agenda)
        )

    @event("Scheduled")
    def __init__(self, city_id: str, scheduled_on: str, agenda: list[str]) -> None:
        self.city_id = city_id
        self.scheduled_on = scheduled_on
        self.agenda = list(agenda)
        self.held_on = None
        self.attendees = []
        self.quorum_required = 0
        self.quorum_met = False
        self.minutes = ""

    def hold(self, held_on: str, attendees: list[str], minutes: str, council: Council) -> None:
        if self.held_on is not None:
            msg = f"the session of {self.scheduled_on} in {self.city_id!r} was already held"
            raise AlreadyExistsError(msg)
        held_on = check_date(held_on)
        if held_on < self.scheduled_on:
            msg = f"a session scheduled on {self.scheduled_on} cannot be held on {held_on}"
            raise InvalidArgumentError(msg)
        present = sorted(set(attendees))
        strangers = [p for p in present if not council.is_member(p)]
        if strangers:
            msg = f"attendees must be council members; not members: {', '.join(strangers)}"
            raise InvalidArgumentError(msg)
        minutes = minutes.strip()
        if len(minutes) > MINUTES_MAX:
            msg = f"minutes must be at most {MINUTES_MAX} characters"
            raise InvalidArgumentError(msg)
        required = council.quorum_required()
        self._hold(
            held_on=held_on,
            agenda=list(self.agenda),
            attendees=present,
            quorum_met=len(present) >= required,
            quorum_required=required,
            minutes=minutes,
        )

    @event("Held")
    def _hold(  # noqa: PLR0913  # the payload of docs/events.md and the minutes
        self,
        *,
        held_on: str,
        agenda: list[str],
        attendees: list[str],
        quorum_met: bool,
        quorum_required: int,
        minutes: str,
    ) -> None:
        del agenda
        self.held_on = held_on
        self.attendees = list(attendees)
        self.quorum_met = quorum_met
        self.quorum_required = quorum_required
        self.minutes = minutes

    def check_may_decide(self, city_id: str, practice_id: str) -> None:
        if self.held_on is None:
            msg = f"the session of {self.scheduled_on} has not been held yet"
            raise FailedPreconditionError(msg)
        if not self.quorum_met:
            msg = (
                f"the session of {self.held_on} had no quorum ({len(self.attendees)} of "
                f"{self.quorum_required} required members present): it cannot conclude a review"
            )
            raise FailedPreconditionError(msg)
        if city_id != self.city_id or practice_id not in self.agenda:
            msg = f"practice {practice_id} is not on the agenda of the session of {self.held_on}"
            raise FailedPreconditionError(msg)


def check_date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        msg = f"a date must be YYYY-MM-DD (e.g. 2026-12-01), not {value!r}"
        raise InvalidArgumentError(msg) from None


def check_month(field: str, value: str) -> str:
    if not MONTH.fullmatch(value) or not 1 <= int(value[5:]) <= 12:  # noqa: PLR2004  # months of a year
        msg = f"{field} must be YYYY-MM (e.g. 2026-12), not {value!r}"
        raise InvalidArgumentError(msg)
    return value


def check_agenda(agenda: list[str]) -> list[str]:
    if not agenda or len(agenda) > AGENDA_MAX:
        msg = f"an agenda lists 1 to {AGENDA_MAX} practices or initiatives"
        raise InvalidArgumentError(msg)
    items: list[str] = []
    for item in agenda:
        try:
            practice_id = str(UUID(item))
        except ValueError:
            msg = f"agenda items are practice ids (UUIDs), not {item[:80]!r}"
            raise InvalidArgumentError(msg) from None
        if practice_id not in items:
            items.append(practice_id)
    return items
