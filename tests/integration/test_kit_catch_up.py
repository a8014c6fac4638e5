"""The consumer's catch-up against a real event log and MongoDB: pages that Kafka already
applied in full are passed without reading them; the rest is read and applied."""

from __future__ import annotations

import uuid
from typing import Any

from kpi.projections import PROBLEM_STATS, ProblemStatsProjection
from lmp.common.v1 import events_pb2
from lmp_kit.consumer import READ_LIMIT, TRACKING, TrackedConsumer
from lmp_kit.envelope import Envelope
from lmp_kit.runtime import service_token
from lmp_kit.settings import Settings
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient

PROBLEMS = 2 * READ_LIMIT + 100


def skipped_pages() -> float:
    found = REGISTRY.get_sample_value(
        "lmp_consumer_catch_up_pages_skipped_total", {"upstream": "registry"}
    )
    return found or 0.0


async def test_the_catch_up_passes_pages_kafka_applied_and_reads_the_rest(stack, mongodb_uri):
    stack.register(PROBLEMS)
    token = service_token(Settings.from_env("kpi", stack.env))
    delivered = stack.event_log().ReadEvents(
        events_pb2.ReadEventsRequest(after=0, limit=2 * READ_LIMIT),
        metadata=(("authorization", f"Bearer {token()}"),),
        timeout=30,
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    database = f"catch_up_{uuid.uuid4().hex[:8]}"
    consumer = TrackedConsumer(
        upstream="registry",
        projections=[ProblemStatsProjection()],
        client=client,
        database=database,
        upstream_target=stack.target("registry"),
        topic="unused",
        token=token,
    )
    try:
        await consumer.prepare()
        kafka = [Envelope.from_proto(e) for e in delivered.events]
        assert await consumer.apply_batch(kafka, path="kafka") == 2 * READ_LIMIT
        before = skipped_pages()

        caught_up = await consumer.catch_up()

        assert stack.head() == PROBLEMS, "one event per problem, ids without gaps"
        assert caught_up == PROBLEMS - 2 * READ_LIMIT
        assert skipped_pages() - before == 2  # the two pages Kafka applied
        assert await consumer.position() == PROBLEMS
        (stats,) = await client[database][PROBLEM_STATS].find().to_list()
        assert stats["problems_registered"] == PROBLEMS
        assert await consumer.catch_up() == 0
    finally:
        await client.drop_database(database)
        await client.close()


async def test_tracking_records_of_the_earlier_form_are_folded_into_blocks(stack, mongodb_uri):
    stack.register(READ_LIMIT + 10)
    token = service_token(Settings.from_env("kpi", stack.env))
    everything = stack.event_log().ReadEvents(
        events_pb2.ReadEventsRequest(after=0, limit=2 * READ_LIMIT),
        metadata=(("authorization", f"Bearer {token()}"),),
        timeout=30,
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    database = f"migrate_{uuid.uuid4().hex[:8]}"
    tracking = client[database][TRACKING]
    await tracking.insert_many(
        [
            {"_id": f"registry:{nid}", "upstream": "registry", "nid": nid, "event_id": "e"}
            for nid in range(1, 301)
        ]
    )
    consumer = TrackedConsumer(
        upstream="registry",
        projections=[ProblemStatsProjection()],
        client=client,
        database=database,
        upstream_target=stack.target("registry"),
        topic="unused",
        token=token,
    )
    try:
        await consumer.prepare()
        envelopes = [Envelope.from_proto(e) for e in everything.events]

        applied = await consumer.apply_batch(envelopes, path="kafka")

        assert applied == READ_LIMIT + 10 - 300, "what the old records tracked is not applied again"
        blocks = {doc["_id"]: sorted(doc["nids"]) async for doc in tracking.find()}
        assert blocks == {
            "registry:0": list(range(1, READ_LIMIT + 1)),
            "registry:1": list(range(READ_LIMIT + 1, READ_LIMIT + 11)),
        }
    finally:
        await client.drop_database(database)
        await client.close()
