"""The runtime's liveness, against a real process of the runtime: a worker that dies or a
vital check that fails turns health NOT_SERVING and ends the process non-zero; a stop signal
ends it with 0; a stop that hangs still ends it within the bound."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lmp_devstack import free_port

SERVICE = Path(__file__).with_name("runtime_service.py")
START_TIMEOUT_S = 30.0
STOP_BOUND_S = 1.5  # runtime_service.STOP_BOUND_S
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Service:
    def __init__(self, tmp_path: Path, worker: str, *checks: str) -> None:
        self.port = free_port()
        self.metrics_port = free_port()
        self.trigger = tmp_path / "trigger"
        self.log = (tmp_path / "service.log").open("w+")
        self.process = subprocess.Popen(  # the test's own service
            [
                sys.executable,
                str(SERVICE),
                str(self.port),
                str(self.metrics_port),
                str(self.trigger),
                worker,
                *checks,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def health(self, service: str = "") -> int | None:
        with grpc.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            try:
                response = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=1
                )
            except grpc.RpcError:
                return None
        return int(response.status)

    def wait_for_health(self, status: int, timeout: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.health() == status:
                return time.monotonic() - started
            if self.process.poll() is not None and status == SERVING:
                break
            time.sleep(0.02)
        msg = f"health never became {status} in {timeout} s; log:\n{self.output()}"
        raise AssertionError(msg)

    def metric(self, sample: str) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=2) as response:  # our own metrics endpoint
            text = str(response.read().decode())
        return next(line for line in text.splitlines() if line.startswith(sample))

    def wait_for_exit(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            msg = f"still running after {timeout} s; log:\n{self.output()}"
            raise AssertionError(msg) from None

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture
def start(tmp_path):
    started: list[Service] = []

    def start(worker: str, *checks: str) -> Service:
        service = Service(tmp_path, worker, *checks)
        started.append(service)
        service.wait_for_health(SERVING, START_TIMEOUT_S)
        return service

    yield start
    for service in started:
        service.close()


def test_a_worker_that_dies_turns_health_not_serving_and_ends_the_process_non_zero(start):
    service = start("dies")
    service.process.send_signal(signal.SIGUSR1)
    assert service.wait_for_health(NOT_SERVING, 5.0) < 3.0  # seconds
    assert service.health("lmp.common.v1.EventLog") == NOT_SERVING
    assert service.metric('lmp_worker_up{worker="dies"}').endswith(" 0.0")
    assert service.wait_for_exit(10.0) == 1
    log = service.output()
    assert "worker dies died (RuntimeError: the test's worker lost what it needs)" in log


def test_a_failing_vital_check_ends_the_service_as_a_dead_worker_does(start):
    service = start("steady", "vital")
    assert service.metric('lmp_worker_up{worker="trigger-absent"}').endswith(" 1.0")
    service.trigger.touch()
    service.wait_for_health(NOT_SERVING, 5.0)
    assert service.wait_for_exit(10.0) == 1
    assert "worker trigger-absent died (its check failed)" in service.output()


def test_a_stop_signal_ends_the_service_with_exit_code_0(start):
    service = start("steady")
    service.process.send_signal(signal.SIGTERM)
    assert service.wait_for_exit(10.0) == 0
    assert "died" not in service.output()


def test_a_stop_that_hangs_in_a_blocking_call_still_ends_within_the_bound(start):
    service = start("hangs")
    signalled = time.monotonic()
    service.process.send_signal(signal.SIGTERM)
    assert service.wait_for_exit(STOP_BOUND_S + 5) == 1
    assert time.monotonic() - signalled < STOP_BOUND_S + 2
    assert "did not stop within 2 s; exiting now" in service.output()


def test_commands_have_more_threads_than_asyncios_default_executor(start):
    """Each command blocks a thread of the default executor until its group commit; asyncio's
    default (cores + 4) capped how many shared one. The runtime's executor has
    LMP_COMMAND_THREADS (32): 24 blocking calls are all inside at once (with 6 they are not,
    and the worker dies with a broken barrier)."""
    service = start("crowd")
    deadline = time.monotonic() + 15
    while not service.trigger.exists() and time.monotonic() < deadline:
        assert service.process.poll() is None, service.output()
        time.sleep(0.05)
    assert service.trigger.read_text(encoding="utf-8") == "together", service.output()
    assert "died" not in service.output()
