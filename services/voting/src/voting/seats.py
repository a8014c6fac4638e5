"""Seats: a poll that states its electorate admits at most that many voters, exactly, however
many API replicas take ballots at once (docs/decisions/0003-voting.md, "Turnout never exceeds
the electorate").

A voter's first ballot of such a poll takes the next seat, numbered 1 to the electorate, in the
same transaction as the ballot: a seat is a key of the event store (its own aggregate id, at
version 1), so two replicas that take the same seat cannot both commit, and a ballot refused or
rolled back holds none. Seats are taken in order and only on commit, so the seats taken are
always 1 to n, and n is found with a binary search over which seats exist. A re-vote keeps the
voter's seat; a ballot that finds every seat taken is refused before anything is written.

Until voting has a seat event of its own (it needs a contract), a seat is stored as a request
key of the kit (`RequestKey.Claimed`, kind `ballot seat`, result the ballot) under a key no
client can send (`#seat:<poll>:<n>`; client keys start with a letter or digit).
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from lmp_kit.errors import FailedPreconditionError
from lmp_kit.idempotency import RequestKey

SEAT_KIND = "ballot seat"


class ElectorateReachedError(FailedPreconditionError):
    def __init__(self, poll_id: UUID, electorate: int) -> None:
        super().__init__(
            f"poll {poll_id} has received as many ballots as its electorate ({electorate}): it "
            "admits no further voter (a voter who has voted may still vote again where the "
            "poll allows it)"
        )


class Seats:
    """The seats of polls, in the event store of one voting application."""

    def __init__(self, app: Application[UUID], service: str) -> None:
        self.app = app
        self.service = service

    @staticmethod
    def key(poll_id: UUID, number: int) -> str:
        return f"#seat:{poll_id}:{number}"

    def is_taken(self, city_id: str, poll_id: UUID, number: int) -> bool:
        seat = RequestKey.create_id(self.service, city_id, self.key(poll_id, number))
        return bool(self.app.recorder.select_events(seat, limit=1))

    def taken(self, city_id: str, poll_id: UUID, electorate: int) -> int:
        """How many seats of the poll are taken: the first free one, less one."""
        low, high = 1, electorate + 1  # seat electorate + 1 is never taken
        while low < high:
            middle = (low + high) // 2
            if self.is_taken(city_id, poll_id, middle):
                low = middle + 1
            else:
                high = middle
        return low - 1

    def seat(self, city_id: str, poll_id: UUID, number: int, ballot_id: UUID) -> list[Any]:
        """The events that take seat `number` for the ballot."""
        seat = RequestKey(
            service=self.service,
            city_id=city_id,
            request_id=self.key(poll_id, number),
            kind=SEAT_KIND,
            fingerprint=hashlib.sha256(str(ballot_id).encode()).hexdigest(),
            result_id=str(ballot_id),
        )
        return list(seat.collect_events())
