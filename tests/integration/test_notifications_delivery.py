"""Notifications on a real MongoDB, a real HTTP receiver and a real SMTP server on loopback.

The consumer, the delivery worker and the reminders run in this process; the service as a
whole (`lmp serve`) is tested in test_notifications_service.py.
"""

# ruff: noqa: RUF001  # Russian texts are Cyrillic on purpose
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from lmp.notifications.v1 import notifications_pb2 as pb
from lmp_devstack import free_port
from lmp_kit.auth import Principal
from lmp_kit.consumer import TrackedConsumer
from lmp_kit.envelope import Envelope
from lmp_kit.errors import DomainError
from notifications import metrics, views
from notifications.access import policy
from notifications.application import Notifications
from notifications.config import DeliverySettings
from notifications.delivery import DeliveryWorker, EmailSender, WebhookSender
from notifications.domain.messages import delivery_id
from notifications.domain.subscriptions import SubscriptionRequest
from notifications.projections import DELIVERIES, EXPERTISE, INBOX, REGISTRY
from notifications.reminders import send_reminders
from prometheus_client import REGISTRY as PROMETHEUS

from .conftest import Mailbox

FAST = DeliverySettings(
    webhook_timeout_s=0.5,
    smtp_timeout_s=2.0,
    max_attempts=3,
    backoff_base_s=0.05,
    backoff_cap_s=0.2,
    poll_interval_s=0.05,
    webhook_allow_private=True,  # the receivers listen on loopback
)
ANNA = Principal("anna", frozenset({"resident"}), frozenset({"sarov"}), frozenset())
PORTAL = Principal("portal-1", frozenset({"portal"}), frozenset({"sarov"}), frozenset())


def consumer_of(client, database, upstream="registry", projection=REGISTRY):
    return TrackedConsumer(
        upstream=upstream,
        projections=(projection,),
        client=client,
        database=database,
        upstream_target="127.0.0.1:1",
        topic="unused",
        token=lambda: "",
    )


def envelope(event_type, payload, nid, *, city="sarov", service="registry", aggregate_id=None):  # noqa: PLR0913  # an envelope's parts, each named
    aggregate = aggregate_id or uuid.uuid5(uuid.NAMESPACE_URL, f"{event_type}:{nid}")
    return Envelope(
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{aggregate}:{nid}"),
        event_type=event_type,
        schema_version=1,
        service=service,
        city_id=city,
        aggregate_id=aggregate,
        aggregate_version=1,
        notification_id=nid,
        occurred_at=datetime.now(UTC),  # after the test's subscriptions: they hear of it
        traceparent="",
        payload=payload,
    )


def activity(nid, title="Стратегическая сессия", speakers=(), city="sarov"):
    payload = {
        "kind": "strategic_session",
        "title": title,
        "held_on": "2026-12-03",
        "speakers": [{"person_id": s, "name": s} for s in speakers],
        "joint_action": True,
        "branding_used": True,
    }
    return envelope("Activity.Registered", payload, nid, city=city)


async def subscribe(db, caller=ANNA, **values):
    request = {"city_id": "sarov", "kind": "activity_registered", "person_id": caller.subject}
    return await Notifications(db, targets=FAST.webhook_targets).create_subscription(
        caller, SubscriptionRequest(**(request | values))
    )


async def settle(worker: DeliveryWorker, db, did: str):
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        await worker.deliver_one()
        found = await db[DELIVERIES].find_one({"_id": did})
        if found["status"] != "pending":
            return found
        await asyncio.sleep(0.03)
    return await db[DELIVERIES].find_one({"_id": did})


class Receiver:
    """A portal's webhook endpoint on loopback, answering from a script."""

    def __init__(self, script: list[int | str], port: int | None = None) -> None:
        self.script = script
        self.port = port or free_port()
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/lmp"

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        answer = self.script.pop(0) if self.script else 200
        if answer == "slow":
            await asyncio.sleep(2)
            answer = 200
        return web.Response(status=int(answer), text="ok" if answer == 200 else "broken")

    async def __aenter__(self) -> Receiver:  # noqa: PYI034  # a final test helper
        app = web.Application()
        app.router.add_post("/hooks/lmp", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    signed = headers["X-LMP-Timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-LMP-Signature"])


def counted(channel: str, outcome: str) -> float:
    value = PROMETHEUS.get_sample_value(
        "lmp_notification_deliveries_total", {"channel": channel, "outcome": outcome}
    )
    return value or 0.0


