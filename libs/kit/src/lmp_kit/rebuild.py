"""Blue/green rebuild of a service's read models (`lmp rebuild SERVICE`).

The rebuild builds a new generation (`lmp_kit.readmodels`) from the upstream event logs,
through the service's own projections in real `TrackedConsumer`s (ReadEvents catch-up), while
the live generation keeps serving and following. It never gets ahead of the live one: each
round catches up only to the live consumers' stored positions.

When it is close, it holds the live consumers (their generation's fences, a lease renewed
while it works: a rebuild that dies lets them go on by themselves), reads their positions and
the events they applied beyond them (Kafka's, tracked), brings the new generation to exactly
that, and compares a digest per collection (`raw_digest`: SHA-256 over the set of the documents'
stored BSON; for a pair that differs, `digest`: the same with each document's keys sorted) and
the positions. Equal: the control document names the new
generation, every process of the service moves to it within a second (its consumers continue
from the new generation's positions), the old generation's fences retire and, after a grace
for calls still reading it, it is dropped (unless `keep_old`). Different: the live consumers
resume on the old generation and the differing collections are reported.

Interrupted, the next run resumes the generation named in the control document from its own
positions.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import bson
import grpc
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from lmp.common.v1 import events_pb2, events_pb2_grpc
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from lmp_kit.consumer import (
    CONSUMER_COLLECTIONS,
    FENCES,
    POSITIONS,
    TRACKING,
    IndexedAfterLoad,
    PreparedProjection,
    Projection,
    TrackedConsumer,
)
from lmp_kit.envelope import Envelope
from lmp_kit.eventlog import MAX_LIMIT, read_events
from lmp_kit.follow import READ_LIMIT, Applied
from lmp_kit.readmodels import CONTROL, CONTROL_ID, ReadModels, generation_name, generation_of
from lmp_kit.runtime import Subscription, generation_collections

log = logging.getLogger(__name__)

Document = dict[str, Any]
_D = TypeVar("_D", Document, RawBSONDocument)

# How long a hold of the live consumers lasts unless renewed, and how often it is renewed.
PAUSE_LEASE_S = 30.0
PAUSE_RENEW_S = 5.0
# After a switch: every process reads the control document twice a second; calls that began
# on the old generation finish within their deadline.
SWITCH_GRACE_S = 5.0
PROGRESS_EVERY_S = 1.0
COPY_BATCH = 1_000
PAGES_PER_TRANSACTION = 5
DIGEST_BATCH = 10_000
RAW_CODEC: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)


class RebuildError(Exception):
    """The rebuild cannot start or go on; the message says why and what to do."""


@dataclass(frozen=True)
class Progress:
    phase: str  # building, switching
    generation: int
    applied: int  # events applied to the new generation by this run
    events_per_s: float
    remaining: int  # notification ids between the new generation's positions and the heads
    eta_s: float | None
    positions: Mapping[str, int]
    heads: Mapping[str, int]


@dataclass(frozen=True)
class Outcome:
    switched: bool
    generation: int
    previous: int
    applied: int
    seconds: float
    compared: Sequence[str]
    differences: Sequence[str] = ()
    dropped: bool = False
    resumed: bool = False


def select(subscriptions: Sequence[Subscription], only: str | None) -> list[Subscription]:
    """The subscriptions to rebuild: all, one upstream's (`only` names it), or one projection
    (`only` names its class or one of its collections)."""
    if only is None:
        return list(subscriptions)
    by_upstream = [s for s in subscriptions if s.upstream == only]
    if by_upstream:
        return by_upstream
    found = [
        Subscription(s.upstream, (p,))
        for s in subscriptions
        for p in s.projections
        if only == type(p).__name__ or only in p.collections
    ]
    if len(found) == 1:
        return found
    names = sorted(
        {s.upstream for s in subscriptions}
        | {c for s in subscriptions for p in s.projections for c in p.collections}
    )
    why = "names several projections" if found else "is no upstream or projection"
    msg = f"--projection {only!r} {why}; one of: {', '.join(names)}"
    raise RebuildError(msg)


async def digest(collection: AsyncCollection[Document]) -> str:
    """The collection's documents, field order aside, as `<count>:<SHA-256>`: of the sorted
    SHA-256s of their canonical BSON (`canonical`). Equal for the same set of documents in any
    order; different for any difference in a value or a type (an int32 is no int64)."""
    return await _digest(collection, canonical)


async def raw_digest(collection: AsyncCollection[Document]) -> str:
    """The same over each document's BSON as the server stores it, undecoded: equal raw
    digests mean equal documents (`digest` is a function of those bytes), unequal ones may
    differ only in field order. Several times cheaper for this process than `digest`."""
    raw: AsyncCollection[RawBSONDocument] = collection.with_options(codec_options=RAW_CODEC)
    return await _digest(raw, lambda doc: doc.raw)


async def _digest(
    collection: AsyncCollection[_D], as_bytes: Callable[[_D], bytes | memoryview]
) -> str:
    hashes = [
        hashlib.sha256(as_bytes(doc)).digest()
        async for doc in collection.find({}, batch_size=DIGEST_BATCH)
    ]
    hashes.sort()
    return f"{len(hashes)}:{hashlib.sha256(b''.join(hashes)).hexdigest()}"


def canonical(document: Mapping[str, Any]) -> bytes:
    """The document as BSON with the keys of it and of every embedded document sorted (arrays
    keep their order): the same bytes for equal documents whatever their field order."""
    return bson.encode(_keys_sorted(document))


def _keys_sorted(value: Any) -> Any:  # noqa: ANN401  # any BSON value
    if isinstance(value, Mapping):
        return {key: _keys_sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_keys_sorted(item) for item in value]
    return value


async def digests(
    pairs: Sequence[tuple[AsyncCollection[Document], AsyncCollection[Document]]],
) -> list[bool]:
    """Whether each pair of collections holds the same documents: first as stored
    (`raw_digest`), and only the pairs that differ so again field order aside (`digest`), as
    the same projection writing in another order of events may order an upserted document's
    fields differently."""
    equal = await _same(pairs, raw_digest)
    again = [i for i, same in enumerate(equal) if not same]
    for i, same in zip(again, await _same([pairs[i] for i in again], digest), strict=True):
        equal[i] = same
    return equal


async def _same(
    pairs: Sequence[tuple[AsyncCollection[Document], AsyncCollection[Document]]],
    digest_of: Callable[[AsyncCollection[Document]], Awaitable[str]],
) -> list[bool]:
    """Each pair's digests equal, every digest at once (the server reads one collection while
    this process hashes another)."""
    found = await asyncio.gather(*(digest_of(c) for pair in pairs for c in pair))
    return [found[2 * i] == found[2 * i + 1] for i in range(len(pairs))]


async def applied_state(db: AsyncDatabase[Document], upstream: str) -> tuple[int, list[int]]:
    """A consumer's tracking as positions: its stored position and the ids applied above it."""
    found = await db[POSITIONS].find_one({"_id": upstream})
    position = int(found["position"]) if found else 0
    above: set[int] = set()
    async for doc in db[TRACKING].find({"upstream": upstream}, {"nids": 1}):
        above.update(int(n) for n in doc.get("nids", ()) if int(n) > position)
    return position, sorted(above)


