"""The embedded stack: the servers it needs and the five services, each its own process.

Its servers are `lmp_devstack` (the `embedded` extra, not in the production image): only
`lmp up` and `lmp demo` import this module."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from types import FrameType, TracebackType
from typing import Self

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lmp_devstack import (
    ManagedProcess,
    RunningServer,
    free_port,
    port_is_open,
    start_secantus,
    start_tansu,
)
from lmp_kit.settings import SERVICES, Settings

from lmp_cli.local import PortsTakenError, with_dev_secret

HEALTH_TIMEOUT_S = 60.0
LOCALHOST = "127.0.0.1"
DEFAULT_CONSOLE_PORT = 8080
# Stopping the stack: the services first (each bounds its own stop at 10 s, the runtime's
# STOP_BOUND_S), then the servers they use (SecantusDB takes 2-4 s to close its WiredTiger
# store); whatever still runs then is killed (SIGKILL).
SERVICES_STOP_S = 11.0
SERVERS_STOP_S = 6.0
# A crashed service is started again after 1 s, then 2, 4, ... up to 30 s while it keeps
# crashing; one that stayed up a minute starts again at 1 s (as Kubernetes does, faster).
RESTART_DELAY_S = 1.0
RESTART_DELAY_MAX_S = 30.0
RESTART_RESET_AFTER_S = 60.0
SUPERVISION_INTERVAL_S = 0.2


SERVER_VARIABLES = ("POSTGRES_DSN", "KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI")
EMBEDDED_RELAY_INTERVAL_S = "0.2"


def isolated_env(
    data_dir: Path,
    *,
    prefix: str,
    postgres_dsn: str | None = None,
    keep: Collection[str] = (),
    settings: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """This process's environment made into a stack of its own beside any other (benchmarks,
    tests): without the caller's LMP_ settings (but those in `keep`) and server addresses;
    free ports for every service and embedded server; a fresh JWT secret and pseudonym key;
    its own Kafka namespace, MongoDB databases and (with `postgres_dsn`) PostgreSQL schemas.
    `settings` come last and win."""
    tag = f"{prefix}{uuid.uuid4().hex[:10]}"
    env = {
        key: value
        for key, value in os.environ.items()
        if (not key.startswith("LMP_") or key in keep) and key not in SERVER_VARIABLES
    }
    env |= {
        "LMP_DATA_DIR": str(data_dir),
        "LMP_JWT_SECRET": secrets.token_urlsafe(32),
        # voting requires one with PostgreSQL; a fresh one keeps the stack self-contained
        "LMP_VOTING_PSEUDONYM_KEY": secrets.token_urlsafe(32),
        "LMP_KAFKA_NAMESPACE": tag,
        "LMP_MONGODB_DB_PREFIX": f"{tag}_",
        "LMP_EMBEDDED_KAFKA_PORT": str(free_port()),
        "LMP_EMBEDDED_MONGODB_PORT": str(free_port()),
        "LMP_CONSOLE_PORT": str(free_port()),
        "LMP_EVENT_STORE": "sqlite",
    }
    if postgres_dsn is not None:
        env |= {
            "LMP_EVENT_STORE": "postgres",
            "POSTGRES_DSN": postgres_dsn,
            "LMP_POSTGRES_SCHEMA_PREFIX": f"{tag}_",
        }
    for name in SERVICES:
        env[f"LMP_{name.upper()}_GRPC_PORT"] = str(free_port())
        env[f"LMP_{name.upper()}_METRICS_PORT"] = str(free_port())
    return env | dict(settings or {})


def is_serving(target: str, timeout: float = 1.0) -> bool:
    with grpc.insecure_channel(target) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout
            )
        except grpc.RpcError:
            return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


@dataclass
class ServiceProcess:
    """One service started as `lmp serve`; tests kill and restart it."""

    service: str
    env: Mapping[str, str]
    log_dir: Path
    components: Sequence[str] = ("api", "relay", "consumers")
    label: str = ""
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.service, self.env)

    @property
    def target(self) -> str:
        return self.settings.endpoint.grpc_target

    def start(self, *, wait: bool = True) -> None:
        name = self.label or self.service
        self.process = ManagedProcess.spawn(
            [
                sys.executable,
                "-m",
                "lmp_cli.main",
                "serve",
                self.service,
                "--components",
                ",".join(self.components),
            ],
            self.log_dir / f"{name}.log",
            env=self.env,
        )
        if wait and "api" in self.components:
            self.wait_healthy()

    def serving(self, timeout: float = 1.0) -> bool:
        return is_serving(self.target, timeout)

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and not self.process.alive:
                msg = f"{self.service} exited; its log ends with:\n{self.process.log_tail()}"
                raise RuntimeError(msg)
            if self.serving():
                return
            time.sleep(0.1)
        tail = self.process.log_tail() if self.process else ""
        msg = f"{self.service} did not become healthy in {timeout:.0f} s; log:\n{tail}"
        raise RuntimeError(msg)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()


def console_answers(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url + "healthz", timeout=timeout) as response:  # noqa: S310  # our own http URL
            return bool(response.status == HTTPStatus.OK)
    except (OSError, ValueError):
        return False


@dataclass
class ConsoleProcess(ServiceProcess):
    """The web console (`lmp console`) beside the services, supervised as they are; healthy
    when its /healthz answers."""

    @property
    def url(self) -> str:
        return console_url(self.env)

    def start(self, *, wait: bool = True) -> None:
        self.process = ManagedProcess.spawn(
            [sys.executable, "-m", "lmp_cli.main", "console"],
            self.log_dir / "console.log",
            env=self.env,
        )
        if wait:
            self.wait_healthy()

    def serving(self, timeout: float = 1.0) -> bool:
        return console_answers(self.url, timeout)


def console_url(env: Mapping[str, str]) -> str:
    host = env.get("LMP_CONSOLE_HOST", "").strip() or LOCALHOST
    if host in ("0.0.0.0", "::"):  # noqa: S104  # a bind address: the URL names this machine
        host = LOCALHOST
    return f"http://{host}:{console_port(env)}/"


def console_port(env: Mapping[str, str]) -> int:
    return int(env.get("LMP_CONSOLE_PORT", "").strip() or DEFAULT_CONSOLE_PORT)


def stop_processes(processes: Sequence[ManagedProcess], timeout: float) -> None:
    """Ask all to stop at once (each its own stop signal), wait up to `timeout` for all of
    them together, then SIGKILL the process group of each: nothing of theirs is left."""
    for process in processes:
        if process.alive:
            with contextlib.suppress(ProcessLookupError):
                process.popen.send_signal(process.stop_signal)
    deadline = time.monotonic() + timeout
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(max(0.0, deadline - time.monotonic()))
    for process in processes:
        process.kill()


def stop_together(processes: Sequence[ServiceProcess], timeout: float = SERVICES_STOP_S) -> None:
    """Stop every service in parallel, bounded by `timeout`."""
    stop_processes([p.process for p in processes if p.process is not None], timeout)


def stop_servers(servers: Sequence[RunningServer], timeout: float = SERVERS_STOP_S) -> None:
    stop_processes([s.process for s in servers], timeout)
    for server in servers:
        server.stop(timeout=0)  # reaped already; removes the directories it owns


class StopSignals:
    """SIGTERM and SIGINT as a request to stop everything this program started.

    Until `wait` is called, the first signal raises KeyboardInterrupt where the program is
    (while it starts the stack or runs the demo): leaving the stack's context stops what was
    started. Later signals are only counted, so they never interrupt the stop itself."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.received: list[int] = []
        self.waiting = False
        self._previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}

    def __enter__(self) -> Self:
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)
        if not self.waiting and len(self.received) == 1:
            raise KeyboardInterrupt

    def wait(self, restarts: Restarts | None = None) -> None:
        """Until a stop signal arrives; meanwhile `restarts` brings crashed services back."""
        self.waiting = True
        while not self.received:
            if restarts is not None:
                restarts.check()
            time.sleep(SUPERVISION_INTERVAL_S)


