"""`lmp up`: the embedded stack starts, serves, and stops without leaving a process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp_kit.servers import free_port
from lmp_kit.settings import SERVICES

STARTUP_TIMEOUT_S = 120


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


def wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if needle in line:
            return lines
    message = f"`lmp up` did not print {needle!r}; it printed: {lines}"
    raise AssertionError(message)


def test_lmp_up_serves_every_service_and_stops_leaving_nothing_behind(tmp_path):
    env = up_env(tmp_path)
    up = subprocess.Popen(
        [sys.executable, "-m", "lmp_cli.main", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = wait_for_line(up, "press Ctrl-C to stop", STARTUP_TIMEOUT_S)
        assert any("all 5 services healthy" in line for line in printed)
        for name in SERVICES:
            assert any(line.strip().startswith(name) for line in printed), name
        children = children_of(up.pid)
        assert len(children) == 7  # the broker, the document store, five services

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
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=60)
    assert code == 0
    assert [pid for pid in children if running(pid)] == []


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