async def test_a_redelivered_event_creates_each_delivery_and_inbox_entry_once(mongo):
    client, name = mongo
    db = client[name]
    subscription = await subscribe(
        db,
        channels=("inbox", "email", "webhook"),
        email="anna@example.org",
        webhook_url="http://127.0.0.1:9/hook",
    )
    consumer = consumer_of(client, name)
    await consumer.prepare()
    event = activity(1)

    assert await consumer.apply_batch([event], "kafka") == 1
    assert await consumer.apply_batch([event], "catch-up") == 0
    await db["_tracking"].delete_many({})  # as after pruning, or a rebuild of the read model
    assert await consumer.apply_batch([event], "catch-up") == 1

    deliveries = await db[DELIVERIES].find().to_list()
    assert sorted(d["_id"] for d in deliveries) == sorted(
        delivery_id(str(event.event_id), subscription.subscription_id, c)
        for c in ("inbox", "email", "webhook")
    )
    assert {d["channel"]: d["status"] for d in deliveries} == {
        "inbox": "delivered",
        "email": "pending",
        "webhook": "pending",
    }
    [entry] = await db[INBOX].find().to_list()
    assert entry["position"] == 1
    assert entry["subject"] == "sarov: мероприятие «Стратегическая сессия» 2026-12-03"
    assert await views.unread_count(db, ANNA, "anna") == 1


async def test_the_inbox_pages_newest_first_and_marks_read(mongo):
    client, name = mongo
    db = client[name]
    await subscribe(db, channels=("inbox",))
    consumer = consumer_of(client, name)
    await consumer.prepare()
    await consumer.apply_batch([activity(n, title=f"Встреча {n}") for n in range(1, 6)], "kafka")

    first = await views.inbox(db, ANNA, "anna", unread_only=False, size=2, token="")
    second = await views.inbox(
        db, ANNA, "anna", unread_only=False, size=2, token=first.next_page_token
    )
    marked = await Notifications(db).mark_read(ANNA, "anna", [d["_id"] for d in first.items])

    assert [d["position"] for d in first.items + second.items] == [5, 4, 3, 2]
    assert marked == 2
    assert await views.unread_count(db, ANNA, "anna") == 3
    assert await Notifications(db).mark_read(ANNA, "anna", [d["_id"] for d in first.items]) == 0
    unread = await views.inbox(db, ANNA, "anna", unread_only=True, size=10, token="")
    assert [d["position"] for d in unread.items] == [3, 2, 1]


def person(subject, role, *cities):
    return Principal(subject, frozenset({role}), frozenset(cities), frozenset())


async def test_mark_read_never_marks_notices_of_a_city_not_in_the_callers_token(mongo):
    """Issue 15: a portal of one city marked another city's inbox notices read."""
    client, name = mongo
    db = client[name]
    both = person("anna", "resident", "sarov", "seversk")
    for city in ("sarov", "seversk"):
        await subscribe(db, both, city_id=city, channels=("inbox",))
    consumer = consumer_of(client, name)
    await consumer.prepare()
    await consumer.apply_batch([activity(1), activity(2, city="seversk")], "kafka")
    everything = await views.inbox(db, both, "anna", unread_only=False, size=10, token="")
    ids = {d["city_id"]: d["_id"] for d in everything.items}
    seversk_portal = person("portal-2", "portal", "seversk")
    annas_seversk_token = person("anna", "resident", "seversk")

    by_portal = await Notifications(db).mark_read(
        seversk_portal, views.recipient_of(seversk_portal, "anna"), [ids["sarov"]]
    )
    by_anna = await Notifications(db).mark_read(annas_seversk_token, "anna", [ids["sarov"]])
    both_ids = await Notifications(db).mark_read(seversk_portal, "anna", list(ids.values()))

    assert (by_portal, by_anna, both_ids) == (0, 0, 1)
    unread = await views.inbox(db, both, "anna", unread_only=True, size=10, token="")
    assert [d["city_id"] for d in unread.items] == ["sarov"]
    assert await views.unread_count(db, seversk_portal, "anna") == 0