class RebuildConsumer(TrackedConsumer):
    """A consumer into the new generation that counts what it applies, in the largest pages the
    log serves, several to a transaction: it has no reader waiting for its next event."""

    applied_events = 0
    read_limit = MAX_LIMIT
    # Log pages applied in one transaction: the transaction's own reads and writes (fence,
    # position, tracking, the stored position read before each page) are paid once for them.
    pages_per_transaction = PAGES_PER_TRANSACTION
    on_page: Callable[[], None] | None = None

    async def _read(
        self, stub: events_pb2_grpc.EventLogAsyncStub, after: int, *, limit: int
    ) -> events_pb2.ReadEventsResponse:
        """Up to `pages_per_transaction` of the log's pages from `after`, as one (the round's
        first read, of one event for the head, stays one)."""
        page = await super()._read(stub, after, limit=limit)
        if limit != self.read_limit:
            return page
        merged = events_pb2.ReadEventsResponse()
        merged.CopyFrom(page)
        for _ in range(self.pages_per_transaction - 1):
            if merged.next_after <= after or merged.next_after >= merged.max_notification_id:
                break
            after = merged.next_after
            page = await super()._read(stub, after, limit=limit)
            merged.events.extend(page.events)
            merged.next_after = max(merged.next_after, page.next_after)
            merged.max_notification_id = max(merged.max_notification_id, page.max_notification_id)
        return merged

    async def apply_page(
        self, envelopes: Sequence[Envelope], path: str, *, through: int = 0
    ) -> Applied:
        applied = await super().apply_page(envelopes, path, through=through)
        self.applied_events += applied.counted
        if self.on_page is not None:
            self.on_page()
        return applied

    def reported(self, position: int) -> None:
        del position  # the live consumers' gauges are the service's, not the rebuild's

    def prepares_now(self, projection: Projection) -> bool:
        return not indexed_after_load(projection)


