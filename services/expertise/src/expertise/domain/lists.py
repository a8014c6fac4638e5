from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.errors import FailedPreconditionError, InvalidArgumentError

LIST_KINDS = ("for_vote", "for_passport", "priority")
LIST_OF_VERDICT = {
    "approved_for_vote": "for_vote",
    "approved_for_passport": "for_passport",
    "prioritized": "priority",
}
PASSPORT_MINIMUM = 3


class ApprovedList(CityAggregate):
    """A city's list approved by the council: for the vote, for passport, or by priority."""

    kind: str
    entries: list[dict[str, Any]]
    closed: bool

    @staticmethod
    def create_id(city_id: str, kind: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"lmp:expertise:list:{city_id}:{kind}")

    @classmethod
    def start(cls, city_id: str, kind: str) -> ApprovedList:
        check_city_id(city_id)
        return cls(city_id=city_id, kind=check_list_kind(kind))

    @event("Started")
    def __init__(self, city_id: str, kind: str) -> None:
        self.city_id = city_id
        self.kind = kind
        self.entries = []
        self.closed = False

    def enter(self, practice_id: str, review_id: str, priority_rank: int | None) -> None:
        self.check_open()
        if any(e["practice_id"] == practice_id for e in self.entries):
            return
        if priority_rank is not None and any(
            e["priority_rank"] == priority_rank for e in self.entries
        ):
            msg = (
                f"priority rank {priority_rank} is already taken in the priority list of "
                f"{self.city_id!r}"
            )
            raise FailedPreconditionError(msg)
        self._enter(practice_id=practice_id, review_id=review_id, priority_rank=priority_rank)

    @event("Entered")
    def _enter(self, practice_id: str, review_id: str, priority_rank: int | None) -> None:
        self.entries.append(
            {"practice_id": practice_id, "review_id": review_id, "priority_rank": priority_rank}
        )

    def check_open(self) -> None:
        if self.closed:
            msg = f"the {self.kind} list of {self.city_id!r} is already closed"
            raise FailedPreconditionError(msg)

    def close(self) -> None:
        self.check_open()
        if self.kind == "for_passport" and len(self.entries) < PASSPORT_MINIMUM:
            msg = (
                f"the methodology requires at least {PASSPORT_MINIMUM} own realized practices "
                f"approved for passport before the stage-3 list closes; {self.city_id!r} has "
                f"{len(self.entries)}"
            )
            raise FailedPreconditionError(msg)
        if not self.entries:
            msg = f"the {self.kind} list of {self.city_id!r} is empty: nothing to close"
            raise FailedPreconditionError(msg)
        self._close(entries=self.ordered())

    @event("Closed")
    def _close(self, entries: list[dict[str, Any]]) -> None:
        del entries
        self.closed = True

    def ordered(self) -> list[dict[str, Any]]:
        if self.kind == "priority":
            return sorted(self.entries, key=lambda e: e["priority_rank"])
        return list(self.entries)


def check_list_kind(kind: str) -> str:
    if kind not in LIST_KINDS:
        msg = f"list kind must be one of {', '.join(LIST_KINDS)}, not {kind!r}"
        raise InvalidArgumentError(msg)
    return kind
