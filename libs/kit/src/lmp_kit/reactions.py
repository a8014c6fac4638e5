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
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from lmp.common.v1 import events_pb2_grpc
from prometheus_client import Counter, Gauge

from lmp_kit.domain import ServiceApplication
from lmp_kit.envelope import Envelope
from lmp_kit.errors import DomainError
from lmp_kit.eventlog import read_events
from lmp_kit.kafka import FastPathWatch

log = logging.getLogger(__name__)

READ_LIMIT = 500
CONFLICT_RETRIES = 8
# Kafka wakes a reactor within a fraction of a second of an event (the relay's batch interval
# and a fetch); an event a round found that is older than this, without a wake, was missed.
FAST_PATH_LATENCY_S = 1.0

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


class Reactor:
    def __init__(
        self,
        *,
        reaction: Reaction,
        app: ServiceApplication,
        upstream_target: str,
        topic: str,
        token: Callable[[], str],
    ) -> None:
        self.reaction = reaction
        self.upstream = reaction.upstream
        self.app = app
        self.upstream_target = upstream_target
        self.topic = topic
        self.token = token
        self.wake = asyncio.Event()
        self.watch = FastPathWatch()

    def position(self) -> int:
        return self.app.tracking.max_tracking_id(self.upstream) or 0

    async def catch_up(self, *, woken: bool = True) -> int:
        """React to what the upstream log held when the round began (only the event types
        reacted to are sent), then record the position past the rest.

        A round that Kafka did not wake (`woken=False`) and that still finds events to react
        to, older than the fast path takes, tells the watch: Kafka missed them."""
        reacted = 0
        late: list[int] = []
        target: int | None = None
        async with grpc.aio.insecure_channel(self.upstream_target) as channel:
            stub: events_pb2_grpc.EventLogAsyncStub = events_pb2_grpc.EventLogStub(channel)
            while True:
                after = await asyncio.to_thread(self.position)
                response = await read_events(
                    stub,
                    after,
                    limit=READ_LIMIT,
                    event_types=self.reaction.event_types,
                    token=self.token(),
                )
                envelopes = [Envelope.from_proto(e) for e in response.events]
                late += self._late(envelopes)
                reacted += await asyncio.to_thread(
                    self.react_in_order,
                    envelopes,
                    response.next_after if response.next_after > after else 0,
                )
                if target is None:
                    target = response.max_notification_id
                    self.watch.observed(target)
                if response.next_after <= after or response.next_after >= target:
                    break
        REACTION_POSITION.labels(upstream=self.upstream).set(await asyncio.to_thread(self.position))
        if not woken:
            self.watch.missed(late)
        return reacted

    def _late(self, envelopes: Sequence[Envelope]) -> list[int]:
        now = datetime.now(UTC)
        return [
            e.notification_id
            for e in envelopes
            if e.event_type in self.reaction.event_types
            and (now - e.occurred_at).total_seconds() > FAST_PATH_LATENCY_S
        ]

    def react_in_order(self, envelopes: Sequence[Envelope], examined: int = 0) -> int:
        """React to each event in order; then the position moves past everything examined
        that needed no reaction (other event types, or ids the server passed over)."""
        reacted = 0
        passed_over: int | None = None
        for envelope in envelopes:
            if envelope.event_type not in self.reaction.event_types:
                passed_over = envelope.notification_id
                continue
            outcome = self._react_once(envelope)
            if outcome is None:
                return reacted
            reacted += outcome
            passed_over = None
        last = envelopes[-1].notification_id if envelopes else 0
        if examined > last:
            passed_over = examined
        if passed_over is not None:
            with contextlib.suppress(IntegrityError):
                self.app.save_tracked(Tracking(self.upstream, passed_over))
        return reacted

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
                if self.position() >= envelope.notification_id:
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

    async def run(self, stopping: asyncio.Event, interval_s: float) -> None:
        while not stopping.is_set():
            woken = self.wake.is_set()
            self.wake.clear()
            try:
                reacted = await self.catch_up(woken=woken)
            except grpc.aio.AioRpcError as error:
                log.warning(
                    "cannot read %s's event log: %s %s",
                    self.upstream,
                    error.code().name,
                    error.details(),
                )
            except Exception:
                log.exception("reacting to %s failed; retrying", self.upstream)
            else:
                if reacted:
                    log.info("reacted to %d %s events", reacted, self.upstream)
            waits = {
                asyncio.ensure_future(stopping.wait()),
                asyncio.ensure_future(self.wake.wait()),
            }
            _, pending = await asyncio.wait(
                waits, timeout=interval_s, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter

    def subscribe(self, broker: KafkaBroker, group_id: str, session_timeout_ms: int) -> None:
        """Kafka only says that something new exists upstream; the log says what."""
        subscriber = broker.subscriber(
            self.topic,
            group_id=f"{group_id}.reactions",
            auto_offset_reset="latest",
            batch=True,
            max_records=READ_LIMIT,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=max(100, session_timeout_ms // 4),
            ack_policy=AckPolicy.ACK,
        )

        async def handle(bodies: list[object]) -> None:
            if any(self.concerns(body) for body in bodies):
                self.wake.set()

        subscriber(handle)

    def concerns(self, body: object) -> bool:
        """Whether a message may be an event this reactor reacts to (what cannot be read
        wakes it too: the log decides). A voting topic full of ballots then wakes the
        registry only for `Poll.Closed`."""
        try:
            if isinstance(body, bytes | str):
                found = json.loads(body).get("event_type")
            elif isinstance(body, Mapping):
                found = body.get("event_type")
            else:
                return True
        except (ValueError, AttributeError):
            return True
        return not isinstance(found, str) or found in self.reaction.event_types