@dataclass
class _Supervised:
    started: float
    delay: float = RESTART_DELAY_S
    restarts: int = 0
    exited: float | None = None
    due: float | None = None
    coming_back: bool = False


@dataclass
class Restarts:
    """Restarts a service whose process exited, with back-off, as Kubernetes restarts a
    crashed container; says so on `say` (the console) and in the service's own log."""

    services: Sequence[ServiceProcess]
    say: Callable[[str], None]
    _state: dict[str, _Supervised] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        now = time.monotonic()
        self._state = {s.service: _Supervised(started=now) for s in self.services}

    def check(self) -> None:
        now = time.monotonic()
        for service in self.services:
            state = self._state[service.service]
            process = service.process
            if state.due is None and process is not None and not process.alive:
                self._exited(service, process, state, now)
            elif state.due is not None and now >= state.due:
                state.due = None
                state.restarts += 1
                state.started = now
                state.coming_back = True
                self._announce(service, f"{service.service} restarting (restart {state.restarts})")
                service.start(wait=False)
            elif state.coming_back and process is not None and service.serving(0.5):
                state.coming_back = False
                back = now - (state.exited or now)
                self._announce(
                    service, f"{service.service} is serving again, {back:.1f} s after it exited"
                )

    def _exited(
        self, service: ServiceProcess, process: ManagedProcess, state: _Supervised, now: float
    ) -> None:
        code = process.returncode
        process.kill()  # reaps it and ends anything left in its process group
        up_for = now - state.started
        if up_for >= RESTART_RESET_AFTER_S:
            state.delay = RESTART_DELAY_S
        state.exited = now
        state.due = now + state.delay
        state.coming_back = False
        self._announce(
            service,
            f"{service.service} exited with code {code} after {up_for:.1f} s; "
            f"restarting it in {state.delay:.0f} s (its log: {process.log_path})",
        )
        state.delay = min(state.delay * 2, RESTART_DELAY_MAX_S)

    def _announce(self, service: ServiceProcess, message: str) -> None:
        self.say(message)
        entry = {
            "time": datetime.now(UTC).isoformat(),
            "level": "warning",
            "service": service.service,
            "logger": "lmp.up",
            "message": message,
        }
        path = service.log_dir / f"{service.label or service.service}.log"
        with contextlib.suppress(OSError), path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry, ensure_ascii=False) + "\n")


