"""The slice under faults: a relay or a consumer killed mid-stream, a broker that lost its data.

Delivery is at-least-once end to end and effects are exactly-once by idempotence, so after
each fault the kpi read model must count every registered problem exactly once.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kpi.consumers import SUBSCRIPTIONS
from kpi.projections import PROBLEM_STATS
from lmp.registry.v1 import registry_pb2
from lmp_devstack import RunningServer, free_port, start_tansu
from lmp_kit.consumer import POSITIONS, TRACKING, TrackedConsumer
from lmp_kit.runtime import service_token
from lmp_kit.settings import Settings
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient, MongoClient

from lmp_cli.stack import ServiceProcess

T = TypeVar("T")

CITY = "sarov"
WARM_UP_CITY = "seversk"
MANY = 2_000
# The relay dies once it has published this many; the consumer once it has applied this many.
KILL_AFTER = 300
# The consumer applies a few hundred events a second on SecantusDB, fewer on a busy machine.
DELIVERY_TIMEOUT_S = 150.0
# Longer than any test: the periodic reconciliation must not be what delivers the events.
NO_RECONCILIATION = {"LMP_RECONCILE_INTERVAL_S": "3600"}


def eventually(
    read: Callable[[], T], good: Callable[[T], bool], timeout: float, interval: float = 0.1
) -> T:
    """Read until the value is good or the time is up; the last value either way."""
    deadline = time.monotonic() + timeout
    value = read()
    while not good(value) and time.monotonic() < deadline:
        time.sleep(interval)
        value = read()
    return value


def metric(port: int, sample: str, **labels: str) -> float | None:
    """One sample from a service's Prometheus endpoint; None when it is not exported (yet)."""
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return None
    for family in text_string_to_metric_families(text):
        for each in family.samples:
            if each.name == sample and all(each.labels.get(k) == v for k, v in labels.items()):
                return float(each.value)
    return None


def metrics_port(process: ServiceProcess) -> int:
    return process.settings.endpoint.metrics_port


def applied(kpi: ServiceProcess, path: str) -> float:
    """Registry events this kpi process applied (not skipped as duplicates) by one path."""
    found = metric(metrics_port(kpi), "lmp_consumer_applied_total", upstream="registry", path=path)
    return found or 0.0


def register_concurrently(
    stack, count: int, city: str = CITY, prefix: str = "Problem", workers: int = 8
) -> None:
    stub = stack.registry()
    metadata = stack.metadata()

    def one(number: int) -> None:
        stub.RegisterProblem(
            registry_pb2.RegisterProblemRequest(
                city_id=city, title=f"{prefix} {number}", description="found in a fault test"
            ),
            metadata=metadata,
            timeout=30,
        )

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(count)))


def kafka_only_kpi(stack, label: str) -> ServiceProcess:
    """A kpi whose view of registry's event log is a closed port: only Kafka can feed it.

    Its reconciliation (at start, on every partition assignment, periodically) then fails,
    so whatever it applies came through Kafka.
    """
    env = stack.env | {"LMP_REGISTRY_GRPC_TARGET": f"127.0.0.1:{free_port()}"}
    process = ServiceProcess("kpi", env, stack.log_dir, label=label)
    stack.processes.append(process)
    return process


def start_together(*processes: ServiceProcess) -> None:
    for process in processes:
        process.start(wait=False)
    for process in processes:
        if "api" in process.components:
            process.wait_healthy()


def settled(read: Callable[[], int], pause: float = 0.5) -> int:
    """A value that no longer changes: a transaction in flight at a kill has ended."""
    value = read()
    while True:
        time.sleep(pause)
        again = read()
        if again == value:
            return value
        value = again


def log_messages(process: ServiceProcess) -> list[str]:
    assert process.process is not None
    messages = []
    for line in process.process.log_path.read_text(encoding="utf-8").splitlines():
        try:
            messages.append(str(json.loads(line)["message"]))
        except (ValueError, KeyError, TypeError):
            continue
    return messages


def relay_start_position(process: ServiceProcess) -> int | None:
    prefix = "relay starts after notification "
    starts = [int(m.removeprefix(prefix)) for m in log_messages(process) if m.startswith(prefix)]
    return starts[-1] if starts else None


