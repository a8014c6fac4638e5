"""Webhook targets on the notifications service as `lmp serve` processes: no subscription may
point inside the network (its own metrics, MongoDB, Kafka, loopback in every spelling, cloud
metadata) unless the operator allows private receivers; a receiver's reply stays with it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import grpc
import pytest
from aiohttp import web
from lmp.notifications.v1 import notifications_pb2 as pb
from lmp.notifications.v1 import notifications_pb2_grpc as pb_grpc
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp_devstack import free_port

LEAKY_REPLY = "internal error at 10.0.0.5: collection lmp_private, user hunter2"


def bearer(made: Any, subject: str, *roles: str) -> tuple[tuple[str, str], ...]:
    token = made.issuer.issue(subject, roles=roles, cities=("sarov",))
    return (("authorization", f"Bearer {token}"),)


def forbidden_urls(made: Any, mongodb_uri: str, kafka_bootstrap: str) -> list[str]:
    metrics = made.env["LMP_NOTIFICATIONS_METRICS_PORT"]
    mongodb = urlsplit(mongodb_uri).port or 27017
    kafka = kafka_bootstrap.split(",", maxsplit=1)[0].rpartition(":")[2]
    return [
        f"http://127.0.0.1:{metrics}/metrics",
        f"http://127.0.0.1:{mongodb}/",
        f"http://127.0.0.1:{kafka}/",
        f"http://localhost:{metrics}/metrics",
        f"http://[::1]:{metrics}/metrics",
        f"http://0.0.0.0:{metrics}/metrics",
        f"http://2130706433:{metrics}/metrics",
        f"http://127.1:{metrics}/metrics",
        f"http://0x7f.1:{metrics}/metrics",
        f"http://[::ffff:127.0.0.1]:{metrics}/metrics",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
    ]


async def until(read: Callable[[], Awaitable[Any]], done: Callable[[Any], bool]) -> Any:
    deadline = time.monotonic() + 60.0
    seen = await read()
    while not done(seen) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        seen = await read()
    return seen


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[list[str], str]]:
    """A portal's receiver on loopback: /ok accepts, /broken fails with a revealing body."""
    posts: list[str] = []

    async def ok(request: web.Request) -> web.Response:
        posts.append(request.path)
        return web.Response(text="ok")

    async def broken(request: web.Request) -> web.Response:
        posts.append(request.path)
        return web.Response(status=500, text=LEAKY_REPLY)

    app = web.Application()
    app.router.add_post("/ok", ok)
    app.router.add_post("/broken", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield posts, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_no_subscription_may_point_inside_the_network(
    slice_factory: Any, mongodb_uri: str, kafka_bootstrap: str
) -> None:
    made = slice_factory()
    made.start("notifications")
    portal = bearer(made, "portal-1", "portal")
    async with grpc.aio.insecure_channel(made.target("notifications")) as channel:
        stub = pb_grpc.NotificationsServiceStub(channel)
        for url in forbidden_urls(made, mongodb_uri, kafka_bootstrap):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.CreateSubscription(
                    pb.CreateSubscriptionRequest(
                        city_id="sarov",
                        kind="activity_registered",
                        person_id="anna",
                        channels=["webhook"],
                        webhook_url=url,
                    ),
                    metadata=portal,
                    timeout=10,
                )
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, url
            message = refused.value.details() or ""
            assert message.startswith(f"webhook_url {url!r} is refused: "), message
            assert "address" in message
        listed = await stub.ListSubscriptions(
            pb.ListSubscriptionsRequest(city_id="sarov"), metadata=portal, timeout=10
        )
    assert list(listed.subscriptions) == []


async def test_with_the_operator_setting_a_loopback_receiver_gets_deliveries_and_no_reply_leaks(
    slice_factory: Any, receiver: tuple[list[str], str]
) -> None:
    posts, base = receiver
    made = slice_factory()
    made.env |= {
        "LMP_WEBHOOK_ALLOW_PRIVATE": "true",
        "LMP_DELIVERY_MAX_ATTEMPTS": "1",
        "LMP_DELIVERY_POLL_INTERVAL_S": "0.1",
    }
    made.start("registry")
    made.start("notifications")
    portal = bearer(made, "portal-1", "portal")
    async with (
        grpc.aio.insecure_channel(made.target("notifications")) as channel,
        grpc.aio.insecure_channel(made.target("registry")) as registry_channel,
    ):
        stub = pb_grpc.NotificationsServiceStub(channel)
        for person, path in [("anna", "/ok"), ("boris", "/broken")]:
            await stub.CreateSubscription(
                pb.CreateSubscriptionRequest(
                    city_id="sarov",
                    kind="activity_registered",
                    person_id=person,
                    channels=["webhook"],
                    webhook_url=base + path,
                ),
                metadata=portal,
                timeout=10,
            )
        await registry_pb2_grpc.RegistryServiceStub(registry_channel).RegisterActivity(
            registry_pb2.RegisterActivityRequest(
                city_id="sarov",
                kind="strategic_session",
                title="Strategic session",
                held_on="2026-12-03",
            ),
            metadata=bearer(made, "wg-1", "working_group"),
            timeout=10,
        )

        async def dead_letters() -> pb.ListDeadLettersResponse:
            return await stub.ListDeadLetters(
                pb.ListDeadLettersRequest(city_id="sarov"), metadata=portal, timeout=10
            )

        async def received() -> list[str]:
            return posts

        listed = await until(dead_letters, lambda seen: len(seen.deliveries) == 1)
        await until(received, lambda seen: "/ok" in seen)

    assert sorted(posts) == ["/broken", "/ok"]
    [dead] = listed.deliveries
    assert dead.target == base + "/broken"
    assert dead.last_error == "HTTP 500"
    assert "hunter2" not in str(listed)