async def test_a_subscription_of_another_city_is_not_found_like_one_that_does_not_exist(mongo):
    client, name = mongo
    db = client[name]
    made = await subscribe(db, channels=("inbox",))
    unknown = str(uuid.uuid4())
    admit = policy(db).admit

    async def refused(subscription_id: str) -> DomainError:
        with pytest.raises(DomainError) as raised:
            await admit(
                "DeleteSubscription",
                pb.DeleteSubscriptionRequest(subscription_id=subscription_id),
                person("anna", "resident", "seversk"),
            )
        return raised.value

    theirs, none = await refused(made.subscription_id), await refused(unknown)
    await admit(
        "DeleteSubscription",
        pb.DeleteSubscriptionRequest(subscription_id=made.subscription_id),
        ANNA,
    )

    assert theirs.status == none.status == grpc.StatusCode.NOT_FOUND
    assert theirs.message.replace(made.subscription_id, "ID") == none.message.replace(unknown, "ID")


async def test_a_review_is_assigned_to_the_council_members_of_the_city_who_are_not_authors(mongo):
    client, name = mongo
    db = client[name]
    consumer = consumer_of(client, name, "expertise", EXPERTISE)
    await consumer.prepare()
    council = uuid.uuid5(uuid.NAMESPACE_URL, "council")
    members = [
        envelope(
            "Council.MemberAdmitted",
            {"person_id": person, "name": person, "cities": cities},
            nid,
            city="*",
            service="expertise",
            aggregate_id=council,
        )
        for nid, (person, cities) in enumerate(
            [("eva", ["sarov"]), ("fedor", ["seversk"]), ("gleb", ["*"]), ("ilya", ["*"])], 1
        )
    ]
    everyone = Principal("portal-1", frozenset({"portal"}), frozenset({"sarov"}), frozenset())
    for person in ("eva", "fedor", "gleb"):
        await subscribe(db, everyone, person_id=person, kind="review_assigned", channels=("inbox",))
    await subscribe(
        db, everyone, person_id="", role="expert", kind="review_assigned", channels=("inbox",)
    )
    opened = envelope(
        "Review.Opened",
        {
            "practice_id": "p-1",
            "practice_kind": "own",
            "practice_title": "Светлые дворы",
            "round": "primary",
            "weights": {},
            "interested": ["gleb"],
        },
        5,
        service="expertise",
    )

    await consumer.apply_batch([*members, opened], "kafka")

    inboxes = sorted(d["recipient"] for d in await db[INBOX].find().to_list())
    assert inboxes == ["eva", "portal-1"]
    [eva] = await db[INBOX].find({"recipient": "eva"}).to_list()
    assert eva["subject"] == "Вам назначена экспертиза практики «Светлые дворы»"
    assert eva["data"]["reviewers"] == ["eva", "ilya"]


async def test_a_webhook_is_signed_and_retried_after_a_500_and_a_timeout(mongo):
    client, name = mongo
    db = client[name]
    async with Receiver([500, "slow", 200]) as receiver:
        subscription = await subscribe(db, channels=("webhook",), webhook_url=receiver.url)
        consumer = consumer_of(client, name)
        await consumer.apply_batch([activity(1)], "kafka")
        worker = DeliveryWorker(
            db, {"webhook": WebhookSender(FAST.webhook_timeout_s, FAST.webhook_targets)}, FAST
        )
        retried = counted("webhook", "retried")

        [pending] = await db[DELIVERIES].find().to_list()
        done = await settle(worker, db, pending["_id"])
        await worker.senders["webhook"].close()  # type: ignore[attr-defined]

    assert (done["status"], done["attempts"]) == ("delivered", 3)
    assert len(receiver.received) == 3
    assert counted("webhook", "retried") - retried == 2
    for headers, body in receiver.received:
        assert headers["Idempotency-Key"] == pending["_id"]
        assert verified(subscription.webhook_secret, headers, body)
        assert abs(int(headers["X-LMP-Timestamp"]) - time.time()) < 60
        payload = json.loads(body)
        assert payload["delivery_id"] == pending["_id"]
        assert payload["kind"] == "activity_registered"
        assert payload["data"]["title"] == "Стратегическая сессия"
    assert not verified("another secret", *receiver.received[0])


