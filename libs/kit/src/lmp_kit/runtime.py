"""Runs one service: its gRPC API, its outbox relay and its consumers, until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from lmp_kit.auth import ALL_CITIES, READ_EVENTS_SCOPE, TokenIssuer, TokenVerifier
from lmp_kit.consumer import Projection, TrackedConsumer
from lmp_kit.domain import ServiceApplication
from lmp_kit.eventlog import event_log_registration
from lmp_kit.grpc_server import Registration, start_grpc_server, stop_grpc_server
from lmp_kit.logs import configure_logging
from lmp_kit.metrics import serve_metrics
from lmp_kit.reactions import Reaction, Reactor
from lmp_kit.relay import OutboxRelay
from lmp_kit.settings import Settings

log = logging.getLogger(__name__)

COMPONENTS = frozenset({"api", "relay", "consumers"})
SHUTDOWN_GRACE_S = 5.0


@dataclass(frozen=True)
class Subscription:
    """A service's projections of one upstream service's events."""

    upstream: str
    projections: Sequence[Projection]


def mongo_client(settings: Settings) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(settings.mongodb_uri, tz_aware=True)


def verifier_of(settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        key=settings.jwt_verify_key,
        algorithm=settings.jwt_algorithm,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


def issuer_of(settings: Settings) -> TokenIssuer:
    return TokenIssuer(
        key=settings.jwt_signing_key,
        algorithm=settings.jwt_algorithm,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


def service_token(settings: Settings) -> Callable[[], str]:
    issuer = issuer_of(settings)

    def token() -> str:
        return issuer.issue(
            f"service:{settings.service}",
            roles=["service"],
            cities=[ALL_CITIES],
            scopes=[READ_EVENTS_SCOPE],
            ttl_seconds=300,
        )

    return token


@dataclass
class ServiceRuntime:
    settings: Settings
    app: ServiceApplication
    registrations: Sequence[Registration]
    mongo: AsyncMongoClient[dict[str, Any]] | None = None
    subscriptions: Sequence[Subscription] = ()
    reactions: Sequence[Reaction] = ()
    # Background work beside the consumers (e.g. delivery workers), stopped before MongoDB is.
    workers: Sequence[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = ()
    consumers: list[TrackedConsumer] = field(default_factory=list)
    reactors: list[Reactor] = field(default_factory=list)

    def build_consumers(self, client: AsyncMongoClient[dict[str, Any]]) -> list[TrackedConsumer]:
        token = service_token(self.settings)
        return [
            TrackedConsumer(
                upstream=s.upstream,
                projections=s.projections,
                client=client,
                database=self.settings.mongodb_database,
                upstream_target=self.settings.endpoints[s.upstream].grpc_target,
                topic=self.settings.topic_of(s.upstream),
                token=token,
            )
            for s in self.subscriptions
        ]

    def build_reactors(self) -> list[Reactor]:
        token = service_token(self.settings)
        return [
            Reactor(
                reaction=r,
                app=self.app,
                upstream_target=self.settings.endpoints[r.upstream].grpc_target,
                topic=self.settings.topic_of(r.upstream),
                token=token,
            )
            for r in self.reactions
        ]

    def relay(self) -> OutboxRelay:
        return OutboxRelay(
            service=self.settings.service,
            app=self.app,
            tracking=self.app.tracking,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            topic=self.settings.topic,
            batch_size=self.settings.relay_batch_size,
            poll_interval_s=self.settings.relay_poll_interval_s,
            min_batch_interval_s=self.settings.relay_min_batch_interval_s,
        )

    def serve(self, components: Collection[str] = COMPONENTS) -> None:
        """Run the service until it is stopped, on the event loop its settings choose: uvloop
        by default (a third less CPU per gRPC call than asyncio's own loop under load;
        bench/README.md, "Voting"), or asyncio's."""
        if self.settings.event_loop == "uvloop" and sys.platform != "win32":
            import uvloop  # noqa: PLC0415  # not on Windows

            uvloop.run(self.run(components))
        else:
            asyncio.run(self.run(components))

    async def run(self, components: Collection[str] = COMPONENTS) -> None:
        settings = self.settings
        configure_logging(settings.service, settings.log_level)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        if settings.endpoint.metrics_port:
            serve_metrics(settings.grpc_host, settings.endpoint.metrics_port)
        tasks: list[asyncio.Task[None]] = []
        server = None
        if "api" in components:
            server = await start_grpc_server(
                settings.grpc_host,
                settings.endpoint.grpc_port,
                [*self.registrations, event_log_registration(settings.service, self.app)],
                verifier_of(settings),
                reuse_port=settings.grpc_reuse_port,
            )
        if "relay" in components:
            tasks.append(asyncio.create_task(self.relay().run(stopping)))
        if "consumers" in components and (self.subscriptions or self.reactions or self.workers):
            if self.subscriptions:
                if self.mongo is None:
                    msg = f"{settings.service} has subscriptions but no MongoDB client"
                    raise RuntimeError(msg)
                self.consumers = self.build_consumers(self.mongo)
            self.reactors = self.build_reactors()
            tasks.append(asyncio.create_task(self._consume(stopping)))
        log.info(
            "%s is running: %s",
            settings.service,
            ", ".join(sorted(set(components) & COMPONENTS)),
            extra={"grpc_port": settings.endpoint.grpc_port},
        )
        await stopping.wait()
        log.info("%s is stopping", settings.service)
        if server is not None:
            await stop_grpc_server(*server, grace=SHUTDOWN_GRACE_S)
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.mongo is not None:
            await self.mongo.close()
        self.app.close()

    async def _consume(self, stopping: asyncio.Event) -> None:
        settings = self.settings
        for consumer in self.consumers:
            await consumer.prepare()
        reconcilers = [
            asyncio.create_task(c.reconcile_forever(stopping, settings.reconcile_interval_s))
            for c in self.consumers
        ] + [
            asyncio.create_task(r.run(stopping, settings.reconcile_interval_s))
            for r in self.reactors
        ]
        broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            client_id=f"lmp-{settings.service}",
            logger=logging.getLogger("faststream"),
            graceful_timeout=SHUTDOWN_GRACE_S,
        )
        for consumer in self.consumers:
            consumer.subscribe(broker, settings.consumer_group, settings.kafka_session_timeout_ms)
        for reactor in self.reactors:
            reactor.subscribe(broker, settings.consumer_group, settings.kafka_session_timeout_ms)
        workers = [asyncio.create_task(work(stopping)) for work in self.workers]
        while not stopping.is_set():
            try:
                await broker.start()
                break
            except (KafkaError, OSError) as error:
                log.warning("cannot reach Kafka yet (%s); retrying", error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), 2.0)
        await stopping.wait()
        await broker.stop()
        await asyncio.gather(*reconcilers, *workers, return_exceptions=True)
