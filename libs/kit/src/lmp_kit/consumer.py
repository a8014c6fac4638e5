"""Consumers of another service's events.

Kafka is the fast path; the upstream's EventLog.ReadEvents is the truth. Every event is applied
in a MongoDB transaction together with its tracking record (upstream, notification id), or with
the move of the stored position past it (a catch-up page), so a redelivered event has no second
effect, whichever path brings it first.

Tracking records are kept per block of READ_LIMIT notification ids: one document
`{_id: "<upstream>:<block>", upstream, block, nids: [...]}` holds the ids applied in
(block * READ_LIMIT, (block + 1) * READ_LIMIT]. A batch reads and extends a few documents
instead of inserting one per event, a block whose every id is tracked is a page the catch-up
passes unread, and moving the position drops whole blocks.

The read models and the tracking live in a generation (`lmp_kit.readmodels`): each batch is
applied to one generation, the active one (or the one a rebuild builds). A generation's fence
(`_fences`, one document per upstream, written by every batch's transaction) holds its
consumers while a rebuild compares and switches: once the rebuild's write of the fence
returned, no batch of that generation commits any more (a transaction that wrote the fence
first committed before; one that did not meets a write conflict, retries and sees it held).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pymongo import ASCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from lmp_kit.envelope import Envelope
from lmp_kit.follow import READ_LIMIT, Applied, LogFollower
from lmp_kit.kafka import AppliedOffsets
from lmp_kit.metrics import (
    CONSUMER_APPLIED,
    CONSUMER_DUPLICATES,
    CONSUMER_LAG,
    CONSUMER_LAST_APPLIED,
    CONSUMER_LEFT_TO_ROUND,
    CONSUMER_POSITION,
    CONSUMER_SKIPPED_PAGES,
    PROJECTION_STALENESS,
)
from lmp_kit.readmodels import CONTROL, CONTROL_ID, ReadModels, generation_of

log = logging.getLogger(__name__)

TRACKING = "_tracking"
POSITIONS = "_positions"
FENCES = "_fences"
# The consumers' own collections, beside the projections', in every generation.
CONSUMER_COLLECTIONS = (TRACKING, POSITIONS, FENCES)
FETCH_MAX_WAIT_MS = 100

Document = dict[str, Any]


class Projection(Protocol):
    """Turns upstream events into read-model documents, inside the caller's transaction: a
    whole batch at once (one bulk write per collection, not one round trip per event), in
    notification-id order; `apply` is the batch of one."""

    event_types: frozenset[str]
    collections: tuple[str, ...]

    async def apply_batch(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None: ...

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> None: ...


@runtime_checkable
class PreparedProjection(Protocol):
    """A projection that sets up its collections (e.g. indexes) before it is first applied."""

    async def prepare(self, db: AsyncDatabase[Document]) -> None: ...


@runtime_checkable
class IndexedAfterLoad(Protocol):
    """A prepared projection whose `apply` reads its collections by `_id` alone, so the indexes
    its `prepare` creates (and nothing else) serve the API's reads only. A rebuild loads its
    collections without them and then builds each index once over the loaded documents (as
    mongorestore does), instead of keeping every index up on each insert."""

    index_after_load: bool


@runtime_checkable
class AppliesFresh(Protocol):
    """A projection whose `apply_batch` first reads which of the batch's events it applied
    before (a replay changes nothing), and that can skip that read when the consumer vouches
    for the batch: `apply_fresh` gets only events that the consumer's position and tracking
    show were never applied to this generation, in the transaction that records them. That
    holds while the projection's collections are written by this consumer alone and dropped
    with its tracking (`reset`, a rebuild's new generation). On SecantusDB the `_id $in` read
    of a 1,000-event page was about a fifth of the server's work in a rebuild."""

    async def apply_fresh(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None: ...


class HeldError(Exception):
    """The generation's fence holds its consumers (a rebuild compares or switched away)."""


def held(fence: Document | None, now: datetime | None = None) -> bool:
    """Whether a fence document holds its consumers: retired (its generation was replaced) or
    paused until a moment still ahead."""
    if not fence:
        return False
    if fence.get("retired"):
        return True
    until = fence.get("paused_until")
    if until is None:
        return False
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return bool(until > (now or datetime.now(UTC)))


def block_of(notification_id: int) -> int:
    """The tracking block of a notification id: ids 1..READ_LIMIT are block 0."""
    return (notification_id - 1) // READ_LIMIT


class TrackedConsumer(LogFollower):
    """Follows an upstream into read models: each event applied in a MongoDB transaction with
    its tracking record, from Kafka's messages themselves or from the log."""

    def __init__(  # noqa: PLR0913  # the consumer's collaborators, each named
        self,
        *,
        upstream: str,
        projections: Sequence[Projection],
        client: AsyncMongoClient[Document],
        database: str,
        upstream_target: str,
        topic: str,
        token: Callable[[], str],
        models: ReadModels | None = None,
        generation: int | None = None,
    ) -> None:
        """`models`: the service's generations (default: `database` alone); `generation`: the
        one to build (a rebuild), else the active one at each batch."""
        super().__init__(
            upstream=upstream,
            event_types=frozenset().union(*(p.event_types for p in projections)),
            upstream_target=upstream_target,
            topic=topic,
            token=token,
        )
        self.projections = projections
        self.offsets = AppliedOffsets(upstream)
        self.client = client
        self.models = models or ReadModels(client, database)
        self.generation = generation
        self.held = False  # the last batch met a holding fence
        self._moved_to = 0  # the position the last page moved to with its effects

    def target(self) -> int:
        """The generation the next batch goes to."""
        return self.models.current() if self.generation is None else self.generation

    @property
    def db(self) -> AsyncDatabase[Document]:
        """The consumer's own collections in the generation of the next batch."""
        return self.models.database(self.target())

    async def prepare(self) -> None:
        """Create indexes before any transaction: an index build waits for open transactions."""
        generation = self.target()
        db = self.models.database(generation)
        await db[TRACKING].create_index([("upstream", ASCENDING), ("block", ASCENDING)])
        await self._migrate_tracking()
        for projection in self.projections:
            if isinstance(projection, PreparedProjection) and self.prepares_now(projection):
                await projection.prepare(self.models.view(generation))

    def prepares_now(self, projection: Projection) -> bool:
        """Whether `prepare` prepares the projection (a rebuild indexes some after loading)."""
        del projection
        return True

    async def position(self) -> int:
        found = await self.db[POSITIONS].find_one({"_id": self.upstream})
        return int(found["position"]) if found else 0

    async def apply_batch(self, envelopes: Sequence[Envelope], path: str) -> int:
        return len(await self._apply(envelopes, path) or ())

    async def apply_page(
        self, envelopes: Sequence[Envelope], path: str, *, through: int = 0
    ) -> Applied:
        """The page's events and, when any is relevant, the position moved to `through`, in
        one transaction (a catch-up page costs one transaction, not two)."""
        applied = await self._apply(envelopes, path, through=through)
        if applied is None:  # held: the position stays, the next round reads the page again
            return Applied([], 0, complete=False)
        return Applied(
            [e.notification_id for e in applied], len(applied), advanced=self._moved_to == through
        )

    def reported(self, position: int) -> None:
        CONSUMER_POSITION.labels(upstream=self.upstream).set(position)
        CONSUMER_LAG.labels(upstream=self.upstream).set(max(0, self.head - position))

    async def _apply(
        self, envelopes: Sequence[Envelope], path: str, *, through: int = 0
    ) -> list[Envelope] | None:
        """The envelopes applied now (not before); None when the generation's fence held them.
        With `through`, the stored position moves there in the same transaction."""
        self._moved_to = 0
        relevant = {
            e.notification_id: e
            for e in envelopes
            if e.event_type in self.event_types and e.service == self.upstream
        }
        if envelopes:
            self.head = max(self.head, *(e.notification_id for e in envelopes))
        if not relevant:
            return []
        generation = self.target()
        try:
            async with self.client.start_session() as session:
                applied = await session.with_transaction(
                    lambda s: self._apply_in_transaction(
                        generation, list(relevant.values()), s, through=through
                    )
                )
        except HeldError:
            self.held = True
            return None
        self.held = False
        skipped = len(relevant) - len(applied)
        if skipped:
            CONSUMER_DUPLICATES.labels(upstream=self.upstream).inc(skipped)
        if applied:
            CONSUMER_APPLIED.labels(upstream=self.upstream, path=path).inc(len(applied))
            CONSUMER_LAST_APPLIED.labels(upstream=self.upstream, path=path).set_to_current_time()
            newest = max(e.occurred_at for e in applied)
            PROJECTION_STALENESS.labels(upstream=self.upstream).set(
                max(0.0, (datetime.now(UTC) - newest).total_seconds())
            )
        return applied

    async def _fence(self, db: AsyncDatabase[Document], session: AsyncClientSession) -> None:
        """Write the generation's fence in the transaction, or raise HeldError."""
        fence = await db[FENCES].find_one_and_update(
            {"_id": self.upstream},
            {"$inc": {"batches": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if fence and fence.get("retired") and await self._retired_in_vain(db, session):
            return
        if held(fence):
            raise HeldError(self.upstream)

    async def _retired_in_vain(
        self, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> bool:
        """A retired fence of the generation the control document names active again (its
        control was reset, e.g. by a restore that dropped the read models): lifted."""
        control = await self.models.home_db[CONTROL].find_one({"_id": CONTROL_ID}, session=session)
        if generation_of(self.models.home, db.name) != int((control or {}).get("active", 0)):
            return False
        await db[FENCES].update_many({}, {"$unset": {"retired": ""}}, session=session)
        return True

    async def _apply_in_transaction(
        self,
        generation: int,
        envelopes: list[Envelope],
        session: AsyncClientSession,
        *,
        through: int = 0,
    ) -> list[Envelope]:
        db = self.models.database(generation)
        await self._fence(db, session)
        fresh = await self._apply_fresh(
            db, self.models.view(generation), envelopes, session, through=through
        )
        if through:
            await self._move(db, through, session)
            self._moved_to = through
        return fresh

    async def _apply_fresh(
        self,
        db: AsyncDatabase[Document],
        view: AsyncDatabase[Document],
        envelopes: list[Envelope],
        session: AsyncClientSession,
        *,
        through: int = 0,
    ) -> list[Envelope]:
        """The envelopes not applied before, applied and tracked; those up to `through` (where
        the same transaction moves the position) need no tracking record: the position says it."""
        found = await db[POSITIONS].find_one({"_id": self.upstream}, session=session)
        watermark = int(found["position"]) if found else 0
        above = [e for e in envelopes if e.notification_id > watermark]
        if not above:
            return []
        blocks = {block_of(e.notification_id) for e in above}
        seen: set[int] = set()
        async for doc in db[TRACKING].find(
            {"_id": {"$in": [self._block_id(b) for b in blocks]}}, {"nids": 1}, session=session
        ):
            seen.update(doc["nids"])
        fresh = sorted(
            (e for e in above if e.notification_id not in seen), key=lambda e: e.notification_id
        )
        if not fresh:
            return []
        by_block: dict[int, list[int]] = {}
        for envelope in (e for e in fresh if e.notification_id > through):
            by_block.setdefault(block_of(envelope.notification_id), []).append(
                envelope.notification_id
            )
        for block, nids in sorted(by_block.items()):
            await db[TRACKING].update_one(
                {"_id": self._block_id(block)},
                {
                    "$push": {"nids": {"$each": nids}},
                    "$setOnInsert": {"upstream": self.upstream, "block": block},
                },
                upsert=True,
                session=session,
            )
        for projection in self.projections:
            mine = [e for e in fresh if e.event_type in projection.event_types]
            if not mine:
                continue
            if isinstance(projection, AppliesFresh):
                await projection.apply_fresh(mine, view, session)
            else:
                await projection.apply_batch(mine, view, session)
        return fresh

    def _block_id(self, block: int) -> str:
        return f"{self.upstream}:{block}"

    async def _migrate_tracking(self) -> None:
        """Fold tracking records of the earlier one-per-event form into blocks."""
        old = {"upstream": self.upstream, "nid": {"$exists": True}}
        by_block: dict[int, list[int]] = {}
        async for doc in self.db[TRACKING].find(old, {"nid": 1}):
            by_block.setdefault(block_of(int(doc["nid"])), []).append(int(doc["nid"]))
        for block, nids in sorted(by_block.items()):
            await self.db[TRACKING].update_one(
                {"_id": self._block_id(block)},
                {
                    "$addToSet": {"nids": {"$each": sorted(nids)}},
                    "$setOnInsert": {"upstream": self.upstream, "block": block},
                },
                upsert=True,
            )
        if by_block:
            await self.db[TRACKING].delete_many(old)

    async def skip_applied(self, after: int, target: int) -> int:
        """Move the position past blocks whose every id above it (up to `target`) is tracked
        (applied from Kafka): nothing there can be missing. Blocks with gaps in the ids, or
        with event types this consumer does not take, are read as usual."""
        while after < target:
            block = block_of(after + 1)
            end = min((block + 1) * READ_LIMIT, target)
            found = await self.db[TRACKING].find_one({"_id": self._block_id(block)}, {"nids": 1})
            tracked = sum(1 for nid in (found or {}).get("nids", ()) if after < nid <= end)
            if tracked < end - after:
                break
            after = end
            await self.advance(after)
            CONSUMER_SKIPPED_PAGES.labels(upstream=self.upstream).inc()
        return after

    async def advance(self, position: int) -> None:
        """Move the stored position (behind the fence: a held generation's stays); the
        examined position in memory moves regardless, the events being applied."""
        db = self.db

        async def move(session: AsyncClientSession) -> None:
            await self._fence(db, session)
            await self._move(db, position, session)

        try:
            async with self.client.start_session() as session:
                await session.with_transaction(move)
        except HeldError:
            self.held = True

    async def _move(
        self, db: AsyncDatabase[Document], position: int, session: AsyncClientSession
    ) -> None:
        """The stored position to `position` (never back), and the tracking below it gone."""
        await db[POSITIONS].update_one(
            {"_id": self.upstream},
            {"$max": {"position": position}},
            upsert=True,
            session=session,
        )
        await db[TRACKING].delete_many(
            {"upstream": self.upstream, "block": {"$lt": block_of(position + 1)}},
            session=session,
        )

    def subscribe(self, broker: KafkaBroker, group_id: str, session_timeout_ms: int) -> None:
        subscriber = self.kafka_subscriber(
            broker,
            group_id=f"{group_id}.{self.upstream}",
            session_timeout_ms=session_timeout_ms,
            # Without offsets of its group (the first start) it reads what the topic holds.
            auto_offset_reset="earliest",
            # At the end of its partitions the consumer waits this long for more before it
            # hands over what it has (aiokafka's default, 500 ms, is all lag under load).
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )

        async def handle(bodies: list[Any], message: KafkaMessage) -> None:
            if await self.from_kafka(bodies):
                raw = message.raw_message
                records = raw if isinstance(raw, tuple) else (raw,)
                self.offsets.applied(self.fast_path.consumer, records)

        subscriber(handle)

    async def from_kafka(self, bodies: Sequence[Any]) -> bool:
        """Apply a batch of Kafka's messages (leaving to a full round in progress those it reads
        anyway); False when it was not applied now (a holding fence, MongoDB away): its offsets
        are not committed."""
        envelopes = self.decode(bodies)
        beyond = self.beyond_round(envelopes)
        if len(beyond) < len(envelopes):
            CONSUMER_LEFT_TO_ROUND.labels(upstream=self.upstream).inc(len(envelopes) - len(beyond))
        try:
            applied = await self._apply(beyond, path="kafka")
        except PyMongoError as error:
            # Kafka will not deliver this batch again (its offsets move on regardless): a full
            # catch-up round applies it from the log as soon as MongoDB answers.
            log.warning(
                "cannot apply %d %s events from Kafka (%s); catching up from its log",
                len(bodies),
                self.upstream,
                error,
            )
            self.wake.set()
            return False
        return applied is not None  # held: the catch-up after the resume applies them

    async def reset(self) -> None:
        for projection in self.projections:
            for collection in projection.collections:
                await self.models.view(self.target()).drop_collection(collection)
        await self.db[TRACKING].delete_many({"upstream": self.upstream})
        await self.db[POSITIONS].delete_one({"_id": self.upstream})
