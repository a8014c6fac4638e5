"""`lmp up` and `lmp demo --keep-running`: the embedded stack starts, serves, brings a
crashed service back, and stops on SIGTERM within its bound without leaving a process behind."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp_devstack import free_port
from lmp_kit.settings import SERVICES

from lmp_cli.stack import SERVERS_STOP_S, SERVICES_STOP_S

STARTUP_TIMEOUT_S = 120
# What README.md promises for a stop: services, then servers, then SIGKILL; plus the
# interpreter's own exit.
STOP_BOUND_S = SERVICES_STOP_S + SERVERS_STOP_S + 3
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def up_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LMP_")
        and key not in ("POSTGRES_DSN", "KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI")
    }
    env["LMP_DATA_DIR"] = str(tmp_path / "data")
    env["LMP_EMBEDDED_KAFKA_PORT"] = str(free_port())
    env["LMP_EMBEDDED_MONGODB_PORT"] = str(free_port())
    env["LMP_CONSOLE_PORT"] = str(free_port())
    for name in SERVICES:
        env[f"LMP_{name.upper()}_GRPC_PORT"] = str(free_port())
        env[f"LMP_{name.upper()}_METRICS_PORT"] = str(free_port())
    return env


def lmp(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "lmp_cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Output:
    """The lines a command prints, read by a thread: a wait never blocks past its timeout."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout

        def read() -> None:
            for line in stdout:
                self._queue.put(line.rstrip())
            self._queue.put(None)

        threading.Thread(target=read, daemon=True).start()

    def wait_for(self, needle: str, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if needle in line:
                return self.lines
        message = f"did not print {needle!r} in {timeout:.0f} s; it printed: {self.lines}"
        raise AssertionError(message)


def start(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], Output]:
    process = subprocess.Popen(
        [sys.executable, "-m", "lmp_cli.main", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, Output(process)


def health(port: str) -> int | None:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=1
            )
        except grpc.RpcError:
            return None
    return int(response.status)


def wait_until(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.02)
    message = f"{what}: not within {timeout} s"
    raise AssertionError(message)


def service_pid(parent: int, service: str) -> int:
    for pid in children_of(parent):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if [b"serve", service.encode()] == command[3:5] and running(pid):
            return pid
    message = f"no running `lmp serve {service}` under {parent}"
    raise AssertionError(message)


def stop_and_check_nothing_is_left(process: subprocess.Popen[str]) -> float:
    """SIGTERM, then the seconds it took; every child is gone by then."""
    children = children_of(process.pid)
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=STOP_BOUND_S + 10)
    took = time.monotonic() - signalled
    assert [pid for pid in children if running(pid)] == []
    assert code == 0
    assert took < STOP_BOUND_S
    return took


def test_lmp_up_serves_every_service_and_stops_leaving_nothing_behind(tmp_path):
    env = up_env(tmp_path)
    up, output = start(env, "up")
    try:
        printed = output.wait_for("press Ctrl-C to stop", STARTUP_TIMEOUT_S)
        assert any("all 5 services healthy" in line for line in printed)
        for name in SERVICES:
            assert any(line.strip().startswith(name) for line in printed), name
        console = f"http://127.0.0.1:{env['LMP_CONSOLE_PORT']}/"
        assert any(line.strip().startswith(f"Консоль: {console}") for line in printed)
        with urllib.request.urlopen(console + "signin", timeout=10) as page:  # noqa: S310
            assert "Вход для разработки" in page.read().decode()
        children = children_of(up.pid)
        assert len(children) == 8  # the broker, the document store, five services, the console

        token = lmp(env, "token", "--role", "working_group", "--city", "zheleznogorsk").strip()
        registry = registry_pb2_grpc.RegistryServiceStub(
            grpc.insecure_channel(f"127.0.0.1:{env['LMP_REGISTRY_GRPC_PORT']}")
        )
        registry.RegisterProblem(
            registry_pb2.RegisterProblemRequest(city_id="zheleznogorsk", title="Ice on steps"),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )
        events = [json.loads(line) for line in lmp(env, "events", "registry").splitlines()]
        assert [(e["event_type"], e["city_id"], e["notification_id"]) for e in events] == [
            ("Problem.Registered", "zheleznogorsk", 1)
        ]
        assert events[0]["payload"] == {"title": "Ice on steps", "description": ""}
        stop_and_check_nothing_is_left(up)
    finally:
        if up.poll() is None:
            up.kill()
        up.wait()


