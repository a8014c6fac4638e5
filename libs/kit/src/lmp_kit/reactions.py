"""Reactions: another service's events become commands on this service's own aggregates.

The new events and the tracking record (upstream, notification id) are written in one
event-store transaction by the eventsourcing library, so an event reacted to once is never
reacted to again. The library tracks a high-water mark, so reactions follow the upstream log
in order: Kafka only wakes the reactor, and what it applies is read from the upstream's
EventLog, the source of truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking
from faststream.kafka import KafkaBroker
from prometheus_client import Counter, Gauge

from lmp_kit.domain import ServiceApplication
from lmp_kit.envelope import Envelope
from lmp_kit.errors import DomainError
from lmp_kit.follow import Applied, LogFollower

log = logging.getLogger(__name__)

CONFLICT_RETRIES = 8

REACTIONS_APPLIED = Counter(
    "lmp_reactions_applied_total", "Upstream events this service reacted to", ["upstream"]
)
REACTIONS_REFUSED = Counter(
    "lmp_reactions_refused_total",
    "Upstream events whose reaction the domain refused (logged, then passed over)",
    ["upstream"],
)
REACTIONS_POSTPONED = Counter(
    "lmp_reactions_postponed_total",
    "Reactions left for the next round: the aggregates they change kept changing under them",
    ["upstream"],
)
REACTION_POSITION = Gauge(
    "lmp_reaction_position", "Upstream notification id reacted to so far", ["upstream"]
)

React = Callable[[Envelope], Sequence[Aggregate]]


@dataclass(frozen=True)
class Reaction:
    """How a service reacts to one upstream service's events, by event type.

    One per upstream: the upstream's name is the tracking record's name, a single position.
    """

    upstream: str
    handlers: Mapping[str, React]

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(self.handlers)

    def react(self, envelope: Envelope) -> Sequence[Aggregate]:
        return self.handlers[envelope.event_type](envelope)


class Reactor(LogFollower):
    """Follows an upstream into commands on this service's aggregates; Kafka only wakes it."""

    kind = "reaction"

    def __init__(
        self,
        *,
        reaction: Reaction,
        app: ServiceApplication,
        upstream_target: str,
        topic: str,
        token: Callable[[], str],
    ) -> None:
        super().__init__(
            upstream=reaction.upstream,
            event_types=reaction.event_types,
            upstream_target=upstream_target,
            topic=topic,
            token=token,
        )
        self.reaction = reaction
        self.app = app

    def tracked(self) -> int:
        return self.app.tracking.max_tracking_id(self.upstream) or 0

    async def position(self) -> int:
        return await asyncio.to_thread(self.tracked)

    async def apply_page(
        self, envelopes: Sequence[Envelope], path: str, *, through: int = 0
    ) -> Applied:
        del path, through  # the log is the only path a reaction applies; its tracking moves
        return await asyncio.to_thread(self.react_in_order, envelopes)

    async def advance(self, position: int) -> None:
        await asyncio.to_thread(self._pass_over, position)

    def _pass_over(self, position: int) -> None:
        """Everything up to `position` needed no reaction (other event types, or ids the
        server passed over)."""
        if position > self.tracked():
            with contextlib.suppress(IntegrityError):  # another replica moved on first
                self.app.save_tracked(Tracking(self.upstream, position))

    def reported(self, position: int) -> None:
        REACTION_POSITION.labels(upstream=self.upstream).set(position)

    def react_in_order(self, envelopes: Sequence[Envelope]) -> Applied:
        """React to each event in order; stop short at one whose reaction is postponed."""
        handled: list[int] = []
        reacted = 0
        for envelope in envelopes:
            if envelope.event_type not in self.reaction.event_types:
                continue
            outcome = self._react_once(envelope)
            if outcome is None:
                return Applied(handled, reacted, complete=False)
            handled.append(envelope.notification_id)
            reacted += outcome
        return Applied(handled, reacted)

    def _react_once(self, envelope: Envelope) -> int | None:
        """1 if it changed something, 0 if not, None if another replica got there first or
        the aggregates kept changing under it (then it is not tracked: the next round, from
        the same position, reacts again; a conflict is never a reason to pass an event over)."""
        tracking = Tracking(self.upstream, envelope.notification_id)
        for attempt in range(CONFLICT_RETRIES):
            try:
                changed = self.reaction.react(envelope)
            except DomainError as error:
                self._refused(envelope, error.message)
                changed = ()
            try:
                self.app.save_tracked(tracking, *changed)
            except IntegrityError:
                if self.tracked() >= envelope.notification_id:
                    return None
                # An aggregate changed meanwhile (a command on it): react again on its new
                # state, after a short randomized pause so the command's burst can pass.
                time.sleep(random.uniform(0, min(1.0, 0.02 * 2**attempt)))  # noqa: S311  # jitter
                continue
            REACTIONS_APPLIED.labels(upstream=self.upstream).inc(1 if changed else 0)
            return 1 if changed else 0
        log.warning(
            "postponed the reaction to %s %s #%d: its aggregates changed under it %d times",
            self.upstream,
            envelope.event_type,
            envelope.notification_id,
            CONFLICT_RETRIES,
        )
        REACTIONS_POSTPONED.labels(upstream=self.upstream).inc()
        return None

    def _refused(self, envelope: Envelope, reason: str) -> None:
        log.warning(
            "refused to react to %s %s #%d: %s",
            self.upstream,
            envelope.event_type,
            envelope.notification_id,
            reason,
        )
        REACTIONS_REFUSED.labels(upstream=self.upstream).inc()

    def subscribe(self, broker: KafkaBroker, group_id: str, session_timeout_ms: int) -> None:
        """Kafka only says that something new exists upstream; the log says what."""
        subscriber = self.kafka_subscriber(
            broker,
            group_id=f"{group_id}.reactions.{self.upstream}",
            session_timeout_ms=session_timeout_ms,
            # A wake needs no history: the catch-up at start reads the log up to its head.
            auto_offset_reset="latest",
        )

        async def handle(bodies: list[object]) -> None:
            if any(self.concerns(body) for body in bodies):
                self.wake.set()

        subscriber(handle)
