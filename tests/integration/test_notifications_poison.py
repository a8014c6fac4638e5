"""Poisoned deliveries on real servers: a real SMTP server (aiosmtpd), a real HTTP receiver, a
raw TCP peer that answers garbage, and SecantusDB. The delivery worker runs its real loops
(`run`), so a poisoned delivery that kills a loop shows as the next delivery never arriving."""

# Russian texts are Cyrillic on purpose
from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from lmp_devstack import free_port
from lmp_kit.auth import Principal
from lmp_kit.consumer import TrackedConsumer
from lmp_kit.envelope import Envelope
from notifications.application import Notifications
from notifications.config import DeliverySettings
from notifications.delivery import DeliveryWorker, EmailSender, WebhookSender
from notifications.domain.subscriptions import SubscriptionRequest
from notifications.projections import ACTIVITIES, CITIES, DELIVERIES, INBOX, REGISTRY
from notifications.reminders import remind_forever
from notifications.targets import WebhookTargets
from prometheus_client import REGISTRY as PROMETHEUS
from pymongo import AsyncMongoClient

from .conftest import Mailbox

PORTAL = Principal("portal-1", frozenset({"portal"}), frozenset({"sarov"}), frozenset())
OFFICE = Principal(
    "office-1", frozenset({"programme_office"}), frozenset({"sarov", "seversk"}), frozenset()
)
T = TypeVar("T")
ON_PREMISE = WebhookTargets(allow_private=True)  # the receivers listen on loopback
POISONED_TITLE = "Стратегическая сессия\r\nBcc: everyone@example.org\x1b[31m\u202e"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[list[bytes], str]]:
    bodies: list[bytes] = []

    async def receive(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield bodies, f"http://127.0.0.1:{port}/hook"
    await runner.cleanup()


@pytest.fixture
async def garbage() -> AsyncIterator[str]:
    """A peer that reads the request, answers what is not HTTP, or just hangs up."""
    answers = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal answers
        answers += 1
        with contextlib.suppress(ConnectionError):
            await reader.read(65536)
            if answers % 2:
                writer.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/hook"
    server.close()
    await server.wait_closed()


def envelope(event_type: str, payload: dict[str, Any], nid: int, city: str = "sarov") -> Envelope:
    aggregate = uuid.uuid5(uuid.NAMESPACE_URL, f"{event_type}:{city}:{nid}")
    return Envelope(
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{aggregate}:{nid}"),
        event_type=event_type,
        schema_version=1,
        service="registry",
        city_id=city,
        aggregate_id=aggregate,
        aggregate_version=1,
        notification_id=nid,
        occurred_at=datetime.now(UTC),  # after the test's subscriptions: they hear of it
        traceparent=f"00-{uuid.uuid5(uuid.NAMESPACE_URL, str(nid)).hex}-00f067aa0ba902b7-01",
        payload=payload,
    )


def activity_registered(nid: int, title: str) -> Envelope:
    """As the registry recorded it, before its API refused control characters in titles."""
    payload = {
        "kind": "strategic_session",
        "title": title,
        "held_on": "2026-12-03",
        "speakers": [],
        "joint_action": True,
        "branding_used": True,
    }
    return envelope("Activity.Registered", payload, nid)


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


async def subscribe(db: Any, person: str, **channels: Any) -> str:  # a test database
    subscription = await Notifications(db, targets=ON_PREMISE).create_subscription(
        PORTAL,
        SubscriptionRequest(
            city_id="sarov", kind="activity_registered", person_id=person, **channels
        ),
    )
    return subscription.subscription_id


def sample(name: str, labels: dict[str, str]) -> float:
    return PROMETHEUS.get_sample_value(name, labels) or 0.0


async def eventually(
    read: Callable[[], Awaitable[T]], done: Callable[[T], bool], within_s: float = 30.0
) -> T:
    deadline = time.monotonic() + within_s
    seen = await read()
    while not done(seen) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        seen = await read()
    return seen


async def test_poisoned_deliveries_are_dead_letters_and_the_next_ones_still_arrive(  # noqa: PLR0915  # one story, told in order
    mongo, mailbox, receiver, garbage
):
    client, name = mongo
    db = client[name]
    box, smtp_port = mailbox
    bodies, hook_url = receiver
    settings = DeliverySettings(
        smtp_port=smtp_port,
        smtp_timeout_s=5.0,
        webhook_timeout_s=2.0,
        max_attempts=2,
        backoff_base_s=0.05,
        backoff_cap_s=0.1,
        poll_interval_s=0.05,
        concurrency=2,
        webhook_allow_private=True,  # the receivers listen on loopback
    )
    await subscribe(db, "anna", channels=("email",), email="anna@example.org")
    broken_mail = await subscribe(db, "boris", channels=("email",), email="boris@example.org")
    # An address stored before the API refused control characters: no header can carry it.
    await db["subscriptions"].update_one(
        {"_id": broken_mail}, {"$set": {"email": "boris@example.org\r\nBcc: all@example.org"}}
    )
    await subscribe(db, "vera", channels=("webhook",), webhook_url=garbage)
    broken_hook = await subscribe(db, "gleb", channels=("webhook",), webhook_url=hook_url)
    await db["subscriptions"].update_one(
        {"_id": broken_hook}, {"$set": {"webhook_url": "http://[::1/hook\x00"}}
    )
    await subscribe(db, "dana", channels=("webhook",), webhook_url=hook_url)
    projection = consumer(client, name)
    await projection.prepare()
    await projection.apply_batch([activity_registered(1, POISONED_TITLE)], "kafka")
    poisoned = {
        (d["recipient"], d["channel"]): d["_id"] for d in await db[DELIVERIES].find().to_list()
    }
    # The poisoned deliveries are due first: before the fix, they killed every loop.
    await db[DELIVERIES].update_many(
        {}, {"$set": {"next_attempt_at": datetime(2026, 1, 1, tzinfo=UTC)}}
    )
    failures = {
        worker: sample("lmp_worker_failures_total", {"worker": worker})
        for worker in ("delivery-email", "delivery-webhook")
    }
    dead = {
        channel: sample(
            "lmp_notification_deliveries_total", {"channel": channel, "outcome": "dead"}
        )
        for channel in ("email", "webhook")
    }

    worker = DeliveryWorker(
        db,
        {
            "email": EmailSender(settings),
            "webhook": WebhookSender(settings.webhook_timeout_s, settings.webhook_targets),
        },
        settings,
    )
    stopping = asyncio.Event()
    running = asyncio.create_task(worker.run(stopping))
    try:

        async def started() -> bool:
            return worker.is_alive()

        # SecantusDB leaves out of a new index what a transaction writes while it is built.
        assert await eventually(started, bool)
        await projection.apply_batch([activity_registered(2, "Совет жителей")], "kafka")

        async def settled() -> list[dict[str, Any]]:
            pending: list[dict[str, Any]] = (
                await db[DELIVERIES].find({"status": "pending"}).to_list()
            )
            return pending

        assert await eventually(settled, lambda pending: not pending) == []
        assert worker.is_alive()
    finally:
        stopping.set()
        await asyncio.wait_for(running, 30)

    subjects = sorted(str(m["Subject"]) for m in box.messages)
    assert subjects == [
        "sarov: мероприятие «Совет жителей» 2026-12-03",
        "sarov: мероприятие «Стратегическая сессия Bcc: everyone@example.org [31m » 2026-12-03",
    ]
    assert all(m["To"] == "anna@example.org" for m in box.messages)
    assert all(m["Bcc"] is None for m in box.messages)
    # dana's: JSON carries any text, so the title arrives as it was recorded.
    assert sorted(json.loads(b)["data"]["title"] for b in bodies) == sorted(
        [POISONED_TITLE, "Совет жителей"]
    )

    by_id = {d["_id"]: d async for d in db[DELIVERIES].find()}
    mail, hook, answered = (
        by_id[poisoned["boris", "email"]],
        by_id[poisoned["gleb", "webhook"]],
        by_id[poisoned["vera", "webhook"]],
    )
    assert (mail["status"], mail["attempts"]) == ("dead", 1)  # never retried: it cannot be sent
    assert "control characters" in mail["last_error"]
    assert (hook["status"], hook["attempts"]) == ("dead", 1)
    assert "webhook_url" in hook["last_error"]
    assert (answered["status"], answered["attempts"]) == ("dead", settings.max_attempts)
    assert answered["last_error"]  # what the peer did: a bad status line, or it hung up
    assert by_id[poisoned["anna", "email"]]["status"] == "delivered"  # made safe, then sent
    assert by_id[poisoned["dana", "webhook"]]["status"] == "delivered"
    listed = await db[DELIVERIES].count_documents({"city_id": "sarov", "status": "dead"})
    assert listed == 6  # boris, gleb and vera, for both activities
    assert (
        sample("lmp_worker_failures_total", {"worker": "delivery-email"})
        - failures["delivery-email"]
        == 2
    )
    assert (
        sample("lmp_worker_failures_total", {"worker": "delivery-webhook"})
        - failures["delivery-webhook"]
        >= 2
    )
    assert (
        sample("lmp_notification_deliveries_total", {"channel": "email", "outcome": "dead"})
        - dead["email"]
        == 2
    )
    assert (
        sample("lmp_notification_deliveries_total", {"channel": "webhook", "outcome": "dead"})
        - dead["webhook"]
        == 4
    )


async def test_a_poisoned_city_does_not_stop_the_reminders_of_the_others(mongo):
    client, name = mongo
    db = client[name]
    for city in ("sarov", "seversk"):
        await Notifications(db).create_subscription(
            OFFICE,
            SubscriptionRequest(
                city_id=city,
                kind="reminder_knockout_at_risk",
                person_id="office-1",
                channels=("inbox",),
            ),
        )
        await db[CITIES].insert_one({"_id": city, "name": city.title()})
    # A fact document as an older version might have stored it: speakers is not a list.
    await db[ACTIVITIES].insert_one(
        {"_id": "a-1", "city_id": "sarov", "title": "x", "held_on": "2026-11-05", "speakers": 5}
    )
    settings = DeliverySettings(reminder_interval_s=0.05)
    failures = sample("lmp_worker_failures_total", {"worker": "reminders"})
    stopping = asyncio.Event()
    now = datetime(2026, 11, 21, 8, tzinfo=UTC)
    running = asyncio.create_task(remind_forever(client, name, settings, stopping, lambda: now))
    try:

        async def reminded() -> list[str]:
            return sorted([d["city_id"] async for d in db[INBOX].find()])

        seen = await eventually(reminded, lambda cities: len(cities) >= 2)  # K1 and K4
        assert not running.done()
        assert sample("lmp_worker_failures_total", {"worker": "reminders"}) > failures
    finally:
        stopping.set()
        await asyncio.wait_for(running, 30)
    assert set(seen) == {"seversk"}
