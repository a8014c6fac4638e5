"""The broker restarts under a consumer that stays up, while traffic flows.

Tansu keeps everything in memory: the restart loses topics, messages, groups and offsets.
The relay must publish again, kpi's consumer must be back on the Kafka path (events applied
within a second, by Kafka) within 30 s, the read model must count every event exactly once,
and every line the services log meanwhile must be a JSON line, a bounded number of them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, Self

import pytest
from kpi.consumers import SUBSCRIPTIONS
from kpi.projections import PROBLEM_STATS
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2
from lmp_devstack import RunningServer
from lmp_kit.consumer import POSITIONS, TRACKING, TrackedConsumer
from lmp_kit.runtime import service_token
from lmp_kit.settings import Settings
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient, MongoClient

from lmp_cli.stack import ServiceProcess

CITY = "sarov"
PROBE_CITY = "seversk"
BACK_WITHIN_S = 30.0
FAST_S = 1.0
# Consecutive probes that must each arrive within FAST_S, with Kafka applying meanwhile.
FAST_PROBES = 3
TRAFFIC_PER_S = 50.0
TRAFFIC_BEFORE_RESTART = 150
# The stall it guards against (issue 14) came in about one restart of two: offset commits for
# partitions the new broker had not created yet, retried for ever, and stale positions beyond
# the new log's end. Three restarts catch a regression nearly always.
RESTARTS = 3
# A restart logs a few lines a kind (the kit's repeat filter), never hundreds.
MAX_LOG_LINES_AFTER_RESTART = 100 * RESTARTS
(PROJECTIONS,) = [s.projections for s in SUBSCRIPTIONS if s.upstream == "registry"]


def metrics(process: ServiceProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    url = f"http://127.0.0.1:{process.settings.endpoint.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): float(sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def applied_by_kafka(kpi: ServiceProcess) -> float:
    key = ("lmp_consumer_applied_total", (("path", "kafka"), ("upstream", "registry")))
    return metrics(kpi).get(key, 0.0)


def client_restarts(kpi: ServiceProcess) -> float:
    key = ("lmp_kafka_client_restarts_total", (("upstream", "registry"),))
    return metrics(kpi).get(key, 0.0)


class Traffic:
    """Registrations in CITY at a steady pace from a thread, until stopped."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.sent = 0
        self.failed = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        stub = self.stack.registry()
        metadata = self.stack.metadata()
        while not self.stopping.is_set():
            try:
                stub.RegisterProblem(
                    registry_pb2.RegisterProblemRequest(
                        city_id=CITY, title=f"Steady {self.sent}", description="traffic"
                    ),
                    metadata=metadata,
                    timeout=10,
                )
            except Exception:  # noqa: BLE001  # counted: a refused command is not traffic
                self.failed += 1
            else:
                self.sent += 1
            self.stopping.wait(1 / TRAFFIC_PER_S)  # the pace of the traffic, not a wait for it

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)


class Probes:
    """Problems registered one at a time in the probe city, each timed until kpi counts it."""

    def __init__(self, stack: Any, kpi: ServiceProcess) -> None:
        self.stack = stack
        self.kpi = kpi
        self.sent = 0

    def seconds(self, timeout: float) -> float:
        """Seconds until kpi counts the new problem; inf when it does not within `timeout`."""
        before = self.stack.registered(PROBE_CITY)
        started = time.monotonic()
        self.stack.registry().RegisterProblem(
            registry_pb2.RegisterProblemRequest(
                city_id=PROBE_CITY, title=f"Probe {self.sent}", description="how fast"
            ),
            metadata=self.stack.metadata(),
            timeout=10,
        )
        self.sent += 1
        kpi = self.stack.kpi()
        metadata = self.stack.metadata()
        while time.monotonic() - started < timeout:
            response = kpi.ListProblemStats(
                kpi_pb2.ListProblemStatsRequest(city_id=PROBE_CITY), metadata=metadata, timeout=10
            )
            if sum(m.problems_registered for m in response.months) > before:
                return time.monotonic() - started
            time.sleep(0.02)  # polling the read model under a deadline
        return float("inf")

    def until_fast(self, within: float) -> tuple[bool, list[float]]:
        """Probe until FAST_PROBES in a row arrive within FAST_S, each applied by Kafka (its
        counter grew meanwhile), or the time is up. Whether they did, and every probe's time."""
        deadline = time.monotonic() + within
        timings: list[float] = []
        in_a_row = 0
        kafka_before = applied_by_kafka(self.kpi)
        while in_a_row < FAST_PROBES and time.monotonic() < deadline:
            took = self.seconds(timeout=3.0)
            timings.append(round(took, 2))
            kafka_now = applied_by_kafka(self.kpi)
            in_a_row = in_a_row + 1 if took < FAST_S and kafka_now > kafka_before else 0
            kafka_before = kafka_now
        return in_a_row == FAST_PROBES, timings


