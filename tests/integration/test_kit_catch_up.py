"""The consumer's catch-up against a real event log and MongoDB: pages that Kafka already
applied in full are passed without reading them; the rest is read and applied."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from kpi.projections import PROBLEM_STATS, ProblemStatsProjection
from lmp.common.v1 import events_pb2
from lmp_kit.consumer import TRACKING, TrackedConsumer
from lmp_kit.envelope import Envelope
from lmp_kit.follow import READ_LIMIT
from lmp_kit.runtime import service_token
from lmp_kit.settings import Settings
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

PROBLEMS = 2 * READ_LIMIT + 100
Database = AsyncDatabase[dict[str, Any]]


def skipped_pages() -> float:
    found = REGISTRY.get_sample_value(
        "lmp_consumer_catch_up_pages_skipped_total", {"upstream": "registry"}
    )
    return found or 0.0


@pytest.fixture
async def database(mongodb_uri) -> AsyncIterator[Database]:
    """A read-model database of its own, dropped afterwards."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    name = f"catch_up_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


def consumer_of(stack, db: Database, projection=None) -> TrackedConsumer:
    """kpi's registry consumer (problem stats) on its own database."""
    return TrackedConsumer(
        upstream="registry",
        projections=[projection or ProblemStatsProjection()],
        client=db.client,
        database=db.name,
        upstream_target=stack.target("registry"),
        topic="unused",
        token=service_token(Settings.from_env("kpi", stack.env)),
    )


def delivered_by_kafka(stack, count: int, after: int = 0) -> list[Envelope]:
    """`count` events of the registry's log after `after`, as Kafka would bring them."""
    token = service_token(Settings.from_env("kpi", stack.env))
    response = stack.event_log().ReadEvents(
        events_pb2.ReadEventsRequest(after=after, limit=count),
        metadata=(("authorization", f"Bearer {token()}"),),
        timeout=30,
    )
    return [Envelope.from_proto(e) for e in response.events]


async def test_the_catch_up_passes_pages_kafka_applied_and_reads_the_rest(stack, database):
    stack.register(PROBLEMS)
    consumer = consumer_of(stack, database)
    await consumer.prepare()
    kafka = delivered_by_kafka(stack, 2 * READ_LIMIT)
    assert await consumer.apply_batch(kafka, path="kafka") == 2 * READ_LIMIT
    before = skipped_pages()

    caught_up = await consumer.catch_up()

    assert stack.head() == PROBLEMS, "one event per problem, ids without gaps"
    assert caught_up == PROBLEMS - 2 * READ_LIMIT
    assert skipped_pages() - before == 2  # the two pages Kafka applied
    assert await consumer.position() == PROBLEMS
    (stats,) = await database[PROBLEM_STATS].find().to_list()
    assert stats["problems_registered"] == PROBLEMS
    assert await consumer.catch_up() == 0


async def test_tracking_records_of_the_earlier_form_are_folded_into_blocks(stack, database):
    stack.register(READ_LIMIT + 10)
    tracking = database[TRACKING]
    await tracking.insert_many(
        [
            {"_id": f"registry:{nid}", "upstream": "registry", "nid": nid, "event_id": "e"}
            for nid in range(1, 301)
        ]
    )
    consumer = consumer_of(stack, database)
    await consumer.prepare()

    applied = await consumer.apply_batch(delivered_by_kafka(stack, 2 * READ_LIMIT), path="kafka")

    assert applied == READ_LIMIT + 10 - 300, "what the old records tracked is not applied again"
    blocks = {doc["_id"]: sorted(doc["nids"]) async for doc in tracking.find()}
    assert blocks == {
        "registry:0": list(range(1, READ_LIMIT + 1)),
        "registry:1": list(range(READ_LIMIT + 1, READ_LIMIT + 11)),
    }


async def test_a_periodic_round_reconciles_only_what_kafka_has_had_an_interval_to_deliver(
    stack, database
):
    stack.register(30)
    consumer = consumer_of(stack, database)
    await consumer.prepare()
    kafka = delivered_by_kafka(stack, 20)
    assert await consumer.apply_batch(kafka[:10], path="kafka") == 10

    # the previous round saw the log up to 25: the events after it are left to Kafka
    assert await consumer.catch_up(settled=25) == 15
    assert await consumer.position() == 25
    assert consumer.seen_head == 30

    # the next round, settled at what this one saw, takes the rest
    assert await consumer.catch_up(settled=consumer.seen_head) == 5
    assert await consumer.position() == 30


