"""Runs one service: its gRPC API, its outbox relay and its consumers, until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Collection, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventsourcing.sqlite import SQLiteFactory
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from lmp_kit.auth import ALL_CITIES, READ_EVENTS_SCOPE, issuer_of, verifier_of
from lmp_kit.changes import HUB
from lmp_kit.consistency import Consistency
from lmp_kit.consumer import CONSUMER_COLLECTIONS, Projection, TrackedConsumer
from lmp_kit.dependencies import mongodb, watch_dependencies
from lmp_kit.domain import ServiceApplication
from lmp_kit.eventlog import event_log_registration
from lmp_kit.grpc_server import Registration, start_grpc_server, stop_grpc_server
from lmp_kit.kafka import KafkaClient
from lmp_kit.logs import configure_logging
from lmp_kit.metrics import WORKER_UP, serve_metrics
from lmp_kit.reactions import Reaction, Reactor
from lmp_kit.readmodels import ReadModels
from lmp_kit.relay import OutboxRelay
from lmp_kit.settings import COMPONENTS, Settings

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 5.0
# After a worker died, health answers NOT_SERVING this long (probes and `lmp status` see why
# it goes away, load balancers take it out) before the server stops; calls in flight then get
# a short grace.
DEATH_NOTICE_S = 1.0
DEATH_GRACE_S = 1.0
# Background tasks get this long to finish their round once told to stop (the consumers leave
# their Kafka group), then are cancelled.
TASK_DRAIN_S = 4.0
# From the stop signal (or a death) to the end of the process, whatever hangs on the way out
# (a thread that joins, a blocking call in the default executor): then it exits at once.
STOP_BOUND_S = 10.0
VITALS_INTERVAL_S = 1.0
EXIT_WORKER_DIED = 1
EXIT_STOP_HUNG = 1

Work = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
# A check of something the service needs that is no task of its event loop (a thread, a file):
# it returns False or raises when that part is gone for good.
Vital = tuple[str, Callable[[], bool]]


@dataclass(frozen=True)
class Subscription:
    """A service's projections of one upstream service's events."""

    upstream: str
    projections: Sequence[Projection]


class ServiceMongoClient(AsyncMongoClient[dict[str, Any]]):
    """The service's MongoDB client: its own database's name gives the read models' handle
    (`lmp_kit.readmodels`) once `read_models` attached it, so code that takes the client and
    the database name reads the active generation too."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri, tz_aware=True)
        self.routes: dict[str, AsyncDatabase[dict[str, Any]]] = {}

    def __getitem__(self, name: str) -> AsyncDatabase[dict[str, Any]]:
        found = self.routes.get(name)
        return super().__getitem__(name) if found is None else found


def mongo_client(settings: Settings) -> AsyncMongoClient[dict[str, Any]]:
    return ServiceMongoClient(settings.mongodb_uri)


def generation_collections(subscriptions: Sequence[Subscription]) -> frozenset[str]:
    """What lives in a read-model generation: the projections' collections and the consumers'."""
    return frozenset(
        {c for s in subscriptions for p in s.projections for c in p.collections}
        | set(CONSUMER_COLLECTIONS)
    )


def read_models(
    settings: Settings,
    client: AsyncMongoClient[dict[str, Any]],
    subscriptions: Sequence[Subscription],
) -> ReadModels:
    """The service's read-model generations; `.handle` is the database its servicers read."""
    models = ReadModels(client, settings.mongodb_database, generation_collections(subscriptions))
    if isinstance(client, ServiceMongoClient):
        client.routes[settings.mongodb_database] = models.handle
    return models