def json_lines(process: ServiceProcess) -> list[dict[str, Any]]:
    """Every line of the process's log, parsed; fails on the first that is not JSON."""
    assert process.process is not None
    lines = process.process.log_path.read_text(encoding="utf-8").splitlines()
    parsed = []
    for number, line in enumerate(lines, 1):
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"{process.process.log_path}:{number} is not JSON: {line[:200]!r}")
    return parsed


@pytest.fixture
def kpi_db(mongodb_uri: str) -> Iterator[Callable[[str], Any]]:
    clients: list[MongoClient[dict[str, Any]]] = []

    def open_db(name: str) -> Any:
        clients.append(MongoClient(mongodb_uri, tz_aware=True))
        return clients[-1][name]

    yield open_db
    for client in clients:
        client.close()


def assert_each_event_applied_once(db: Any, head: int) -> None:
    found = db[POSITIONS].find_one({"_id": "registry"})
    position = int(found["position"]) if found else 0
    tracked = [
        int(nid)
        for doc in db[TRACKING].find({"upstream": "registry"}, {"nids": 1})
        for nid in doc["nids"]
    ]
    assert len(tracked) == len(set(tracked))
    assert set(range(1, position + 1)) | {n for n in tracked if n > position} == set(
        range(1, head + 1)
    )
    assert sum(int(doc["problems_registered"]) for doc in db[PROBLEM_STATS].find()) == head


async def rebuild(stack: Any, mongodb_uri: str, database: str) -> int:
    """A read model from scratch, from registry's event log alone."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        consumer = TrackedConsumer(
            upstream="registry",
            projections=PROJECTIONS,
            client=client,
            database=database,
            upstream_target=stack.target("registry"),
            topic="unused",
            token=service_token(Settings.from_env("kpi", stack.env)),
        )
        await consumer.prepare()
        return await consumer.catch_up()
    finally:
        await client.close()


def test_a_consumer_that_stays_up_through_a_broker_restart_is_back_on_kafka_within_30_s(
    tansu: RunningServer, slice_factory, kpi_db, mongodb_uri
):
    stack = slice_factory(kafka=tansu.address)
    registry = stack.start("registry")
    kpi = stack.start("kpi")
    probes = Probes(stack, kpi)
    # The first events make the topic and wait for the group's first assignments.
    fast, timings = probes.until_fast(within=60)
    assert fast, f"Kafka is not the fast path even before the restart: {timings}"
    kpi_log_before = len(json_lines(kpi))
    registry_log_before = len(json_lines(registry))

    not_back: list[str] = []
    with Traffic(stack) as traffic:
        for restart in range(1, RESTARTS + 1):
            # Enough traffic for the group to have settled and committed offsets.
            deadline = time.monotonic() + 30.0
            enough = traffic.sent + TRAFFIC_BEFORE_RESTART
            while traffic.sent < enough and time.monotonic() < deadline:
                time.sleep(0.05)  # polling the traffic thread under a deadline
            tansu.restart(graceful=False)
            restarted_at = time.monotonic()
            fast, timings = probes.until_fast(within=BACK_WITHIN_S)
            back_after = time.monotonic() - restarted_at
            if not fast:
                not_back.append(
                    f"restart {restart}: not back on the Kafka path {BACK_WITHIN_S:.0f} s after "
                    f"the broker restart: probe times {timings}, "
                    f"Kafka client restarts {client_restarts(kpi)}"
                )
            print(  # noqa: T201  # the figure the issue asks for, in the test's output
                f"restart {restart}: {'back' if fast else 'NOT back'} on the Kafka path "
                f"{back_after:.1f} s after it; probes {timings}; "
                f"Kafka client restarts so far {client_restarts(kpi)}"
            )

    assert traffic.failed == 0
    head = stack.head()
    assert head == traffic.sent + probes.sent
    assert stack.wait_registered(traffic.sent, CITY, timeout=60) == traffic.sent
    assert stack.wait_registered(probes.sent, PROBE_CITY, timeout=60) == probes.sent
    live = kpi_db(stack.mongo_database)
    assert_each_event_applied_once(live, head)
    rebuilt_name = f"{stack.mongo_database}_rebuilt"
    assert asyncio.run(rebuild(stack, mongodb_uri, rebuilt_name)) == head
    rebuilt = kpi_db(rebuilt_name)
    try:
        for collection in sorted({c for p in PROJECTIONS for c in p.collections}):
            assert list(rebuilt[collection].find().sort("_id")) == list(
                live[collection].find().sort("_id")
            ), collection
        assert_each_event_applied_once(rebuilt, head)
    finally:
        rebuilt.client.drop_database(rebuilt_name)

    kpi_log = json_lines(kpi)
    registry_log = json_lines(registry)
    assert len(kpi_log) - kpi_log_before <= MAX_LOG_LINES_AFTER_RESTART
    assert len(registry_log) - registry_log_before <= MAX_LOG_LINES_AFTER_RESTART
    assert not not_back, "; ".join(not_back)
