"""Notifications' projection is replay-safe (issue 19 item 3, the part this projection owes):
a subscriber hears only of events that happened after it subscribed, however late the event
reaches the service, and the same events make the same deliveries whenever they are applied —
no wall clock in a delivery. Real SecantusDB, the real consumer and projection."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from lmp_kit.auth import Principal
from lmp_kit.consumer import TrackedConsumer
from lmp_kit.envelope import Envelope
from notifications.application import Notifications
from notifications.domain.subscriptions import SubscriptionRequest
from notifications.projections import DELIVERIES, INBOX, REGISTRY, SUBSCRIPTIONS
from notifications.targets import WebhookTargets
from pymongo import AsyncMongoClient

PORTAL = Principal("portal-1", frozenset({"portal"}), frozenset({"sarov"}), frozenset())


def activity(nid: int, occurred_at: datetime) -> Envelope:
    aggregate = uuid.uuid5(uuid.NAMESPACE_URL, f"replay-activity:{nid}")
    return Envelope(
        event_id=uuid.uuid5(aggregate, "1"),
        event_type="Activity.Registered",
        schema_version=2,
        service="registry",
        city_id="sarov",
        aggregate_id=aggregate,
        aggregate_version=1,
        notification_id=nid,
        occurred_at=occurred_at,
        traceparent="",
        payload={
            "kind": "working_meeting",
            "title": f"Встреча {nid}",
            "held_on": "2026-12-03",
            "participant_categories": ["administration"],
        },
    )


def consumer(client: AsyncMongoClient[Any], database: str) -> TrackedConsumer:
    return TrackedConsumer(
        upstream="registry",
        projections=(REGISTRY,),
        client=client,
        database=database,
        upstream_target="127.0.0.1:1",
        topic="unused",
        token=lambda: "",
    )


async def test_only_events_after_the_subscription_are_delivered_and_replays_agree(mongo):
    client, name = mongo
    db = client[name]
    await Notifications(db, targets=WebhookTargets(allow_private=True)).create_subscription(
        PORTAL,
        SubscriptionRequest(
            city_id="sarov",
            kind="activity_registered",
            person_id="anna",
            channels=("inbox", "email"),
            email="anna@example.org",
        ),
    )
    (subscription,) = await db[SUBSCRIPTIONS].find().to_list()
    subscribed = subscription["created_at"]
    before = activity(1, subscribed - timedelta(hours=1))  # reaches us only now: no notice
    after = activity(2, subscribed + timedelta(seconds=1))

    await consumer(client, name).apply_page([before, after], "catch-up")

    deliveries = await db[DELIVERIES].find({}, {"_id": 0}).sort("channel").to_list()
    assert [(d["event_id"], d["channel"]) for d in deliveries] == [
        (str(after.event_id), "email"),
        (str(after.event_id), "inbox"),
    ]
    # the delivery's times are the event's: no clock, so a replay cannot differ
    assert {d["created_at"] for d in deliveries} == {after.occurred_at}  # ms, as stored
    assert {d["next_attempt_at"] for d in deliveries} == {after.occurred_at}

    # The same events applied again into a second database with the same subscription (a
    # replay, whatever the order): the same deliveries, byte for byte.
    other = client[f"{name}_replay"]
    try:
        await other[SUBSCRIPTIONS].insert_one(subscription)
        await consumer(client, f"{name}_replay").apply_page([after, before], "catch-up")
        replayed = await other[DELIVERIES].find({}, {"_id": 0}).sort("channel").to_list()
        assert replayed == deliveries
        assert await other[INBOX].count_documents({}) == 1
    finally:
        await client.drop_database(f"{name}_replay")


async def test_an_event_applied_twice_is_delivered_once(mongo):
    client, name = mongo
    db = client[name]
    await Notifications(db, targets=WebhookTargets(allow_private=True)).create_subscription(
        PORTAL,
        SubscriptionRequest(
            city_id="sarov", kind="activity_registered", person_id="anna", channels=("inbox",)
        ),
    )
    event = activity(7, datetime.now(UTC) + timedelta(seconds=1))
    follower = consumer(client, name)
    await follower.apply_page([event], "kafka")
    await follower.apply_page([event], "catch-up")
    assert await db[DELIVERIES].count_documents({}) == 1
    assert await db[INBOX].count_documents({}) == 1