class PinnedServicer:
    """A servicer whose unary handlers each read one read-model generation from start to end
    (`ReadModels.pinned`); streams, long-lived, follow the active one."""

    def __init__(self, servicer: object, models: ReadModels) -> None:
        self._servicer = servicer
        self._models = models

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401  # whatever the servicer holds
        found = getattr(self._servicer, name)
        if not inspect.iscoroutinefunction(found):
            return found
        models = self._models

        @functools.wraps(found)
        async def pinned(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401  # any handler
            with models.pinned():
                return await found(*args, **kwargs)

        return pinned


def pinned_registration(registration: Registration, models: ReadModels) -> Registration:
    return Registration(
        add=registration.add,
        servicer=PinnedServicer(registration.servicer, models),
        service_name=registration.service_name,
        access=registration.access,
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
    """A service's parts, each an option: the event store (`app`) with its relay, its event log
    served over gRPC and its reactions; MongoDB with the consumers of its subscriptions; the
    background workers. A service without an event store (notifications keeps subscriptions
    and deliveries in MongoDB only) has no `app`, no relay and no EventLog."""

    settings: Settings
    registrations: Sequence[Registration]
    app: ServiceApplication | None = None
    mongo: AsyncMongoClient[dict[str, Any]] | None = None
    subscriptions: Sequence[Subscription] = ()
    # The generations the servicers read and the consumers write (built from `mongo` and the
    # subscriptions when not given).
    read_models: ReadModels | None = None
    reactions: Sequence[Reaction] = ()
    # Background work beside the consumers (e.g. delivery workers), stopped before MongoDB is.
    workers: Sequence[Work] = ()
    # Checked every second; one that fails ends the service as a dead worker does.
    vitals: Sequence[Vital] = ()
    consumers: list[TrackedConsumer] = field(default_factory=list)
    reactors: list[Reactor] = field(default_factory=list)
    _watched: dict[asyncio.Task[None], str] = field(default_factory=dict, init=False, repr=False)
    _changed: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    def models(self) -> ReadModels | None:
        if self.read_models is None and self.mongo is not None:
            self.read_models = read_models(self.settings, self.mongo, self.subscriptions)
        return self.read_models

    def build_consumers(self, client: AsyncMongoClient[dict[str, Any]]) -> list[TrackedConsumer]:
        token = service_token(self.settings)
        models = self.models()
        return [
            TrackedConsumer(
                upstream=s.upstream,
                projections=s.projections,
                client=client,
                database=self.settings.mongodb_database,
                upstream_target=self.settings.endpoints[s.upstream].grpc_target,
                topic=self.settings.topic_of(s.upstream),
                token=token,
                models=models,
            )
            for s in self.subscriptions
        ]

    def build_reactors(self) -> list[Reactor]:
        if self.app is None:
            if self.reactions:
                msg = f"{self.settings.service} has reactions but no event store to record them"
                raise RuntimeError(msg)
            return []
        app = self.app
        token = service_token(self.settings)
        return [
            Reactor(
                reaction=r,
                app=app,
                upstream_target=self.settings.endpoints[r.upstream].grpc_target,
                topic=self.settings.topic_of(r.upstream),
                token=token,
            )
            for r in self.reactions
        ]

    def relay(self, app: ServiceApplication) -> OutboxRelay:
        return OutboxRelay(
            service=self.settings.service,
            app=app,
            tracking=app.tracking,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            topic=self.settings.topic,
            batch_size=self.settings.relay_batch_size,
            poll_interval_s=self.settings.relay_poll_interval_s,
            min_batch_interval_s=self.settings.relay_min_batch_interval_s,
        )

    def serve(self, components: Collection[str] = COMPONENTS) -> int:
        """Run the service until it is stopped, on the event loop its settings choose: uvloop
        by default (a third less CPU per gRPC call than asyncio's own loop under load;
        bench/README.md, "Voting"), or asyncio's. Returns the exit code: 0 after a stop
        signal, non-zero when a worker died; a stop that hangs ends the process after
        STOP_BOUND_S."""
        if self.settings.event_loop == "uvloop" and sys.platform != "win32":
            import uvloop  # noqa: PLC0415  # not on Windows

            return uvloop.run(self.run(components, stop_bound_s=STOP_BOUND_S))
        return asyncio.run(self.run(components, stop_bound_s=STOP_BOUND_S))

    async def run(
        self, components: Collection[str] = COMPONENTS, *, stop_bound_s: float | None = None
    ) -> int:
        """Serve until a stop signal (exit code 0) or until a task or vital the service needs
        dies (health NOT_SERVING at once, then exit code 1). With `stop_bound_s`, the process
        ends that long after the stop began even if something hangs on the way out."""
        settings = self.settings
        configure_logging(settings.service, settings.log_level)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT)
        for signum in signals:
            loop.add_signal_handler(signum, stopping.set)
        try:
            return await self._run(components, stopping, stop_bound_s)
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)

    async def _run(
        self, components: Collection[str], stopping: asyncio.Event, stop_bound_s: float | None
    ) -> int:
        settings = self.settings
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(settings.command_threads, thread_name_prefix="command")
        )
        self._changed = asyncio.Event()
        if settings.endpoint.metrics_port:
            serve_metrics(settings.grpc_host, settings.endpoint.metrics_port)
        server = None
        registrations = self.served()
        models = self.models()
        if models is not None:
            registrations = [pinned_registration(r, models) for r in registrations]
            HUB.follow_generations(models)  # live streams follow a rebuild's switch
            with contextlib.suppress(PyMongoError):  # the follow loop reads it when it answers
                await models.refresh()
        self._build_followers()
        if "api" in components:
            consistency = Consistency(settings.service)
            consistency.add([*self.consumers, *self.reactors])
            server = await start_grpc_server(
                settings.grpc_host,
                settings.endpoint.grpc_port,
                registrations,
                verifier_of(settings),
                reuse_port=settings.grpc_reuse_port,
                limits=settings.grpc_limits,
                consistency=consistency,
            )
        self._start_tasks(components, stopping)
        if server is not None and self.mongo is not None:
            self._watch_dependencies(server[1], [r.service_name for r in registrations], stopping)
        vitals = self.all_vitals()
        for name, _ in vitals:
            WORKER_UP.labels(worker=name).set(1)
        log.info(
            "%s is running: %s",
            settings.service,
            ", ".join(sorted(set(components) & COMPONENTS)),
            extra={"grpc_port": settings.endpoint.grpc_port},
        )
        died = await self._supervise(stopping, vitals)
        if stop_bound_s is not None:
            exit_after(stop_bound_s, settings.service)
        if died is not None:
            worker, reason = died
            WORKER_UP.labels(worker=worker).set(0)
            log.error(
                "%s: worker %s died (%s); the service is NOT_SERVING and exits",
                settings.service,
                worker,
                reason,
                extra={"worker": worker, "reason": reason},
            )
            if server is not None:
                await not_serving(server[1], [r.service_name for r in registrations])
                await asyncio.sleep(DEATH_NOTICE_S)
        log.info("%s is stopping", settings.service)
        # Live streams end with OK while the server's grace runs, instead of being cancelled.
        HUB.close()
        grace = SHUTDOWN_GRACE_S if died is None else DEATH_GRACE_S
        # The tasks saw `stopping` already: they finish while the server drains its calls.
        await asyncio.gather(
            stop_grpc_server(*server, grace=grace) if server is not None else asyncio.sleep(0),
            drain(list(self._watched), TASK_DRAIN_S),
        )
        if self.mongo is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.mongo.close(), TASK_DRAIN_S)
        self.close()
        code = 0 if died is None else EXIT_WORKER_DIED
        log.info("%s stopped", settings.service, extra={"exit_code": code})
        return code

    def served(self) -> list[Registration]:
        """The service's own APIs, and its event log when it has an event store."""
        if self.app is None:
            return list(self.registrations)
        return [*self.registrations, event_log_registration(self.settings.service, self.app)]

    def all_vitals(self) -> list[Vital]:
        if self.app is None:
            return list(self.vitals)
        committer = self.app.committer
        committing = [] if committer is None else [(committer.name, committer.is_alive)]
        return [*self.vitals, *committing, *event_store_vitals(self.app)]

    def close(self) -> None:
        """Close the event store (a runtime built but never run, e.g. in a test)."""
        if self.app is not None:
            self.app.close()

    def _start_tasks(self, components: Collection[str], stopping: asyncio.Event) -> None:
        models = self.read_models
        if models is not None:

            def wake_consumers() -> None:  # a switch or a resume: catch up at once
                for consumer in self.consumers:
                    consumer.wake.set()

            models.on_change(wake_consumers)
            self._watch("read-models", models.follow(stopping))
        if "relay" in components and self.app is not None:
            self._watch("relay", self.relay(self.app).run(stopping))
        if "consumers" in components and (self.subscriptions or self.reactions or self.workers):
            self._watch("consumers", self._consume(stopping))

    def _build_followers(self) -> None:
        """The consumers and reactors, built in every process: the API's consistency tokens
        wait on their positions even where they run in another process."""
        if self.subscriptions:
            if self.mongo is None:
                msg = f"{self.settings.service} has subscriptions but no MongoDB client"
                raise RuntimeError(msg)
            self.consumers = self.build_consumers(self.mongo)
        self.reactors = self.build_reactors()

    def _watch_dependencies(
        self, health: HealthServicer, service_names: Sequence[str], stopping: asyncio.Event
    ) -> None:
        """Health follows the required dependencies: NOT_SERVING while MongoDB is away."""
        assert self.mongo is not None  # noqa: S101  # the caller checked

        async def on_change(all_up: bool) -> None:  # noqa: FBT001  # the watcher's callback
            if stopping.is_set():
                return
            status = (
                health_pb2.HealthCheckResponse.SERVING
                if all_up
                else health_pb2.HealthCheckResponse.NOT_SERVING
            )
            for name in ["", *service_names]:
                await health.set(name, status)

        self._watch("dependencies", watch_dependencies([mongodb(self.mongo)], on_change, stopping))

    def _watch(self, name: str, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A task the service needs: if it ends before the service stops, the service dies."""
        task = asyncio.create_task(work, name=name)
        self._watched[task] = name
        WORKER_UP.labels(worker=name).set(1)
        task.add_done_callback(lambda _: self._changed.set())
        return task

    async def _supervise(
        self, stopping: asyncio.Event, vitals: Sequence[Vital]
    ) -> tuple[str, str] | None:
        """Wait for the stop signal, watching the tasks and vitals; the first that died (its
        name and why) ends the wait."""
        while not stopping.is_set():
            died = self._first_dead(vitals)
            if died is not None:
                stopping.set()
                return died
            self._changed.clear()
            waits = [
                asyncio.ensure_future(stopping.wait()),
                asyncio.ensure_future(self._changed.wait()),
            ]
            await asyncio.wait(
                waits, timeout=VITALS_INTERVAL_S, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waits:
                waiter.cancel()
        return None

    def _first_dead(self, vitals: Sequence[Vital]) -> tuple[str, str] | None:
        for task, name in list(self._watched.items()):
            if task.done():
                return name, ended_because(task)
        for name, check in vitals:
            try:
                if not check():
                    return name, "its check failed"
            except Exception as error:  # noqa: BLE001  # a failing check is the news itself
                return name, f"{type(error).__name__}: {error}"
        return None

    async def _consume(self, stopping: asyncio.Event) -> None:
        settings = self.settings
        if self.read_models is not None:
            # Never a batch into a generation that may no longer be the active one.
            await self.read_models.ready.wait()
        for consumer in self.consumers:
            await consumer.prepare()
        reconcilers = [
            self._watch(
                f"consumer:{c.upstream}",
                c.follow(stopping, settings.reconcile_interval_s),
            )
            for c in self.consumers
        ] + [
            self._watch(
                f"reactor:{r.reaction.upstream}", r.follow(stopping, settings.reconcile_interval_s)
            )
            for r in self.reactors
        ]
        kafka = KafkaClient(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"lmp-{settings.service}",
            group_id=settings.consumer_group,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            subscribers=[*self.consumers, *self.reactors],
            graceful_timeout_s=SHUTDOWN_GRACE_S,
        )
        workers = [self._watch(worker_name(work), work(stopping)) for work in self.workers]
        await kafka.run(stopping)
        await asyncio.gather(*reconcilers, *workers, return_exceptions=True)


def worker_name(work: Work) -> str:
    """`DeliveryWorker.run` for a bound method, the function's name otherwise."""
    owner = getattr(work, "__self__", None)
    name = getattr(work, "__name__", type(work).__name__)
    return f"{type(owner).__name__}.{name}" if owner is not None else name


def ended_because(task: asyncio.Task[None]) -> str:
    if task.cancelled():
        return "it was cancelled"
    error = task.exception()
    if error is None:
        return "it returned"
    return f"{type(error).__name__}: {error}"


async def not_serving(health: HealthServicer, service_names: Sequence[str]) -> None:
    for name in ["", *service_names]:
        await health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)