class ReadModel:
    """The kpi database as MongoDB holds it, read directly (the kpi process may be dead)."""

    def __init__(self, mongodb_uri: str, database: str) -> None:
        self.client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri, tz_aware=True)
        self.db = self.client[database]

    def registered(self, city: str = CITY) -> int:
        return sum(
            int(doc["problems_registered"])
            for doc in self.db[PROBLEM_STATS].find({"city_id": city})
        )

    def stats(self) -> list[dict[str, Any]]:
        return self.documents(PROBLEM_STATS)

    def documents(self, collection: str) -> list[dict[str, Any]]:
        return list(self.db[collection].find().sort("_id"))

    def assert_consistent(self, head: int) -> None:
        """Every notification up to head is applied once: below the position or tracked."""
        found = self.db[POSITIONS].find_one({"_id": "registry"})
        position = int(found["position"]) if found else 0
        tracked = [
            int(nid)
            for doc in self.db[TRACKING].find({"upstream": "registry"}, {"nids": 1})
            for nid in doc["nids"]
        ]
        assert len(tracked) == len(set(tracked))
        above = {nid for nid in tracked if nid > position}
        assert set(range(1, position + 1)) | above == set(range(1, head + 1))
        total = sum(int(doc["problems_registered"]) for doc in self.stats())
        assert total == head

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def read_model(mongodb_uri) -> Iterator[Callable[[Any], ReadModel]]:
    opened: list[ReadModel] = []

    def open_for(stack) -> ReadModel:
        opened.append(ReadModel(mongodb_uri, stack.mongo_database))
        return opened[-1]

    yield open_for
    for each in opened:
        each.close()


def warm_up(stack) -> None:
    """One event in another city through the whole path: topic made, partitions assigned."""
    register_concurrently(stack, 1, city=WARM_UP_CITY, prefix="Warm-up")
    assert stack.wait_registered(1, city=WARM_UP_CITY, timeout=60) == 1


def test_a_relay_killed_mid_stream_resumes_and_every_event_is_applied_once(
    slice_factory, read_model
):
    """The relay runs alone and dies by SIGKILL while it follows 2,000 registrations.

    kpi cannot read registry's event log, so every event reaches it through Kafka: the
    restarted relay must resume at its stored position, and what the dead one published
    without storing its position arrives twice and is applied once.
    """
    stack = slice_factory()
    stack.env |= NO_RECONCILIATION
    # The first process on a fresh SQLite store creates its tables: only one at a time may.
    stack.start("registry", ("api",))
    relay = stack.service("registry", ("relay",), label="registry-relay")
    kpi = kafka_only_kpi(stack, "kpi")
    start_together(relay, kpi)
    model = read_model(stack)
    warm_up(stack)

    with ThreadPoolExecutor(1) as background:
        registering = background.submit(register_concurrently, stack, MANY)
        published = eventually(
            lambda: metric(metrics_port(relay), "lmp_relay_position") or 0,
            lambda position: position >= KILL_AFTER,
            timeout=60,
            interval=0.02,
        )
        assert published >= KILL_AFTER
        relay.kill()
        at_kill = stack.registered(CITY)
        assert at_kill < MANY, "the relay must die in the middle of the stream"
        restarted = stack.start("registry", ("relay",), label="registry-relay-restarted")
        registering.result(timeout=120)

    head = stack.head()
    assert head == MANY + 1
    assert stack.wait_registered(MANY, CITY, timeout=DELIVERY_TIMEOUT_S) == MANY
    position = eventually(
        lambda: metric(metrics_port(restarted), "lmp_relay_position"), lambda p: p == head, 30
    )
    assert position == head
    resumed_after = relay_start_position(restarted)
    assert resumed_after is not None
    # The position metric moves only once the position is stored.
    assert published <= resumed_after < head, "the new relay resumes at the stored position"
    assert metric(metrics_port(restarted), "lmp_relay_published_total") == head - resumed_after
    time.sleep(1.0)  # anything published twice has reached the consumer by now
    assert stack.registered(CITY) == MANY
    assert stack.registered(WARM_UP_CITY) == 1
    assert applied(kpi, "kafka") == head
    assert applied(kpi, "catch-up") == 0
    model.assert_consistent(head)