def indexed_after_load(projection: Projection) -> bool:
    return isinstance(projection, IndexedAfterLoad) and projection.index_after_load


@dataclass
class Rebuild:
    """One run of `lmp rebuild`."""

    models: ReadModels
    subscriptions: Sequence[Subscription]
    upstream_targets: Mapping[str, str]
    token: Callable[[], str]
    only: str | None = None
    keep_old: bool = False
    # Collections an API writes into a generation as a cache of what events determine
    # (voting's receipt trees): copied from the live generation at the switch, not compared.
    caches: Collection[str] = ()
    report: Callable[[Progress], None] = lambda _: None
    say: Callable[[str], None] = lambda _: None
    lease_s: float = PAUSE_LEASE_S
    grace_s: float = SWITCH_GRACE_S
    close_enough: int = READ_LIMIT
    consumers: list[RebuildConsumer] = field(default_factory=list)
    _started: float = 0.0
    _last_report: float = 0.0
    _start_positions: dict[str, int] = field(default_factory=dict)
    _generation: int = 0
    _reporting: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def control(self) -> AsyncCollection[Document]:
        return self.models.home_db[CONTROL]

    async def run(self) -> Outcome:
        self._started = time.monotonic()
        selected = select(self.subscriptions, self.only)
        generation, resumed = await self._claim(selected)
        self._generation = generation
        new_db = self.models.database(generation)
        self.consumers = [self._consumer(s, generation) for s in selected]
        later = self._indexed_later()
        await self._copy_indexes(new_db, generation_collections(self.subscriptions) - later)
        for consumer in self.consumers:
            await consumer.prepare()
            self._start_positions[consumer.upstream] = await consumer.position()
        await self._build()
        await self._index_loaded(new_db, later)
        return await self._switch(selected, generation, resumed=resumed)

    async def abandon(self) -> int | None:
        """Drop the rebuild in progress (its generation) and let the live consumers go on."""
        control = await self.models.read_control()
        rebuild = control.get("rebuild")
        if not rebuild:
            return None
        generation = int(rebuild["generation"])
        active = int(control.get("active", 0))
        await self._resume_live(self.models.database(active))
        await self.control.update_one({"_id": CONTROL_ID}, {"$unset": {"rebuild": ""}})
        if generation != active:
            await self._drop(generation)
        return generation

    # Starting and resuming.

    async def _claim(self, selected: Sequence[Subscription]) -> tuple[int, bool]:
        control = await self.models.read_control()
        active = int(control.get("active", 0))
        rebuild = control.get("rebuild")
        if rebuild:
            if rebuild.get("only") != self.only:
                msg = (
                    f"a rebuild of {rebuild.get('only') or 'every projection'} into generation "
                    f"{rebuild['generation']} is in progress (or was interrupted): run "
                    f"`lmp rebuild` with the same --projection to resume it, or --abandon"
                )
                raise RebuildError(msg)
            self.say(f"resuming the rebuild into generation {rebuild['generation']}")
            return int(rebuild["generation"]), True
        existing = [
            g
            for name in await self.models.client.list_database_names()
            if (g := generation_of(self.models.home, name)) is not None
        ]
        generation = max([active, *existing]) + 1
        await self.models.client.drop_database(generation_name(self.models.home, generation))
        claim: Document = {
            "generation": generation,
            "only": self.only,
            "upstreams": sorted({s.upstream for s in selected}),
            "state": "building",
            "started_at": datetime.now(UTC),
            "applied": {},
        }
        try:
            await self.control.update_one(
                {"_id": CONTROL_ID, "rebuild": None}, {"$set": {"rebuild": claim}}, upsert=True
            )
        except DuplicateKeyError:
            msg = "another rebuild of this service started meanwhile"
            raise RebuildError(msg) from None
        return generation, False

    def _consumer(self, subscription: Subscription, generation: int) -> RebuildConsumer:
        projections: Sequence[Projection] = subscription.projections
        consumer = RebuildConsumer(
            upstream=subscription.upstream,
            projections=projections,
            client=self.models.client,
            database=self.models.home,
            upstream_target=self.upstream_targets[subscription.upstream],
            topic="",
            token=self.token,
            models=self.models,
            generation=generation,
        )
        consumer.on_page = self._page_done
        return consumer

    def _indexed_later(self) -> frozenset[str]:
        """The collections loaded before their secondary indexes: those that only rebuilt
        projections indexing after load (`IndexedAfterLoad`) write."""
        rebuilt = {id(p) for consumer in self.consumers for p in consumer.projections}
        writers: dict[str, list[Projection]] = {}
        for subscription in self.subscriptions:
            for projection in subscription.projections:
                for name in projection.collections:
                    writers.setdefault(name, []).append(projection)
        return frozenset(
            name
            for name, projections in writers.items()
            if all(id(p) in rebuilt and indexed_after_load(p) for p in projections)
        )

    async def _index_loaded(self, new_db: AsyncDatabase[Document], later: frozenset[str]) -> None:
        """The indexes held back, built over the loaded collections while no consumer writes
        the new generation (an index build waits for open transactions): the live
        generation's, then each such projection's own (`prepare`)."""
        if not later:
            return
        await self._progress("indexing", force=True)
        started = time.monotonic()
        await self._copy_indexes(new_db, later)
        for consumer in self.consumers:
            for projection in consumer.projections:
                if indexed_after_load(projection) and isinstance(projection, PreparedProjection):
                    await projection.prepare(self.models.view(self._generation))
        self.say(
            f"indexed {', '.join(sorted(later))} after loading in "
            f"{time.monotonic() - started:.1f} s"
        )

    async def _copy_indexes(
        self, new_db: AsyncDatabase[Document], collections: frozenset[str]
    ) -> None:
        """The live generation's indexes of the collections, before any write to them (an index
        build waits for open transactions, and a collection copied at the switch needs them
        too), or after loading them."""
        live = self.models.database(await self._active())
        names = set(await live.list_collection_names())
        for name in sorted(collections & names):
            for index_name, spec in (await live[name].index_information()).items():
                if index_name == "_id_":
                    continue
                options = {
                    k: spec[k]
                    for k in ("unique", "sparse", "partialFilterExpression", "expireAfterSeconds")
                    if k in spec
                }
                await new_db[name].create_index(list(spec["key"]), name=index_name, **options)

    async def _active(self) -> int:
        return int((await self.models.read_control()).get("active", 0))

    # Building.

    async def _build(self) -> None:
        while True:
            live = self.models.database(await self._active())
            behind = 0
            for consumer in self.consumers:
                target, _ = await applied_state(live, consumer.upstream)
                if target > await consumer.position():  # nothing to read (an upstream away)
                    await consumer.catch_up(settled=target)
                behind += max(0, target - await consumer.position())
            await self._progress("building", force=True)
            if behind <= self.close_enough:
                return

    def _page_done(self) -> None:
        if time.monotonic() - self._last_report < PROGRESS_EVERY_S:
            return
        task = asyncio.get_running_loop().create_task(self._progress("building"))
        self._reporting.add(task)
        task.add_done_callback(self._reporting.discard)

    async def _progress(self, phase: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_report < PROGRESS_EVERY_S:
            return
        self._last_report = now
        positions = {c.upstream: c.examined for c in self.consumers}
        heads = {c.upstream: max(c.head, c.examined) for c in self.consumers}
        applied = sum(c.applied_events for c in self.consumers)
        elapsed = max(1e-6, now - self._started)
        moved = sum(positions[u] - self._start_positions.get(u, 0) for u in positions)
        remaining = sum(heads[u] - positions[u] for u in positions)
        ids_per_s = moved / elapsed
        self.report(
            Progress(
                phase=phase,
                generation=self._generation,
                applied=applied,
                events_per_s=applied / elapsed,
                remaining=remaining,
                eta_s=remaining / ids_per_s if ids_per_s > 0 else None,
                positions=positions,
                heads=heads,
            )
        )
        with contextlib.suppress(Exception):  # progress in the control document is a courtesy
            await self.control.update_one(
                {"_id": CONTROL_ID, "rebuild.generation": self._generation},
                {
                    "$set": {
                        "rebuild.state": phase,
                        **{
                            f"rebuild.applied.{c.upstream}": c.applied_events
                            for c in self.consumers
                        },
                    }
                },
            )

    # The switch.

    async def _switch(
        self, selected: Sequence[Subscription], generation: int, *, resumed: bool
    ) -> Outcome:
        active = await self._active()
        live_db = self.models.database(active)
        new_db = self.models.database(generation)
        rebuilt = {c for s in selected for p in s.projections for c in p.collections}
        compared = sorted(rebuilt - set(self.caches))
        async with self._held(live_db) as holding:
            await self._progress("switching", force=True)
            started = time.monotonic()
            frozen = {c.upstream: await applied_state(live_db, c.upstream) for c in self.consumers}
            for consumer in self.consumers:
                await self._bring_to(consumer, *frozen[consumer.upstream])
            await self._copy_rest(live_db, new_db, rebuilt, {s.upstream for s in selected})
            brought = time.monotonic()
            equal = await digests([(live_db[name], new_db[name]) for name in compared])
            self.say(
                f"held the live consumers: the last events and the rest copied in "
                f"{brought - started:.1f} s, {len(compared)} collections of both generations "
                f"compared in {time.monotonic() - brought:.1f} s"
            )
            differences = [name for name, same in zip(compared, equal, strict=True) if not same]
            differences += [
                f"{POSITIONS}:{c.upstream}"
                for c in self.consumers
                if await applied_state(new_db, c.upstream) != frozen[c.upstream]
            ]
            outcome = Outcome(
                switched=not differences,
                generation=generation,
                previous=active,
                applied=sum(c.applied_events for c in self.consumers),
                seconds=time.monotonic() - self._started,
                compared=compared,
                differences=differences,
                resumed=resumed,
            )
            if differences:
                await self.control.update_one(
                    {"_id": CONTROL_ID},
                    {
                        "$unset": {"rebuild": ""},
                        "$set": {"last": self._record(outcome, "differs")},
                    },
                )
            else:
                await self.control.update_one(
                    {"_id": CONTROL_ID},
                    {
                        "$unset": {"rebuild": ""},
                        "$set": {"active": generation, "last": self._record(outcome, "switched")},
                    },
                )
                holding.retire = True
        if differences:
            if not self.keep_old:
                await self._drop(generation)
            return outcome
        await asyncio.sleep(self.grace_s)
        if self.keep_old:
            return outcome
        await self._drop(active)
        return Outcome(**{**outcome.__dict__, "dropped": True})

    def _record(self, outcome: Outcome, result: str) -> Document:
        return {
            "result": result,
            "generation": outcome.generation,
            "previous": outcome.previous,
            "only": self.only,
            "applied": outcome.applied,
            "differences": list(outcome.differences),
            "finished_at": datetime.now(UTC),
        }

    @contextlib.asynccontextmanager
    async def _held(self, live_db: AsyncDatabase[Document]) -> AsyncIterator[_Hold]:
        """The live generation's consumers held (every upstream of the service) while the body
        runs; released after, unless the body switched (then retired for good)."""
        hold = _Hold()
        upstreams = sorted({s.upstream for s in self.subscriptions})

        async def pause() -> None:
            until = datetime.now(UTC) + timedelta(seconds=self.lease_s)
            for upstream in upstreams:
                # Returns once every batch that wrote the fence before committed (or aborted).
                await live_db[FENCES].update_one(
                    {"_id": upstream},
                    {"$set": {"paused_until": until, "paused_by": self._generation}},
                    upsert=True,
                )

        async def renew() -> None:
            while True:
                await asyncio.sleep(PAUSE_RENEW_S)
                await pause()

        await pause()
        renewing = asyncio.create_task(renew())
        try:
            yield hold
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await renewing
            if hold.retire:
                await live_db[FENCES].update_many({}, {"$set": {"retired": True}})
            else:
                await self._resume_live(live_db)

    async def _resume_live(self, live_db: AsyncDatabase[Document]) -> None:
        await live_db[FENCES].update_many(
            {"retired": {"$ne": True}}, {"$unset": {"paused_until": "", "paused_by": ""}}
        )

    async def _bring_to(self, consumer: RebuildConsumer, position: int, above: list[int]) -> None:
        """The new generation to exactly the live one's position, and the events the live one
        applied beyond it (from Kafka)."""
        while await consumer.position() < position:
            before = await consumer.position()
            await consumer.catch_up(settled=position)
            if await consumer.position() <= before:
                msg = f"cannot read {consumer.upstream}'s log up to {position}; try again"
                raise RebuildError(msg)
        if not above:
            return
        wanted = set(above)
        async with grpc.aio.insecure_channel(consumer.upstream_target) as channel:
            stub: events_pb2_grpc.EventLogAsyncStub = events_pb2_grpc.EventLogStub(channel)
            after = position
            while after < above[-1]:
                page = await read_events(
                    stub,
                    after,
                    limit=consumer.read_limit,
                    event_types=consumer.event_types,
                    token=self.token(),
                )
                envelopes = [Envelope.from_proto(e) for e in page.events]
                await consumer.apply_page(
                    [e for e in envelopes if e.notification_id in wanted], "catch-up"
                )
                if page.next_after <= after:
                    break
                after = page.next_after

    async def _copy_rest(
        self,
        live_db: AsyncDatabase[Document],
        new_db: AsyncDatabase[Document],
        rebuilt: set[str],
        upstreams: set[str],
    ) -> None:
        """What this run does not rebuild, copied from the held live generation: the other
        projections' collections with their upstreams' tracking, and the caches."""
        others = generation_collections(self.subscriptions) - rebuilt - set(CONSUMER_COLLECTIONS)
        for name in sorted(others | set(self.caches)):
            await new_db[name].delete_many({})
            await _copy(live_db[name].find({}), new_db[name])
        for name in (POSITIONS, TRACKING):
            key = "_id" if name == POSITIONS else "upstream"
            await new_db[name].delete_many({key: {"$nin": sorted(upstreams)}})
            await _copy(live_db[name].find({key: {"$nin": sorted(upstreams)}}), new_db[name])

    async def _drop(self, generation: int) -> None:
        if generation == 0:
            # The service's own database: only what lives in a generation goes (the fences
            # stay, retired, for a process that did not hear of the switch).
            home = self.models.home_db
            for name in sorted(generation_collections(self.subscriptions) - {FENCES}):
                await home.drop_collection(name)
        else:
            await self.models.client.drop_database(generation_name(self.models.home, generation))


@dataclass
class _Hold:
    retire: bool = False


async def _copy(cursor: Any, target: AsyncCollection[Document]) -> None:  # noqa: ANN401  # pymongo's cursor
    batch: list[Document] = []
    async for doc in cursor:
        batch.append(doc)
        if len(batch) >= COPY_BATCH:
            await target.insert_many(batch, ordered=False)
            batch = []
    if batch:
        await target.insert_many(batch, ordered=False)