async def drain(tasks: Sequence[asyncio.Task[None]], seconds: float) -> None:
    """Let the tasks finish for `seconds`, then cancel what is left (and wait a second more)."""
    pending = {t for t in tasks if not t.done()}
    if pending:
        _, pending = await asyncio.wait(pending, timeout=seconds)
    if pending:
        log.warning(
            "cancelled after %.0f s of stopping: %s",
            seconds,
            ", ".join(sorted(t.get_name() for t in pending)),
        )
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=1.0)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.warning("%s ended with %r", task.get_name(), task.exception())


def exit_after(seconds: float, service: str) -> None:
    """End the process `seconds` from now unless it ended by itself: a thread that joins or a
    blocking call in the default executor can hold the interpreter's exit for good."""

    def exit_now() -> None:
        log.error("%s did not stop within %.0f s; exiting now", service, seconds)
        for handler in logging.getLogger().handlers:
            with contextlib.suppress(Exception):
                handler.flush()
        os._exit(EXIT_STOP_HUNG)

    timer = threading.Timer(seconds, exit_now)
    timer.daemon = True
    timer.start()


def event_store_vitals(app: ServiceApplication) -> list[Vital]:
    """A SQLite event store whose file was removed or replaced while the service runs: what
    the service records from then on goes to a file nobody will open again (lost at the next
    start). The service dies instead, and its supervisor starts it on the file now there."""
    if not isinstance(app.factory, SQLiteFactory):
        return []
    name = app.env.get("SQLITE_DBNAME") or ""
    if not name or ":memory:" in name or "mode=memory" in name:
        return []
    path = Path(name)
    opened = path.stat()

    def event_store_file() -> bool:
        try:
            now = path.stat()
        except FileNotFoundError:
            msg = f"the event store {path} was removed"
            raise RuntimeError(msg) from None
        if (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino):
            msg = f"the event store {path} was replaced by another file"
            raise RuntimeError(msg)
        return True

    return [("event-store", event_store_file)]