def ahead_of_log() -> float | None:
    return REGISTRY.get_sample_value(
        "lmp_follower_ahead_of_log", {"upstream": "registry", "kind": "consumer"}
    )


async def test_a_position_past_the_logs_head_is_reported_until_the_log_passes_it(stack, database):
    """A read model ahead of its upstream's log (the log restored from an earlier backup) says
    so in its metric and keeps serving; once the log has grown past it, the signal clears."""
    stack.register(10)
    consumer = consumer_of(stack, database)
    await consumer.prepare()
    await consumer.advance(40)  # as if it had followed a log that reached 40

    assert await consumer.catch_up() == 0
    assert consumer.ahead_of_log
    assert ahead_of_log() == 1
    assert await consumer.position() == 40

    stack.register(35, prefix="Later problem")
    await consumer.catch_up()
    assert not consumer.ahead_of_log
    assert ahead_of_log() == 0
    assert await consumer.position() == 45


def gauge(name: str) -> float:
    return REGISTRY.get_sample_value(name, {"upstream": "registry"}) or 0.0


class Watching(ProblemStatsProjection):
    """Problem stats that note the consumer's position and lag gauges as each page arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[float, float]] = []

    async def apply_batch(self, envelopes, db, session) -> None:
        self.seen.append((gauge("lmp_consumer_position"), gauge("lmp_consumer_lag_events")))
        await super().apply_batch(envelopes, db, session)


async def test_position_and_lag_move_page_by_page_during_a_long_round(stack, database):
    # An operator watching a catch-up of a year (lmp status, the lag alert) must see the lag
    # at once and the position move, not 0 and 0 until the round ends.
    stack.register(PROBLEMS)
    watching = Watching()
    consumer = consumer_of(stack, database, watching)
    await consumer.prepare()

    await consumer.catch_up()

    assert [page for page, _ in watching.seen] == [0, READ_LIMIT, 2 * READ_LIMIT]
    assert [lag for _, lag in watching.seen] == [PROBLEMS, PROBLEMS - READ_LIMIT, 100]
    assert gauge("lmp_consumer_position") == PROBLEMS
    assert gauge("lmp_consumer_lag_events") == 0


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"upstream": "registry", **labels}) or 0.0


class KafkaDuringTheRound(TrackedConsumer):
    """A consumer to which Kafka brings a batch while its full round is on its first page: the
    last events of the log as the round began, and events recorded after the round began."""

    def __init__(self, *args: Any, deliver: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deliver = deliver
        self.delivered: bool | None = None

    async def apply_page(self, envelopes, path, *, through=0):
        if self.delivered is None:
            self.delivered = await self.from_kafka(self.deliver())
        return await super().apply_page(envelopes, path, through=through)


async def test_kafka_leaves_to_a_full_round_what_the_round_reads_anyway(stack, database):
    # After a backlog (a start after downtime, a restore, a relay publishing a year's events)
    # Kafka brings what the full round at start is reading too: applying it twice tracked ids
    # far ahead page by page and conflicted on every transaction. The round applies those in
    # the log's order; Kafka applies only what was recorded after the round began.
    stack.register(PROBLEMS)

    def deliver() -> list[str]:
        stack.register(5, prefix="During the round")
        return [e.model_dump_json() for e in delivered_by_kafka(stack, 105, after=PROBLEMS - 100)]

    consumer = KafkaDuringTheRound(
        upstream="registry",
        projections=[ProblemStatsProjection()],
        client=database.client,
        database=database.name,
        upstream_target=stack.target("registry"),
        topic="unused",
        token=service_token(Settings.from_env("kpi", stack.env)),
        deliver=deliver,
    )
    await consumer.prepare()
    left = counted("lmp_consumer_left_to_round_total")
    by_kafka = counted("lmp_consumer_applied_total", path="kafka")
    duplicates = counted("lmp_consumer_duplicates_total")

    assert await consumer.catch_up() == PROBLEMS

    assert consumer.delivered is True, "Kafka's batch is handled: its offsets may be committed"
    assert counted("lmp_consumer_left_to_round_total") - left == 100
    assert counted("lmp_consumer_applied_total", path="kafka") - by_kafka == 5
    assert counted("lmp_consumer_duplicates_total") - duplicates == 0, "nothing applied twice"
    assert consumer.full_round_to is None, "between rounds Kafka applies everything"
    (stats,) = await database[PROBLEM_STATS].find().to_list()
    assert stats["problems_registered"] == PROBLEMS + 5
    assert await consumer.position() == PROBLEMS
    assert await consumer.catch_up() == 0, "the five Kafka applied are passed, not applied again"
    assert await consumer.position() == PROBLEMS + 5
