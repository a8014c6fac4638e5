"""Read-your-writes across the read models: consistency tokens.

A command's answer carries response metadata `lmp-consistency-token`, e.g. `registry=1042`: the
notification id of the last event the command recorded in its service's log (merged with the
token the request carried, so a client that always sends the last token it got keeps one value
for every service it wrote to: `registry=1042,voting=77`).

A request that carries the metadata is answered only once every read model and reaction of the
serving service that follows one of the named services has examined that service's log up to the
named position: the call waits, bounded by its deadline and by `MAX_WAIT_S`, and when the model is
still behind it answers UNAVAILABLE with a retry pushback ("not yet"), never NOT_FOUND or
FAILED_PRECONDITION. A service follows itself where its lists are read models of its own events
(registry's problems, voting's polls), and others where it holds their facts (expertise holds the
registry's practices): the same token works for both. Names of services the serving one does not
follow are passed over: its answer does not depend on them.

Reads served from the event store itself (a record by id) are consistent without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lmp_kit.errors import InvalidArgumentError, NotYetError
from lmp_kit.settings import SERVICES

if TYPE_CHECKING:
    from lmp_kit.follow import LogFollower

HEADER = "lmp-consistency-token"
# A read model behind its command catches up within a second or two; a caller with a longer
# deadline is told to come back rather than held.
MAX_WAIT_S = 5.0
# What the call keeps of its deadline for its own work after waiting.
DEADLINE_MARGIN_S = 0.05
_PART = re.compile(r"^([a-z]+)=([0-9]{1,18})$")
SHOWN_CHARACTERS = 80


@dataclass(frozen=True)
class ConsistencyToken:
    """The notification id, per service, that a read must reflect."""

    positions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, values: Sequence[str]) -> ConsistencyToken:
        """One or more metadata values, each `service=id[,service=id...]`; the largest id per
        service counts. Anything else is INVALID_ARGUMENT naming the metadata."""
        positions: dict[str, int] = {}
        for value in values:
            for part in value.split(","):
                found = _PART.match(part.strip())
                if found is None or found.group(1) not in SERVICES:
                    msg = (
                        f"metadata {HEADER} must look like 'registry=1042,voting=77' "
                        f"(services: {', '.join(SERVICES)}), not {value[:SHOWN_CHARACTERS]!r}: "
                        "send back the value an earlier answer carried"
                    )
                    raise InvalidArgumentError(msg)
                service, position = found.group(1), int(found.group(2))
                positions[service] = max(position, positions.get(service, 0))
        return cls(positions)

    def merged(self, service: str, position: int) -> ConsistencyToken:
        if position <= self.positions.get(service, 0):
            return self
        return ConsistencyToken({**self.positions, service: position})

    def __str__(self) -> str:
        return ",".join(f"{s}={p}" for s, p in sorted(self.positions.items()))

    def __bool__(self) -> bool:
        return bool(self.positions)


@dataclass
class Written:
    """The newest notification id a call's commands recorded (0: none)."""

    position: int = 0


_written: ContextVar[Written | None] = ContextVar("lmp_written", default=None)


@contextlib.contextmanager
def recording() -> Iterator[Written]:
    """Collect, for the answer's token, what the code run inside records: the box is shared
    with the worker threads a use case runs in (asyncio.to_thread copies the context)."""
    written = Written()
    reset = _written.set(written)
    try:
        yield written
    finally:
        _written.reset(reset)


def wrote(notification_id: int) -> None:
    """The current call recorded an event at `notification_id` (the event store says so for
    every save; a writer that saves on another thread says it for its caller)."""
    written = _written.get()
    if written is not None and notification_id > written.position:
        written.position = notification_id


def token_of(metadata: Sequence[tuple[str, str | bytes]]) -> ConsistencyToken:
    values = [v if isinstance(v, str) else v.decode() for k, v in metadata if k == HEADER]
    return ConsistencyToken.parse(values) if values else ConsistencyToken()


class Consistency:
    """The followers of one service process, by upstream: what a token waits for."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.followers: dict[str, list[LogFollower]] = {}

    def add(self, followers: Sequence[LogFollower]) -> None:
        for follower in followers:
            self.followers.setdefault(follower.upstream, []).append(follower)

    async def wait(self, token: ConsistencyToken, budget_s: float | None) -> None:
        """Return once every follower of a service in `token` has examined its log up to the
        token's position; NotYetError (UNAVAILABLE) when the budget runs out first."""
        budget = MAX_WAIT_S if budget_s is None else min(MAX_WAIT_S, budget_s - DEADLINE_MARGIN_S)
        deadline = time.monotonic() + budget
        for upstream, position in token.positions.items():
            for follower in self.followers.get(upstream, ()):
                remaining = deadline - time.monotonic()
                if not await follower.reach(position, remaining):
                    msg = (
                        f"{self.service} has not yet applied {upstream}'s events up to "
                        f"{position} (it is at {follower.examined}): retry shortly with the same "
                        f"{HEADER}"
                    )
                    raise NotYetError(msg)

    def __len__(self) -> int:
        return sum(len(f) for f in self.followers.values())


async def sleep_until(deadline: float, seconds: float) -> None:
    await asyncio.sleep(max(0.0, min(seconds, deadline - time.monotonic())))
