"""The embedded stack: the servers it needs and the five services, each its own process."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
import time
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lmp_kit.servers import (
    ManagedProcess,
    RunningServer,
    free_port,
    port_is_open,
    start_secantus,
    start_tansu,
)
from lmp_kit.settings import SERVICES, Settings

HEALTH_TIMEOUT_S = 60.0
LOCALHOST = "127.0.0.1"


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


def jwt_secret_file(data_dir: Path) -> Path:
    """The development signing secret of this data directory, made on first use."""
    path = data_dir / "jwt.secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path


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

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and not self.process.alive:
                msg = f"{self.service} exited; its log ends with:\n{self.process.log_tail()}"
                raise RuntimeError(msg)
            if is_serving(self.target):
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


def stop_together(processes: Sequence[ServiceProcess]) -> None:
    """Ask every service to stop first, then wait for each: they shut down in parallel."""
    for process in processes:
        if process.process is not None and process.process.alive:
            with contextlib.suppress(ProcessLookupError):
                process.process.popen.send_signal(signal.SIGTERM)
    for process in reversed(processes):
        process.stop()


@dataclass
class Stack:
    env: dict[str, str]
    servers: list[RunningServer]
    services: list[ServiceProcess]


def check_ports_free(env: Mapping[str, str], services: Sequence[str]) -> None:
    wanted = []
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
            "LMP_EMBEDDED_KAFKA_PORT, LMP_EMBEDDED_MONGODB_PORT)."
        )
        raise PortsTakenError(msg)


class PortsTakenError(RuntimeError):
    pass


@contextmanager
def embedded_stack(
    data_dir: Path, env: Mapping[str, str] | None = None, services: Sequence[str] = SERVICES
) -> Iterator[Stack]:
    """Start what is not given by the environment, then the services; stop all on exit."""
    base = dict(os.environ if env is None else env)
    data_dir = data_dir.resolve()
    base.setdefault("LMP_DATA_DIR", str(data_dir))
    if not base.get("LMP_JWT_SECRET") and not base.get("LMP_JWT_SECRET_FILE"):
        base["LMP_JWT_SECRET_FILE"] = str(jwt_secret_file(data_dir))
    check_ports_free(base, services)
    with ExitStack() as stack:
        servers: list[RunningServer] = []
        if not base.get("KAFKA_BOOTSTRAP_SERVERS"):
            kafka = stack.enter_context(
                start_tansu(data_dir / "kafka", int(base.get("LMP_EMBEDDED_KAFKA_PORT", "9092")))
            )
            base["KAFKA_BOOTSTRAP_SERVERS"] = kafka.address
            # The embedded broker holds every batch in memory and each fetch costs more the
            # more batches it holds: fewer, larger ones (bench/README.md, "Voting").
            base.setdefault("LMP_RELAY_MIN_BATCH_INTERVAL_S", EMBEDDED_RELAY_INTERVAL_S)
            servers.append(kafka)
        if not base.get("MONGODB_URI"):
            mongo = stack.enter_context(
                start_secantus(
                    data_dir / "mongodb", int(base.get("LMP_EMBEDDED_MONGODB_PORT", "27017"))
                )
            )
            base["MONGODB_URI"] = mongo.address
            servers.append(mongo)
        processes = [ServiceProcess(s, base, data_dir / "logs") for s in services]
        stack.callback(stop_together, processes)
        for process in processes:
            process.start(wait=False)
        for process in processes:
            process.wait_healthy()
        yield Stack(env=base, servers=servers, services=processes)