def test_a_consumer_killed_mid_stream_gets_the_rest_from_kafka_and_applies_each_once(
    slice_factory, read_model
):
    """kpi dies by SIGKILL while it applies 2,000 events; the next one resumes from the
    group's committed offsets (the event log is out of its reach).

    A kill inside a MongoDB transaction leaves it open on the server until it is reaped
    (60 s idle, as mongod's transactionLifetimeLimitSeconds): the new kpi's transactions
    conflict with it and are retried until then, so this test may take a minute longer.
    """
    stack = slice_factory()
    stack.env |= NO_RECONCILIATION
    kpi = kafka_only_kpi(stack, "kpi")
    start_together(stack.service("registry"), kpi)
    model = read_model(stack)
    warm_up(stack)

    with ThreadPoolExecutor(1) as background:
        registering = background.submit(register_concurrently, stack, MANY)
        before_kill = eventually(
            lambda: stack.registered(CITY), lambda n: n >= KILL_AFTER, timeout=60, interval=0.02
        )
        assert before_kill >= KILL_AFTER
        kpi.kill()
        at_kill = settled(lambda: model.registered(CITY))
        assert at_kill < MANY, "the consumer must die in the middle of the stream"
        restarted = kafka_only_kpi(stack, "kpi-restarted")
        restarted.start()
        registering.result(timeout=120)

    head = stack.head()
    assert head == MANY + 1
    assert stack.wait_registered(MANY, CITY, timeout=DELIVERY_TIMEOUT_S) == MANY
    time.sleep(1.0)  # anything redelivered twice has reached the consumer by now
    assert stack.registered(CITY) == MANY
    assert applied(restarted, "kafka") == MANY - at_kill
    assert applied(restarted, "catch-up") == 0
    model.assert_consistent(head)


@pytest.fixture
def private_tansu(tmp_path: Path) -> Iterator[RunningServer]:
    """A broker of this test's own, so that restarting it disturbs no other test."""
    with start_tansu(tmp_path / "private-kafka") as server:
        yield server


async def test_after_the_broker_lost_its_data_the_consumer_catches_up_from_the_event_log(
    private_tansu, slice_factory, read_model, mongodb_uri
):
    """Tansu keeps everything in memory: a restart loses topics, messages and offsets."""
    stack = slice_factory(kafka=private_tansu.address)
    registry = stack.service("registry")
    kpi = stack.service("kpi")
    start_together(registry, kpi)
    model = read_model(stack)

    def relay_position() -> float | None:
        return metric(metrics_port(registry), "lmp_relay_position")

    register_concurrently(stack, 300, prefix="Before")
    assert stack.wait_registered(300, timeout=DELIVERY_TIMEOUT_S) == 300
    kpi.stop()
    register_concurrently(stack, 300, prefix="While down")
    assert eventually(relay_position, lambda p: p == 600, 30) == 600, "in Kafka, then lost"

    private_tansu.restart(graceful=False)
    restarted = stack.service("kpi", label="kpi-restarted")
    restarted.start(wait=False)
    register_concurrently(stack, 200, prefix="After")
    restarted.wait_healthy()

    assert stack.wait_registered(800, timeout=DELIVERY_TIMEOUT_S) == 800
    assert eventually(relay_position, lambda p: p == 800, 60) == 800, "the relay reconnected"
    assert applied(restarted, "catch-up") >= 300, "what the broker lost came from the event log"
    await asyncio.sleep(1.0)
    assert stack.registered(CITY) == 800
    model.assert_consistent(800)

    (projections,) = [s.projections for s in SUBSCRIPTIONS if s.upstream == "registry"]
    rebuilt_name = f"{stack.env['LMP_MONGODB_DB_PREFIX']}kpi_rebuilt"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        consumer = TrackedConsumer(
            upstream="registry",
            projections=projections,
            client=client,
            database=rebuilt_name,
            upstream_target=stack.target("registry"),
            topic="unused",
            token=service_token(Settings.from_env("kpi", stack.env)),
        )
        await consumer.prepare()
        assert await consumer.catch_up() == 800
        rebuilt = ReadModel(mongodb_uri, rebuilt_name)
        try:
            assert len(rebuilt.stats()) >= 1
            assert rebuilt.stats() == model.stats()
            for collection in {c for p in projections for c in p.collections}:
                assert rebuilt.documents(collection) == model.documents(collection), collection
            rebuilt.assert_consistent(800)
        finally:
            rebuilt.close()
    finally:
        await client.drop_database(rebuilt_name)
        await client.close()
