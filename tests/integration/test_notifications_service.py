"""The notifications service as `lmp serve` processes: registry events reach a person's inbox,
their stream, a portal's webhook and a real SMTP server; bad input records nothing."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
import urllib.request
from typing import Any

import grpc
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from lmp.notifications.v1 import notifications_pb2 as pb
from lmp.notifications.v1 import notifications_pb2_grpc as pb_grpc
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp_devstack import free_port


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802  # aiosmtpd's hook
        del server, session
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


def bearer(made, subject, *roles, cities=("sarov",)):
    return (("authorization", f"Bearer {made.issuer.issue(subject, roles=roles, cities=cities)}"),)


async def until(read, predicate):
    deadline = time.monotonic() + 60.0
    seen = None
    while time.monotonic() < deadline:
        seen = await read()
        if predicate(seen):
            return seen
        await asyncio.sleep(0.2)
    return seen


async def refused(call, request, metadata):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call(request, metadata=metadata, timeout=10)
    return raised.value.code()


async def check_bad_input_records_nothing(stub, anna):
    for request, code in [
        (
            pb.CreateSubscriptionRequest(
                city_id="sarov", kind="weather", person_id="anna", channels=["inbox"]
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            pb.CreateSubscriptionRequest(
                city_id="sarov", kind="activity_registered", person_id="anna", channels=["sms"]
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            pb.CreateSubscriptionRequest(
                city_id="sarov",
                kind="activity_registered",
                person_id="anna",
                channels=["webhook"],
                webhook_url="ftp://portal/hook",
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            pb.CreateSubscriptionRequest(
                city_id="seversk",
                kind="activity_registered",
                person_id="anna",
                channels=["inbox"],
            ),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
    ]:
        assert await refused(stub.CreateSubscription, request, anna) == code
    listed = await stub.ListSubscriptions(
        pb.ListSubscriptionsRequest(city_id="sarov"), metadata=anna, timeout=10
    )
    assert list(listed.subscriptions) == []


async def next_notification(stream) -> pb.Notification:
    message = await asyncio.wait_for(stream.read(), 60)
    assert isinstance(message, pb.Notification)
    return message


@pytest.fixture
async def hook():
    posts: list[dict[str, str]] = []

    async def receive(request: web.Request) -> web.Response:
        posts.append(dict(request.headers))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield posts, f"http://127.0.0.1:{port}/hook"
    await runner.cleanup()


@pytest.fixture
async def service(slice_factory, mailbox):
    made = slice_factory()
    made.env |= {
        "LMP_SMTP_PORT": str(mailbox[1]),
        "LMP_DELIVERY_POLL_INTERVAL_S": "0.1",
        "LMP_WEBHOOK_ALLOW_PRIVATE": "true",  # the portal's receiver listens on loopback
    }
    made.start("registry")
    made.start("notifications")
    channel = grpc.aio.insecure_channel(made.target("notifications"))
    registry_channel = grpc.aio.insecure_channel(made.target("registry"))
    yield (
        made,
        pb_grpc.NotificationsServiceStub(channel),
        registry_pb2_grpc.RegistryServiceStub(registry_channel),
    )
    await channel.close(None)
    await registry_channel.close(None)


async def register_activities(made, registry):
    group = bearer(made, "wg-1", "working_group")
    for title, held_on in [
        ("Стратегическая сессия", "2026-12-03"),
        ("Совет жителей", "2026-12-10"),
    ]:
        await registry.RegisterActivity(
            registry_pb2.RegisterActivityRequest(
                city_id="sarov", kind="strategic_session", title=title, held_on=held_on
            ),
            metadata=group,
            timeout=10,
        )


def scrape(port: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        return str(answer.read().decode())


async def test_registry_events_reach_inbox_stream_webhook_and_email_of_a_subscriber(
    service, mailbox, hook
):
    made, stub, registry = service
    posts, hook_url = hook
    anna = bearer(made, "anna", "resident")
    created = await stub.CreateSubscription(
        pb.CreateSubscriptionRequest(
            city_id="sarov",
            kind="activity_registered",
            person_id="anna",
            channels=["inbox", "email", "webhook"],
            email="anna@example.org",
            webhook_url=hook_url,
        ),
        metadata=anna,
        timeout=10,
    )
    assert len(created.webhook_secret) == 64
    again = pb.CreateSubscriptionRequest(
        city_id="sarov", kind="activity_registered", person_id="anna", channels=["inbox"]
    )
    assert await refused(stub.CreateSubscription, again, anna) == grpc.StatusCode.ALREADY_EXISTS

    stream = stub.StreamNotifications(pb.StreamNotificationsRequest(after=0), metadata=anna)
    await register_activities(made, registry)
    first = await next_notification(stream)
    second = await next_notification(stream)
    stream.cancel()
    assert [(n.position, n.kind) for n in (first, second)] == [
        (1, "activity_registered"),
        (2, "activity_registered"),
    ]
    assert first.subject == "sarov: мероприятие «Стратегическая сессия» 2026-12-03"
    resumed = stub.StreamNotifications(pb.StreamNotificationsRequest(after=1), metadata=anna)
    assert (await next_notification(resumed)).position == 2
    resumed.cancel()

    async def sent() -> tuple[int, int]:
        return len(posts), len(mailbox[0].messages)

    assert await until(sent, lambda seen: seen == (2, 2)) == (2, 2)
    assert min(m["Subject"] for m in mailbox[0].messages) == (
        "sarov: мероприятие «Совет жителей» 2026-12-10"
    )
    assert len({h["Idempotency-Key"] for h in posts}) == 2
    assert all(h["X-LMP-Signature"].startswith("sha256=") for h in posts)
    delivered = [
        f'lmp_notification_deliveries_total{{channel="{channel}",outcome="delivered"}} 2.0'
        for channel in ("inbox", "email", "webhook")
    ]

    async def metrics() -> str:
        # A delivery is counted after the receiver answered: the count may trail the arrival.
        return await asyncio.to_thread(scrape, made.env["LMP_NOTIFICATIONS_METRICS_PORT"])

    text = await until(metrics, lambda seen: all(line in seen for line in delivered))
    for line in delivered:
        assert line in text
    assert "lmp_notification_oldest_pending_age_seconds" in text


async def test_bad_subscriptions_record_nothing_and_a_person_reads_only_their_own_inbox(service):
    made, stub, registry = service
    anna = bearer(made, "anna", "resident")
    await check_bad_input_records_nothing(stub, anna)
    await stub.CreateSubscription(
        pb.CreateSubscriptionRequest(
            city_id="sarov", kind="activity_registered", person_id="anna", channels=["inbox"]
        ),
        metadata=anna,
        timeout=10,
    )
    await register_activities(made, registry)

    async def read():
        return await stub.ListInbox(pb.ListInboxRequest(), metadata=anna, timeout=10)

    inbox = await until(read, lambda seen: len(seen.notifications) == 2)
    assert [n.position for n in inbox.notifications] == [2, 1]
    assert inbox.unread_count == 2
    oldest = inbox.notifications[1].notification_id
    marked = await stub.MarkRead(
        pb.MarkReadRequest(notification_ids=[oldest]), metadata=anna, timeout=10
    )
    assert (marked.marked, marked.unread_count) == (1, 1)
    newest = inbox.notifications[0].notification_id
    other_city = bearer(made, "portal-2", "portal", cities=("seversk",))
    not_marked = await stub.MarkRead(
        pb.MarkReadRequest(person_id="anna", notification_ids=[newest]),
        metadata=other_city,
        timeout=10,
    )
    assert (not_marked.marked, not_marked.unread_count) == (0, 0)  # issue 15: it was marked
    assert (await read()).unread_count == 1
    boris = bearer(made, "boris", "resident")
    unread = await stub.GetUnreadCount(pb.GetUnreadCountRequest(), metadata=boris, timeout=10)
    assert unread.unread_count == 0
    denied = await refused(stub.ListInbox, pb.ListInboxRequest(person_id="anna"), boris)
    assert denied == grpc.StatusCode.PERMISSION_DENIED


async def test_a_subscription_sent_again_under_its_request_id_is_the_original(service):
    made, stub, _registry = service
    anna = bearer(made, "anna", "resident")
    request = pb.CreateSubscriptionRequest(
        city_id="sarov",
        kind="activity_registered",
        person_id="anna",
        channels=["inbox"],
        request_id="portal-sub-1",
    )
    first = await stub.CreateSubscription(request, metadata=anna, timeout=10)
    again = await stub.CreateSubscription(request, metadata=anna, timeout=10)
    assert again.subscription.subscription_id == first.subscription.subscription_id

    other = pb.CreateSubscriptionRequest(
        city_id="sarov",
        kind="poll_opened",
        person_id="anna",
        channels=["inbox"],
        request_id="portal-sub-1",
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused_call:
        await stub.CreateSubscription(other, metadata=anna, timeout=10)
    assert refused_call.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert first.subscription.subscription_id in str(refused_call.value.details())
    # without a key, the same subscription again names the one that exists
    request.ClearField("request_id")
    with pytest.raises(grpc.aio.AioRpcError) as duplicate:
        await stub.CreateSubscription(request, metadata=anna, timeout=10)
    assert duplicate.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert first.subscription.subscription_id in str(duplicate.value.details())
    listed = await stub.ListSubscriptions(
        pb.ListSubscriptionsRequest(city_id="sarov"), metadata=anna, timeout=10
    )
    assert len(listed.subscriptions) == 1
