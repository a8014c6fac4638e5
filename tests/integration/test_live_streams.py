"""Live streams on a real gRPC server (in this process, behind the kit's guard) and SecantusDB:
200 StreamNotifications or WatchScorecards streams share one change stream per collection, a
change reaches every one of them, and closing the change hub ends them all with OK."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import grpc
from grpc.aio import EOF  # type: ignore[attr-defined]  # missing from grpc's stubs
from kpi import access as kpi_access
from kpi.api import KpiServicer
from kpi.application import KpiApplication
from kpi.projections import PERIODS
from kpi.views import SCORECARD_SOURCES
from lmp.kpi.v1 import kpi_pb2, kpi_pb2_grpc
from lmp.notifications.v1 import notifications_pb2 as pb
from lmp.notifications.v1 import notifications_pb2_grpc as pb_grpc
from lmp_devstack import free_port
from lmp_kit import changes
from lmp_kit.auth import Principal, issuer_of, verifier_of
from lmp_kit.changes import HUB, ChangeHub
from lmp_kit.consumer import TrackedConsumer
from lmp_kit.envelope import Envelope
from lmp_kit.grpc_server import Registration, start_grpc_server, stop_grpc_server
from lmp_kit.settings import Settings
from notifications import access as notifications_access
from notifications.api import NotificationsServicer
from notifications.application import Notifications
from notifications.domain.subscriptions import SubscriptionRequest
from notifications.projections import INBOX, REGISTRY
from pymongo import AsyncMongoClient

STREAMS = 200
ENV = {"LMP_JWT_SECRET": "a-test-secret-that-is-long-enough-for-hs256"}
PORTAL = Principal("portal-1", frozenset({"portal"}), frozenset({"sarov"}), frozenset())
PEOPLE = [f"person-{n:03d}" for n in range(STREAMS)]  # one caller each: the per-caller cap


class Server:
    def __init__(self, registration: Registration, service: str) -> None:
        self.registration = registration
        self.settings = Settings.from_env(service, ENV)
        self.port = free_port()
        self.running: tuple[grpc.aio.Server, Any] | None = None
        self.channel: grpc.aio.Channel | None = None

    def metadata(self, subject: str, *roles: str) -> tuple[tuple[str, str], ...]:
        token = issuer_of(self.settings).issue(subject, roles=roles, cities=["sarov"])
        return (("authorization", f"Bearer {token}"),)

    async def __aenter__(self) -> grpc.aio.Channel:
        self.running = await start_grpc_server(
            "127.0.0.1", self.port, [self.registration], verifier_of(self.settings)
        )
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{self.port}")
        return self.channel

    async def __aexit__(self, *_exc: object) -> None:
        assert self.channel is not None
        assert self.running is not None
        await self.channel.close(None)
        server, health = self.running
        await stop_grpc_server(server, health, grace=1.0)


def notifications_server(db: Any, hub: ChangeHub) -> Server:  # a test database
    return Server(
        Registration(
            add=pb_grpc.add_NotificationsServiceServicer_to_server,
            servicer=NotificationsServicer(db, hub),
            service_name=notifications_access.SERVICE_NAME,
            access=notifications_access.policy(db),
        ),
        "notifications",
    )


def kpi_server(db: Any, hub: ChangeHub) -> Server:  # a test database
    app = KpiApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    return Server(
        Registration(
            add=kpi_pb2_grpc.add_KpiServiceServicer_to_server,
            servicer=KpiServicer(db, app, hub=hub),
            service_name=kpi_access.SERVICE_NAME,
            access=kpi_access.policy(),
        ),
        "kpi",
    )


async def subscribe_everyone(db: Any) -> None:  # a test database
    for person in PEOPLE:
        await Notifications(db).create_subscription(
            PORTAL,
            SubscriptionRequest(
                city_id="sarov", kind="activity_registered", person_id=person, channels=("inbox",)
            ),
        )


async def register_an_activity(client: AsyncMongoClient[Any], name: str) -> None:
    consumer = TrackedConsumer(
        upstream="registry",
        projections=(REGISTRY,),
        client=client,
        database=name,
        upstream_target="127.0.0.1:1",
        topic="unused",
        token=lambda: "",
    )
    await consumer.prepare()
    aggregate = uuid.uuid4()
    await consumer.apply_batch(
        [
            Envelope(
                event_id=uuid.uuid5(aggregate, "1"),
                event_type="Activity.Registered",
                schema_version=1,
                service="registry",
                city_id="sarov",
                aggregate_id=aggregate,
                aggregate_version=1,
                notification_id=1,
                occurred_at=datetime.now(UTC),  # after the subscription: it hears of it
                traceparent="",
                payload={"kind": "strategic_session", "title": "Совет", "held_on": "2026-12-03"},
            )
        ],
        "kafka",
    )


async def until(condition: Callable[[], bool]) -> bool:
    """Bounded polling: the streams open, and their handlers end, concurrently."""
    async with asyncio.timeout(60):
        while not condition():  # noqa: ASYNC110  # bounded polling of a test
            await asyncio.sleep(0.05)
    return True


async def read(stream: Any) -> Any:  # a stream call and its message
    return await stream.read()


async def watching(hub: ChangeHub, streams: int) -> None:
    await until(lambda: sum(len(f) for f in hub.feeds.values()) >= streams * len(hub.feeds or [0]))


def open_streams(collection: str) -> float:
    return float(changes.CHANGE_STREAMS_OPEN.labels(collection=collection)._value.get())  # noqa: SLF001  # the gauge's value


async def test_200_notification_streams_share_one_change_stream_and_all_get_the_next_notification(
    mongo,
):
    client, name = mongo
    db = client[name]
    await subscribe_everyone(db)
    server = notifications_server(db, HUB)
    async with server as channel:
        stub = pb_grpc.NotificationsServiceStub(channel)
        streams = [
            stub.StreamNotifications(
                pb.StreamNotificationsRequest(), metadata=server.metadata(p, "resident")
            )
            for p in PEOPLE
        ]
        reads = [asyncio.ensure_future(read(s)) for s in streams]
        await watching(HUB, STREAMS)
        [feed] = HUB.feeds.values()

        assert (feed.collection.name, feed.opened, len(feed)) == (INBOX, 1, STREAMS)
        assert open_streams(INBOX) == 1
        await register_an_activity(client, name)
        async with asyncio.timeout(60):
            received = await asyncio.gather(*reads)
        for stream in streams:
            stream.cancel()

    assert sorted(n.recipient for n in received) == PEOPLE
    assert {n.subject for n in received} == {"sarov: мероприятие «Совет» 2026-12-03"}
    assert feed.opened == 1
    # The last stream to leave closes the change stream.
    assert await until(lambda: not HUB.feeds and open_streams(INBOX) == 0)


async def test_200_scorecard_watches_share_one_change_stream_per_source_and_all_see_a_change(
    mongo,
):
    client, name = mongo
    db = client[name]
    month = datetime.now(UTC).strftime("%Y-%m")
    server = kpi_server(db, HUB)
    async with server as channel:
        stub = kpi_pb2_grpc.KpiServiceStub(channel)
        streams = [
            stub.WatchScorecards(
                kpi_pb2.WatchScorecardsRequest(city_id="sarov", month=month),
                metadata=server.metadata(f"curator-{n:03d}", "curator"),
            )
            for n in range(STREAMS)
        ]
        async with asyncio.timeout(60):
            first = await asyncio.gather(*(read(s) for s in streams))
        await watching(HUB, STREAMS)

        assert sorted(f.collection.name for f in HUB.feeds.values()) == sorted(SCORECARD_SOURCES)
        assert {f.opened for f in HUB.feeds.values()} == {1}
        assert {open_streams(c) for c in SCORECARD_SOURCES} == {1}
        await db[PERIODS].insert_one(
            {
                "_id": f"sarov:{month}",
                "city_id": "sarov",
                "month": month,
                "closed": False,
                "evaluation": {
                    "score": "12",
                    "branding_used": True,
                    "methodology_followed": True,
                    "conclusion": "Хорошо",
                    "curator": "curator-000",
                    "event_id": str(uuid.uuid4()),
                },
            }
        )
        async with asyncio.timeout(60):
            changed = await asyncio.gather(*(read(s) for s in streams))
        for stream in streams:
            stream.cancel()

    assert {c.conclusion for c in first} == {""}
    assert {c.conclusion for c in changed} == {"Хорошо"}
    # The last stream to leave closes each change stream (its task ends after the feed is
    # forgotten: wait for both, as a loaded machine shows).
    assert await until(
        lambda: not HUB.feeds and {open_streams(c) for c in SCORECARD_SOURCES} == {0}
    )


async def test_closing_the_hub_ends_every_live_stream_with_ok(mongo):
    client, name = mongo
    db = client[name]
    hub = ChangeHub()  # its own: a closed hub stays closed
    server = notifications_server(db, hub)
    async with server as channel:
        stub = pb_grpc.NotificationsServiceStub(channel)
        streams = [
            stub.StreamNotifications(
                pb.StreamNotificationsRequest(), metadata=server.metadata(p, "resident")
            )
            for p in PEOPLE[:20]
        ]
        reads = [asyncio.ensure_future(read(s)) for s in streams]
        await watching(hub, 20)
        hub.close()
        async with asyncio.timeout(30):
            ended = await asyncio.gather(*reads)
        codes = [await s.code() for s in streams]

    assert ended == [EOF] * 20
    assert codes == [grpc.StatusCode.OK] * 20