def test_a_service_whose_event_store_vanishes_dies_and_lmp_up_brings_it_back(tmp_path):
    """The fault is real: kpi's SQLite event store is deleted under it, as a careless
    clean-up would. The process could go on writing to the unlinked file and lose every
    later event at its next start; its vital check notices, it turns NOT_SERVING and exits
    non-zero, and `lmp up` starts it again on a fresh store."""
    env = up_env(tmp_path)
    up, output = start(env, "up")
    try:
        output.wait_for("press Ctrl-C to stop", STARTUP_TIMEOUT_S)
        port = env["LMP_KPI_GRPC_PORT"]
        kpi = service_pid(up.pid, "kpi")
        assert health(port) == SERVING

        for path in Path(env["LMP_DATA_DIR"]).glob("kpi.events.sqlite*"):
            path.unlink()
        gone = time.monotonic()

        wait_until(lambda: health(port) == NOT_SERVING, 10, "kpi NOT_SERVING")
        not_serving_after = time.monotonic() - gone
        wait_until(lambda: not running(kpi), 15, "the dead kpi process ended")
        printed = output.wait_for("kpi is serving again", 60)
        back_after = time.monotonic() - gone

        exit_line = next(line for line in printed if line.startswith("kpi exited"))
        assert "exited with code 1" in exit_line
        assert "restarting it in 1 s" in exit_line
        assert any(line.startswith("kpi restarting (restart 1)") for line in printed)
        assert health(port) == SERVING
        assert service_pid(up.pid, "kpi") != kpi
        log = (Path(env["LMP_DATA_DIR"]) / "logs" / "kpi.log").read_text(encoding="utf-8")
        assert "worker event-store died (RuntimeError: the event store" in log
        assert "kpi restarting (restart 1)" in log  # `lmp up` says so in the service's log too
        assert not_serving_after < 5  # seconds
        print(  # noqa: T201  # the figures for the issue's closing note, with -s
            f"NOT_SERVING after {not_serving_after:.1f} s, serving again after {back_after:.1f} s"
        )
        print(f"stopped in {stop_and_check_nothing_is_left(up):.1f} s")  # noqa: T201  # a figure
    finally:
        if up.poll() is None:
            up.kill()
        up.wait()


def test_lmp_demo_keep_running_stops_every_process_on_sigterm(tmp_path):
    env = up_env(tmp_path)
    demo, output = start(env, "demo", "--residents", "3", "--keep-running")
    try:
        printed = output.wait_for("--keep-running: the stack stays up", STARTUP_TIMEOUT_S + 120)
        console = f"http://127.0.0.1:{env['LMP_CONSOLE_PORT']}/"
        assert f"Консоль: {console}" in printed
        with urllib.request.urlopen(console + "healthz", timeout=10) as answer:  # noqa: S310
            assert answer.status == 200
        # the broker, the document store, five services, the console
        assert len(children_of(demo.pid)) == 8
        print(f"stopped in {stop_and_check_nothing_is_left(demo):.1f} s")  # noqa: T201  # a figure
    finally:
        if demo.poll() is None:
            demo.kill()
        demo.wait()


def test_lmp_up_refuses_to_start_when_its_ports_are_taken(tmp_path):
    env = up_env(tmp_path)
    with grpc_server_on(int(env["LMP_KPI_GRPC_PORT"])):
        result = subprocess.run(
            [sys.executable, "-m", "lmp_cli.main", "up"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert f"kpi gRPC port {env['LMP_KPI_GRPC_PORT']}" in result.stderr
    assert "LMP_<SERVICE>_GRPC_PORT" in result.stderr


class grpc_server_on:  # noqa: N801  # reads as a context manager
    def __init__(self, port: int) -> None:
        self.server = grpc.server(
            thread_pool=__import__("concurrent.futures").futures.ThreadPoolExecutor(1)
        )
        self.server.add_insecure_port(f"127.0.0.1:{port}")

    def __enter__(self) -> None:
        self.server.start()

    def __exit__(self, *_: object) -> None:
        self.server.stop(None)