async def test_a_webhook_to_a_receiver_that_is_down_becomes_a_dead_letter_and_is_redelivered(mongo):
    client, name = mongo
    db = client[name]
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/lmp"
    await subscribe(db, PORTAL, person_id="anna", channels=("webhook",), webhook_url=url)
    await consumer_of(client, name).apply_batch([activity(1)], "kafka")
    worker = DeliveryWorker(
        db, {"webhook": WebhookSender(FAST.webhook_timeout_s, FAST.webhook_targets)}, FAST
    )
    [pending] = await db[DELIVERIES].find().to_list()

    dead = await settle(worker, db, pending["_id"])
    await metrics.refresh(db, DELIVERIES, datetime.now(UTC))

    assert (dead["status"], dead["attempts"]) == ("dead", 3)
    assert "Connect" in dead["last_error"]
    page = await views.dead_letters(db, "sarov", 10, "")
    assert [d["_id"] for d in page.items] == [pending["_id"]]
    assert PROMETHEUS.get_sample_value("lmp_webhook_dead_letters", {"city": "sarov"}) == 1

    stranger = Principal("portal-2", frozenset({"portal"}), frozenset({"seversk"}), frozenset())
    redeliver = pb.RedeliverDeadLetterRequest(delivery_id=pending["_id"])
    with pytest.raises(DomainError) as refused:
        await policy(db).admit("RedeliverDeadLetter", redeliver, stranger)
    assert refused.value.status == grpc.StatusCode.NOT_FOUND
    await policy(db).admit("RedeliverDeadLetter", redeliver, PORTAL)

    async with Receiver([], port=port) as receiver:
        again = await Notifications(db).redeliver(PORTAL.subject, pending["_id"])
        assert (again["status"], again["attempts"]) == ("pending", 0)
        done = await settle(worker, db, pending["_id"])
        await worker.senders["webhook"].close()  # type: ignore[attr-defined]

    await metrics.refresh(db, DELIVERIES, datetime.now(UTC))
    assert done["status"] == "delivered"
    assert [h["Idempotency-Key"] for h, _ in receiver.received] == [pending["_id"]]
    assert PROMETHEUS.get_sample_value("lmp_webhook_dead_letters", {"city": "sarov"}) == 0
    with pytest.raises(DomainError) as not_dead:
        await Notifications(db).redeliver(PORTAL.subject, pending["_id"])
    assert not_dead.value.status == grpc.StatusCode.FAILED_PRECONDITION


async def test_a_webhook_whose_host_now_points_inside_is_a_dead_letter_and_never_posted(mongo):
    """Checked again at delivery: a name that resolves to loopback now (DNS changed after the
    subscription) and an address stored before targets were checked are refused at once."""
    client, name = mongo
    db = client[name]
    async with Receiver([]) as receiver:
        by_name = f"http://localhost:{receiver.port}/hooks/lmp"
        await subscribe(db, channels=("webhook",), webhook_url=by_name)
        stored = await subscribe(
            db, PORTAL, person_id="boris", channels=("webhook",), webhook_url=by_name
        )
        await db["subscriptions"].update_one(
            {"_id": stored.subscription_id}, {"$set": {"webhook_url": f"{receiver.url}?old=1"}}
        )
        await consumer_of(client, name).apply_batch([activity(1)], "kafka")
        sender = WebhookSender(FAST.webhook_timeout_s)  # the production default
        worker = DeliveryWorker(db, {"webhook": sender}, FAST)
        pending = await db[DELIVERIES].find().to_list()
        dead = [await settle(worker, db, d["_id"]) for d in pending]
        await sender.close()

    assert receiver.received == []
    assert {(d["status"], d["attempts"]) for d in dead} == {("dead", 1)}
    errors = sorted(d["last_error"] for d in dead)
    assert errors[0].startswith("undeliverable: 127.0.0.1 is a loopback address")
    assert errors[1].startswith("undeliverable: localhost resolves to")
    assert all("LMP_WEBHOOK_ALLOW_PRIVATE" in e for e in errors)


async def test_a_receivers_reply_is_not_shown_to_the_subscriber_beyond_its_status(mongo):
    client, name = mongo
    db = client[name]
    async with Receiver([500, 500, 500]) as receiver:
        await subscribe(db, channels=("webhook",), webhook_url=receiver.url)
        await consumer_of(client, name).apply_batch([activity(1)], "kafka")
        worker = DeliveryWorker(db, {"webhook": WebhookSender(0.5, FAST.webhook_targets)}, FAST)
        [pending] = await db[DELIVERIES].find().to_list()
        dead = await settle(worker, db, pending["_id"])
        await worker.senders["webhook"].close()  # type: ignore[attr-defined]

    assert (dead["status"], dead["last_error"]) == ("dead", "HTTP 500")
    assert len(receiver.received) == FAST.max_attempts