@dataclass
class Stack:
    env: dict[str, str]
    servers: list[RunningServer]
    services: list[ServiceProcess]
    console: ConsoleProcess | None = None

    @property
    def supervised(self) -> list[ServiceProcess]:
        return [*self.services, *([self.console] if self.console else [])]


def check_ports_free(
    env: Mapping[str, str], services: Sequence[str], *, console: bool = False
) -> None:
    wanted = [("console", console_port(env))] if console else []
    for service in services:
        endpoint = Settings.from_env(service, env).endpoint
        wanted += [
            (f"{service} gRPC", endpoint.grpc_port),
            (f"{service} metrics", endpoint.metrics_port),
        ]
    if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
        wanted.append(("embedded Kafka", int(env.get("LMP_EMBEDDED_KAFKA_PORT", "9092"))))
    if not env.get("MONGODB_URI"):
        wanted.append(("embedded MongoDB", int(env.get("LMP_EMBEDDED_MONGODB_PORT", "27017"))))
    taken = [
        f"{name} port {port}" for name, port in wanted if port and port_is_open(LOCALHOST, port)
    ]
    if taken:
        msg = (
            f"ports in use: {', '.join(taken)}. Is another `lmp up` running? "
            "Stop it, or choose other ports (LMP_<SERVICE>_GRPC_PORT, LMP_<SERVICE>_METRICS_PORT, "
            "LMP_EMBEDDED_KAFKA_PORT, LMP_EMBEDDED_MONGODB_PORT, LMP_CONSOLE_PORT)."
        )
        raise PortsTakenError(msg)


@contextmanager
def embedded_stack(
    data_dir: Path,
    env: Mapping[str, str] | None = None,
    services: Sequence[str] = SERVICES,
    *,
    console: bool = False,
) -> Iterator[Stack]:
    """Start what is not given by the environment, then the services (and with `console`
    the web console, its development sign-in on unless LMP_CONSOLE_DEV_SIGNIN says
    otherwise); stop all on exit."""
    base = dict(os.environ if env is None else env)
    data_dir = data_dir.resolve()
    base.setdefault("LMP_DATA_DIR", str(data_dir))
    base = with_dev_secret(base, data_dir)
    check_ports_free(base, services, console=console)
    with ExitStack() as stack:
        servers: list[RunningServer] = []
        stack.callback(stop_servers, servers)  # after the services: exits run in reverse
        if not base.get("KAFKA_BOOTSTRAP_SERVERS"):
            kafka = start_tansu(
                data_dir / "kafka", int(base.get("LMP_EMBEDDED_KAFKA_PORT", "9092"))
            )
            servers.append(kafka)
            base["KAFKA_BOOTSTRAP_SERVERS"] = kafka.address
            # The embedded broker holds every batch in memory and each fetch costs more the
            # more batches it holds: fewer, larger ones (bench/README.md, "Voting").
            base.setdefault("LMP_RELAY_MIN_BATCH_INTERVAL_S", EMBEDDED_RELAY_INTERVAL_S)
        if not base.get("MONGODB_URI"):
            mongo = start_secantus(
                data_dir / "mongodb", int(base.get("LMP_EMBEDDED_MONGODB_PORT", "27017"))
            )
            servers.append(mongo)
            base["MONGODB_URI"] = mongo.address
        processes = [ServiceProcess(s, base, data_dir / "logs") for s in services]
        stack.callback(stop_together, processes)
        for process in processes:
            process.start(wait=False)
        for process in processes:
            process.wait_healthy()
        web = None
        if console:
            web = ConsoleProcess(
                "console", {"LMP_CONSOLE_DEV_SIGNIN": "true"} | base, data_dir / "logs"
            )
            stack.callback(stop_together, [web])  # before the services: exits run in reverse
            web.start()
        yield Stack(env=base, servers=servers, services=processes, console=web)
