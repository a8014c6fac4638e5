"""MongoDB away for 40 s under real services: reads answer UNAVAILABLE within their deadline
(never INTERNAL), health says NOT_SERVING, and everything is back when MongoDB is."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lmp.kpi.v1 import kpi_pb2
from lmp_devstack import start_secantus

from .conftest import Slice, slice_env

if TYPE_CHECKING:
    from pathlib import Path

OUTAGE_S = 40.0
DEADLINE_S = 3.0


def health_of(target: str) -> int:
    with grpc.insecure_channel(target) as channel:
        try:
            return int(
                health_pb2_grpc.HealthStub(channel)
                .Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
                .status
            )
        except grpc.RpcError:
            return -1


def wait_health(target: str, status: int, timeout: float = 20.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if health_of(target) == status:
            return time.monotonic() - started
        time.sleep(0.2)
    msg = f"{target} did not turn {health_pb2.HealthCheckResponse.ServingStatus.Name(status)}"
    raise AssertionError(msg)


def test_mongodb_away_for_40_s_is_unavailable_not_internal_and_health_follows(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    mongo = start_secantus(tmp_path / "mongo")
    stack = Slice(slice_env(tmp_path, kafka_bootstrap, mongo.address), tmp_path / "logs")
    try:
        stack.start("registry")
        kpi = stack.start("kpi")
        stack.register_city()
        stack.register(3)
        assert stack.wait_registered(3) == 3  # three problems registered
        kpi_stub = stack.kpi()

        mongo.process.stop()
        outage_started = time.monotonic()
        not_serving_after = wait_health(kpi.target, health_pb2.HealthCheckResponse.NOT_SERVING)
        codes: dict[str, int] = {}
        messages: set[str] = set()
        slowest = 0.0
        while time.monotonic() - outage_started < OUTAGE_S:
            started = time.monotonic()
            try:
                kpi_stub.ListProblemStats(
                    kpi_pb2.ListProblemStatsRequest(city_id="sarov"),
                    metadata=stack.metadata(),
                    timeout=DEADLINE_S,
                )
                code = "OK"
            except grpc.RpcError as error:
                code = error.code().name
                messages.add(error.details() or "")
            slowest = max(slowest, time.monotonic() - started)
            codes[code] = codes.get(code, 0) + 1
        # commands keep landing in the event store while the read model's database is away
        stack.register(2, prefix="During the outage")

        mongo.start()
        serving_after = wait_health(kpi.target, health_pb2.HealthCheckResponse.SERVING, 60)
        caught_up = stack.wait_registered(5)
    finally:
        stack.stop()
        mongo.stop()

    print(  # noqa: T201  # the figures for the closing note
        f"\nMongoDB away {OUTAGE_S:.0f} s: NOT_SERVING after {not_serving_after:.1f} s, "
        f"answers {codes}, slowest {slowest:.2f} s (deadline {DEADLINE_S} s); "
        f"SERVING {serving_after:.1f} s after it was back"
    )
    assert set(codes) == {"UNAVAILABLE"}  # within the deadline: not DEADLINE_EXCEEDED
    assert all("MongoDB" in message and "retry" in message for message in messages)
    assert caught_up == 5  # the two of the outage applied once it was back