async def test_a_crash_between_sending_and_recording_resends_with_the_same_idempotency_key(mongo):
    client, name = mongo
    db = client[name]
    async with Receiver([]) as receiver:
        await subscribe(db, channels=("webhook",), webhook_url=receiver.url)
        await consumer_of(client, name).apply_batch([activity(1)], "kafka")
        now = [datetime.now(UTC)]
        sender = WebhookSender(FAST.webhook_timeout_s, FAST.webhook_targets)
        crashed = DeliveryWorker(db, {"webhook": sender}, FAST, clock=lambda: now[0])

        claimed = await crashed.claim()
        assert claimed is not None
        subscription = await Notifications(db).subscription(claimed["subscription_id"])
        await sender.send(claimed, subscription)  # ... and the process dies before recording
        assert await crashed.claim() is None  # hidden from others while its lease runs
        now[0] += timedelta(seconds=FAST.lease_s + 1)
        assert await crashed.deliver_one()
        await sender.close()

    keys = [h["Idempotency-Key"] for h, _ in receiver.received]
    assert keys == [claimed["_id"], claimed["_id"]]
    found = await db[DELIVERIES].find_one({"_id": claimed["_id"]})
    assert (found["status"], found["attempts"]) == ("delivered", 1)


async def test_an_email_in_russian_reaches_a_real_smtp_server(mongo):
    client, name = mongo
    db = client[name]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        await subscribe(db, channels=("email",), email="anna@example.org")
        await consumer_of(client, name).apply_batch([activity(1)], "kafka")
        settings = DeliverySettings(smtp_port=controller.port, smtp_timeout_s=5)
        worker = DeliveryWorker(db, {"email": EmailSender(settings)}, settings)
        [pending] = await db[DELIVERIES].find().to_list()
        done = await settle(worker, db, pending["_id"])
    finally:
        controller.stop()

    assert done["status"] == "delivered"
    [message] = mailbox.messages
    assert message["To"] == "anna@example.org"
    assert message["Subject"] == "sarov: мероприятие «Стратегическая сессия» 2026-12-03"
    assert message["Message-ID"] == f"<{pending['_id']}@notifications.lmp>"
    assert "Не забудьте опубликовать анонс" in message.get_content()


async def test_an_email_to_an_smtp_server_that_is_down_is_retried_then_given_up(mongo):
    client, name = mongo
    db = client[name]
    await subscribe(db, channels=("email",), email="anna@example.org")
    await consumer_of(client, name).apply_batch([activity(1)], "kafka")
    settings = DeliverySettings(
        smtp_port=free_port(), smtp_timeout_s=1, max_attempts=2, backoff_base_s=0.01
    )
    worker = DeliveryWorker(db, {"email": EmailSender(settings)}, settings)
    [pending] = await db[DELIVERIES].find().to_list()

    done = await settle(worker, db, pending["_id"])

    assert (done["status"], done["attempts"]) == ("dead", 2)
    assert done["last_error"].startswith("SMTP 127.0.0.1:")


async def test_reminders_reach_subscribers_once_however_often_the_schedule_runs(mongo):
    client, name = mongo
    db = client[name]
    office = Principal("wg-1", frozenset({"working_group"}), frozenset({"sarov"}), frozenset())
    await subscribe(
        db,
        office,
        person_id="",
        role="working_group",
        kind="reminder_knockout_at_risk",
        channels=("inbox",),
    )
    registered = envelope("City.Registered", {"name": "Саров"}, 1)
    held = activity(2, speakers=("p1", "p2"))
    held = held.model_copy(update={"payload": {**held.payload, "held_on": "2026-11-05"}})
    await consumer_of(client, name).apply_batch([registered, held], "kafka")
    now = datetime(2026, 11, 21, 8, tzinfo=UTC)

    first = await send_reminders(client, name, now, DeliverySettings())
    again = await send_reminders(client, name, now + timedelta(hours=1), DeliverySettings())

    assert (first, again) == (2, 0)
    subjects = sorted(d["subject"] for d in await db[INBOX].find({"recipient": "wg-1"}).to_list())
    assert subjects == [
        "Саров: под угрозой отсекающий показатель K1",
        "Саров: под угрозой отсекающий показатель K4",
    ]
