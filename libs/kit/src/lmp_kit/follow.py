"""One engine for following an upstream service's event log, at least once.

The upstream's `EventLog.ReadEvents` is the truth; Kafka is the fast path. A follower catches up
from the log at start, whenever Kafka gives it reason to (a wake, a new partition assignment),
and periodically; each round reads pages of the event types it takes, applies them with their
tracking record, and moves its position past what it examined. What differs between a read
model's consumer (`lmp_kit.consumer.TrackedConsumer`: MongoDB, tracking blocks, applies Kafka's
messages itself) and a reaction (`lmp_kit.reactions.Reactor`: commands on the service's own
aggregates, tracked in its event store, woken by Kafka) is only where the effect and the
tracking record are written: the hooks below.

A periodic round reads only up to the head the previous round saw: Kafka has had a whole
interval to deliver those events, so whatever such a round still applies is what Kafka missed,
and the `FastPathWatch` hears of it (the Kafka client is re-created when it stalls). Reading the
newest events as well would race the fast path for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from aiokafka import ConsumerRebalanceListener
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from lmp.common.v1 import events_pb2, events_pb2_grpc
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from lmp_kit.envelope import Envelope
from lmp_kit.eventlog import read_events
from lmp_kit.kafka import FastPathWatch
from lmp_kit.metrics import FOLLOWER_AHEAD

log = logging.getLogger(__name__)

READ_LIMIT = 500
# How often a process without the follow loop reads a stored position a caller waits for.
STORED_POSITION_POLL_S = 0.05


@dataclass(frozen=True)
class Applied:
    """What one page did: the ids it handled, how many it counts, and whether it handled the
    whole page (a follower that stops short keeps its position there and tries again)."""

    notification_ids: Sequence[int]
    counted: int
    complete: bool = True
    # The position moved to the page's end with its effects, in one transaction.
    advanced: bool = False


class _ReadAhead:
    """At most one page read ahead of the one being applied; a page asked for elsewhere (the
    position skipped on) is read afresh and the one ahead dropped."""

    def __init__(
        self, read: Callable[[int], Coroutine[Any, Any, events_pb2.ReadEventsResponse]]
    ) -> None:
        self.read = read
        self.pending: tuple[int, asyncio.Task[events_pb2.ReadEventsResponse]] | None = None

    def ahead(self, after: int) -> None:
        self.pending = (after, asyncio.create_task(self.read(after)))

    async def page(self, after: int) -> events_pb2.ReadEventsResponse:
        pending, self.pending = self.pending, None
        if pending is not None:
            if pending[0] == after:
                return await pending[1]
            await _dropped(pending[1])
        return await self.read(after)

    async def close(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            await _dropped(pending[1])


async def _dropped(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, grpc.RpcError):
        await task


class CatchUpOnAssignment(ConsumerRebalanceListener):
    """A new partition assignment (start, rebalance, a broker that came back) may follow lost
    messages: reconcile with the upstream log now rather than at the next interval."""

    def __init__(self, wake: asyncio.Event) -> None:
        self.wake = wake

    async def on_partitions_revoked(self, revoked: object) -> None:
        pass

    async def on_partitions_assigned(self, assigned: object) -> None:
        if assigned:
            self.wake.set()


class LogFollower(ABC):
    """Follows `upstream`'s log (at `upstream_target`) and its Kafka `topic`."""

    kind = "consumer"  # or "reaction": how lmp status and the metrics name it
    read_limit = READ_LIMIT  # events per page of a catch-up read

    def __init__(
        self,
        *,
        upstream: str,
        event_types: frozenset[str],
        upstream_target: str,
        topic: str,
        token: Callable[[], str],
    ) -> None:
        self.upstream = upstream
        self.event_types = event_types
        self.upstream_target = upstream_target
        self.topic = topic
        self.token = token
        self.head = 0  # the newest upstream notification id heard of, by either path
        # While a full round runs (at start, woken, new partitions): the head it reads up to.
        self.full_round_to: int | None = None
        self.seen_head = 0  # the upstream head the last round saw
        self.ahead_of_log = False  # the stored position is past the head (a restored log)
        self.wake = asyncio.Event()  # a full round now: Kafka has news, or partitions moved
        self.watch = FastPathWatch()
        self.fast_path: Any = None  # the FastStream subscriber, once subscribed
        # Read-your-writes (lmp_kit.consistency): how far this process knows the log examined,
        # whether its follow loop runs here, and who waits for the next step.
        self.examined = 0
        self.running = False
        self._advanced = asyncio.Event()

    # Where the effect and the tracking record are written: the followers' own parts.

    @abstractmethod
    async def position(self) -> int:
        """The upstream notification id up to which everything was examined."""

    @abstractmethod
    async def apply_page(
        self, envelopes: Sequence[Envelope], path: str, *, through: int = 0
    ) -> Applied:
        """Apply the envelopes (each with its tracking record, so never twice). `through`: the
        log was read up to there; a follower that can, moves its position there with the
        effects (and says so: `Applied.advanced`)."""

    @abstractmethod
    async def advance(self, position: int) -> None:
        """Record that everything up to `position` was examined."""

    async def skip_applied(self, after: int, target: int) -> int:
        """Move the position past what is known to be applied already; the new position."""
        del target
        return after

    def reported(self, position: int) -> None:  # noqa: B027  # optional hook: metrics
        """The round ended at `position`."""

    @abstractmethod
    def subscribe(self, broker: KafkaBroker, group_id: str, session_timeout_ms: int) -> None:
        """Take the fast path through `broker`."""

    # The engine.

    async def catch_up(self, settled: int | None = None) -> int:
        """Apply what the upstream log holds after the position, up to its head when the round
        began (or only up to `settled`); the number of events the round counts.

        One round reconciles what the log held when it began: a log growing faster than the
        round reads must not keep it going for ever; the next round takes the rest."""
        handled: list[int] = []
        counted = 0
        async with grpc.aio.insecure_channel(self.upstream_target) as channel:
            stub: events_pb2_grpc.EventLogAsyncStub = events_pb2_grpc.EventLogStub(channel)
            stored = await self.position()
            first = await self._read(stub, stored, limit=1)
            self.seen_head = first.max_notification_id
            self._check_behind(stored)
            self.head = max(self.head, self.seen_head)
            self.watch.observed(self.seen_head)
            target = self.seen_head if settled is None else min(settled, self.seen_head)
            reads = _ReadAhead(lambda after: self._read(stub, after, limit=self.read_limit))
            if settled is None:
                self.full_round_to = target
            try:
                while True:
                    # Shown as it moves (metrics, lmp status, the lag alert): a round over a
                    # year's log takes minutes, and its lag is known from its start.
                    position = await self.position()
                    self.reported(position)
                    after = await self.skip_applied(position, target)
                    if after >= target:
                        break
                    response = await reads.page(after)
                    through = min(response.next_after, target)
                    last = response.next_after <= after or response.next_after >= target
                    if not last:  # the next page is read while this one is applied
                        reads.ahead(response.next_after)
                    envelopes = [Envelope.from_proto(e) for e in response.events]
                    applied = await self.apply_page(
                        [e for e in envelopes if e.notification_id <= target],
                        "catch-up",
                        through=through,
                    )
                    handled += applied.notification_ids
                    counted += applied.counted
                    self.head = max(self.head, response.max_notification_id)
                    if not applied.complete:
                        break
                    if not applied.advanced:
                        await self.advance(through)
                    self._reached(through)
                    if last:
                        break
            finally:
                self.full_round_to = None
                await reads.close()
        position = await self.position()
        self.reported(position)
        self._reached(position)
        if settled is not None:
            self.watch.missed(handled)
        return counted

    def beyond_round(self, envelopes: Sequence[Envelope]) -> list[Envelope]:
        """Those of the envelopes a full round in progress does not read (all, between rounds).

        A full round reads the log up to the head it saw at its start, in the log's order, and
        applies each page with its position: whatever Kafka delivers up to that head meanwhile
        the round applies anyway. After a backlog (a start after downtime, a restore, a relay
        publishing a year's events) both paths applying the same events did the work twice,
        tracked far-ahead ids page by page and conflicted on every transaction: the fast path
        leaves those to the round. A periodic round reads only what Kafka had an interval to
        deliver, so the fast path is not held back by it."""
        reading_to = self.full_round_to
        if reading_to is None:
            return list(envelopes)
        return [e for e in envelopes if e.notification_id > reading_to]

    def _check_behind(self, stored: int) -> None:
        """A stored position past the log's head: the upstream's event store was restored to an
        earlier point than this follower (a backup, a point-in-time recovery). What it holds
        beyond the head is no longer in the log, and events recorded anew under those ids
        would be passed over: say so until it is rebuilt, and go on serving."""
        ahead = stored > self.seen_head
        if ahead and not self.ahead_of_log:
            log.error(
                "%s of %s: the stored position %d is past the log's head %d: the upstream's "
                "events were restored to an earlier point; rebuild (lmp rebuild)",
                self.kind,
                self.upstream,
                stored,
                self.seen_head,
            )
        self.ahead_of_log = ahead
        FOLLOWER_AHEAD.labels(upstream=self.upstream, kind=self.kind).set(1 if ahead else 0)

    def _reached(self, position: int) -> None:
        if position > self.examined:
            self.examined = position
            advanced, self._advanced = self._advanced, asyncio.Event()
            advanced.set()

    async def reach(self, position: int, timeout_s: float) -> bool:
        """Whether everything up to `position` was examined within `timeout_s`: a caller that
        holds a consistency token for it waits here (lmp_kit.consistency). The follow loop in
        this process is woken for a full round at once; a process that only serves the API
        (its consumers run elsewhere) reads the stored position until it is there."""
        deadline = time.monotonic() + timeout_s
        while self.examined < position:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if not self.running:
                self._reached(await self.position())
                if self.examined < position:
                    await asyncio.sleep(min(STORED_POSITION_POLL_S, remaining))
                continue
            self.wake.set()
            advanced = self._advanced
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(advanced.wait(), remaining)
        return True

    async def _read(
        self, stub: events_pb2_grpc.EventLogAsyncStub, after: int, *, limit: int
    ) -> events_pb2.ReadEventsResponse:
        return await read_events(
            stub, after, limit=limit, event_types=self.event_types, token=self.token()
        )

    async def follow(self, stopping: asyncio.Event, interval_s: float) -> None:
        """Catch up at start, then at every wake and every `interval_s`, until stopping."""
        self.running = True
        try:
            # Shown (metrics, lmp status) from the start, also while the upstream is away.
            with contextlib.suppress(Exception):
                self.reported(await self.position())
            await self._follow(stopping, interval_s)
        finally:
            self.running = False

    async def _follow(self, stopping: asyncio.Event, interval_s: float) -> None:
        settled: int | None = None  # at start: everything
        while not stopping.is_set():
            started = time.monotonic()
            if self.wake.is_set():
                settled = None
            self.wake.clear()
            try:
                counted = await self.catch_up(settled)
            except grpc.aio.AioRpcError as error:
                log.warning(
                    "cannot read %s's event log: %s %s",
                    self.upstream,
                    error.code().name,
                    error.details(),
                )
            except PyMongoError as error:
                log.warning("cannot follow %s: MongoDB: %s", self.upstream, error)
            except Exception:  # the follower outlives any one round and tries the next
                log.exception("following %s failed; retrying", self.upstream)
            else:
                if counted:
                    log.info(
                        "applied %d %s events from its event log%s",
                        counted,
                        self.upstream,
                        "" if settled is None else " that Kafka had not delivered",
                    )
                settled = self.seen_head
            await self._rest(stopping, max(0.0, interval_s - (time.monotonic() - started)))

    async def _rest(self, stopping: asyncio.Event, seconds: float) -> None:
        waits = {
            asyncio.ensure_future(stopping.wait()),
            asyncio.ensure_future(self.wake.wait()),
        }
        _, pending = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in pending:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter

    def kafka_subscriber(
        self,
        broker: KafkaBroker,
        *,
        group_id: str,
        session_timeout_ms: int,
        **options: Any,  # noqa: ANN401  # FastStream's subscriber options
    ) -> Any:  # noqa: ANN401  # FastStream's subscriber type
        """A batch subscriber to the upstream's topic in `group_id`: the fast path.

        FastStream never commits for it: a handler that waited on its commit would wait for
        ever after a broker that lost its data restarted (see `lmp_kit.kafka.AppliedOffsets`,
        which a follower that wants its offsets kept uses instead). Whatever Kafka does not
        deliver, the catch-up does, at start, at every new assignment and periodically.

        Each follower has a consumer group of its own (`<service>.<upstream>`,
        `<service>.reactions.<upstream>`): one group over several topics rebalances as one, so
        a member stuck on one topic would hold every other topic's partitions unassigned."""
        self.fast_path = broker.subscriber(
            self.topic,
            group_id=group_id,
            ack_policy=AckPolicy.MANUAL,  # never acknowledged: FastStream commits nothing
            batch=True,
            max_records=READ_LIMIT,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=max(100, session_timeout_ms // 4),
            listener=CatchUpOnAssignment(self.wake),
            **options,
        )
        return self.fast_path

    def decode(self, bodies: Sequence[Any]) -> list[Envelope]:
        """The event envelopes among Kafka messages; anything else is logged and passed over."""
        envelopes = []
        for body in bodies:
            try:
                if isinstance(body, bytes | str):
                    envelopes.append(Envelope.model_validate_json(body))
                else:
                    envelopes.append(Envelope.model_validate(body))
            except ValidationError as error:
                log.warning(
                    "skipping a message on %s that is not an event envelope: %s",
                    self.topic,
                    error.errors()[0]["msg"],
                )
        return envelopes

    def concerns(self, body: object) -> bool:
        """Whether a message may be an event this follower takes (what cannot be read counts
        too: the log decides). A voting topic full of ballots then wakes the registry's
        reactions only for `Poll.Closed`."""
        try:
            if isinstance(body, bytes | str):
                found = json.loads(body).get("event_type")
            elif isinstance(body, Mapping):
                found = body.get("event_type")
            else:
                return True
        except (ValueError, AttributeError):
            return True
        return not isinstance(found, str) or found in self.event_types
