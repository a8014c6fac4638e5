"""Every setting of a service, read once from the environment (defaults in docs/architecture.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lmp_kit.auth import DEFAULT_MAX_TTL_S

SERVICES = ("registry", "voting", "expertise", "kpi", "notifications")
DEFAULT_GRPC_PORTS = dict(zip(SERVICES, range(50051, 50056), strict=True))
DEFAULT_METRICS_PORTS = dict(zip(SERVICES, range(9101, 9106), strict=True))

EventStoreKind = Literal["sqlite", "postgres", "memory"]


# What one process of a service may run: its gRPC API, its outbox relay, its consumers.
COMPONENTS = frozenset({"api", "relay", "consumers"})
# Threads that run the commands' use cases (the event loop's default executor): each command
# blocks one until its events are recorded, so these bound how many share a group commit.
# asyncio's default (cores + 4: 6 here) held registry to 430 problems/s where 32 gave 586 at
# 16 in flight (bench/README.md, "Command threads"); each costs a little memory when idle.
DEFAULT_COMMAND_THREADS = 32
MAX_COMMAND_THREADS = 1024


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Endpoint:
    grpc_port: int
    metrics_port: int
    grpc_target: str


@dataclass(frozen=True)
class GrpcLimits:
    """What one process of a service accepts (docs/decisions/0009-robustness.md): server
    streams in all and per caller (a token's subject, or the peer's address for the health
    service), how long a stream may go without sending anything, and the largest message."""

    max_streams: int = 1_000
    max_streams_per_caller: int = 32
    stream_idle_s: float = 600.0
    max_message_bytes: int = 4 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    service: str
    grpc_host: str
    grpc_reuse_port: bool
    endpoints: Mapping[str, Endpoint]
    data_dir: Path
    event_store: EventStoreKind
    postgres_dsn: str
    postgres_schema: str
    kafka_bootstrap_servers: str
    kafka_session_timeout_ms: int
    kafka_namespace: str
    mongodb_uri: str
    mongodb_database: str
    jwt_issuer: str
    jwt_audience: str
    jwt_algorithm: str
    jwt_verify_key: str
    jwt_signing_key: str
    jwt_max_ttl_s: float
    relay_batch_size: int
    relay_poll_interval_s: float
    relay_min_batch_interval_s: float
    reconcile_interval_s: float
    log_level: str
    command_threads: int
    event_loop: Literal["uvloop", "asyncio"]
    grpc_limits: GrpcLimits = field(default_factory=GrpcLimits)

    @property
    def endpoint(self) -> Endpoint:
        return self.endpoints[self.service]

    @property
    def topic(self) -> str:
        return self.topic_of(self.service)

    def topic_of(self, service: str) -> str:
        return f"{self.kafka_namespace}.{service}.events"

    @property
    def consumer_group(self) -> str:
        return f"{self.kafka_namespace}.{self.service}"

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        if service not in SERVICES:
            msg = f"unknown service {service!r}; expected one of {', '.join(SERVICES)}"
            raise SettingsError(msg)
        reader = _Reader(env)
        endpoints = {name: _endpoint(reader, name) for name in SERVICES}
        postgres_dsn = reader.text("POSTGRES_DSN", "")
        default_store: EventStoreKind = "postgres" if postgres_dsn else "sqlite"
        event_store = reader.text("LMP_EVENT_STORE", default_store)
        if event_store not in ("sqlite", "postgres", "memory"):
            msg = f"LMP_EVENT_STORE must be sqlite, postgres or memory, not {event_store!r}"
            raise SettingsError(msg)
        if event_store == "postgres" and not postgres_dsn:
            msg = "LMP_EVENT_STORE=postgres needs POSTGRES_DSN (postgresql://user@host:port/db)"
            raise SettingsError(msg)
        event_loop = reader.text("LMP_EVENT_LOOP", "uvloop")
        if event_loop not in ("uvloop", "asyncio"):
            msg = f"LMP_EVENT_LOOP must be uvloop or asyncio, not {event_loop!r}"
            raise SettingsError(msg)
        algorithm = reader.text("LMP_JWT_ALGORITHM", "HS256")
        secret = reader.secret("LMP_JWT_SECRET")
        verify_key = reader.secret("LMP_JWT_PUBLIC_KEY") or secret
        signing_key = reader.secret("LMP_JWT_PRIVATE_KEY") or secret
        if not verify_key:
            msg = (
                "no JWT key configured: set LMP_JWT_SECRET (or LMP_JWT_SECRET_FILE) for HS256, "
                "or LMP_JWT_PUBLIC_KEY_FILE and LMP_JWT_PRIVATE_KEY_FILE with LMP_JWT_ALGORITHM"
            )
            raise SettingsError(msg)
        jwt_max_ttl_s = reader.number("LMP_JWT_MAX_TTL_S", DEFAULT_MAX_TTL_S)
        if jwt_max_ttl_s <= 0:
            msg = f"LMP_JWT_MAX_TTL_S must be a positive number of seconds, not {jwt_max_ttl_s}"
            raise SettingsError(msg)
        return cls(
            service=service,
            grpc_host=reader.text("LMP_GRPC_HOST", "127.0.0.1"),
            grpc_reuse_port=reader.flag("LMP_GRPC_REUSE_PORT"),
            endpoints=endpoints,
            data_dir=Path(reader.text("LMP_DATA_DIR", ".lmp")),
            event_store=event_store,  # type: ignore[arg-type]  # checked above
            postgres_dsn=postgres_dsn,
            postgres_schema=reader.text("LMP_POSTGRES_SCHEMA_PREFIX", "lmp_") + service,
            kafka_bootstrap_servers=reader.text("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            kafka_session_timeout_ms=reader.integer("LMP_KAFKA_SESSION_TIMEOUT_MS", 10_000),
            kafka_namespace=reader.text("LMP_KAFKA_NAMESPACE", "lmp"),
            mongodb_uri=reader.text(
                "MONGODB_URI", "mongodb://127.0.0.1:27017/?directConnection=true"
            ),
            mongodb_database=reader.text("LMP_MONGODB_DB_PREFIX", "lmp_") + service,
            jwt_issuer=reader.text("LMP_JWT_ISSUER", "lmp"),
            jwt_audience=reader.text("LMP_JWT_AUDIENCE", "lmp"),
            jwt_algorithm=algorithm,
            jwt_verify_key=verify_key,
            jwt_signing_key=signing_key,
            jwt_max_ttl_s=jwt_max_ttl_s,
            relay_batch_size=reader.integer("LMP_RELAY_BATCH_SIZE", 500),
            relay_poll_interval_s=reader.number("LMP_RELAY_POLL_INTERVAL_S", 0.05),
            relay_min_batch_interval_s=reader.number("LMP_RELAY_MIN_BATCH_INTERVAL_S", 0.05),
            reconcile_interval_s=reader.number("LMP_RECONCILE_INTERVAL_S", 10.0),
            log_level=reader.text("LMP_LOG_LEVEL", "INFO"),
            command_threads=command_threads(reader),
            event_loop=event_loop,  # type: ignore[arg-type]  # checked above
            grpc_limits=GrpcLimits(
                max_streams=reader.integer("LMP_GRPC_MAX_STREAMS", GrpcLimits.max_streams),
                max_streams_per_caller=reader.integer(
                    "LMP_GRPC_MAX_STREAMS_PER_CALLER", GrpcLimits.max_streams_per_caller
                ),
                stream_idle_s=reader.number("LMP_GRPC_STREAM_IDLE_S", GrpcLimits.stream_idle_s),
                max_message_bytes=reader.integer(
                    "LMP_GRPC_MAX_MESSAGE_BYTES", GrpcLimits.max_message_bytes
                ),
            ),
        )


def command_threads(reader: _Reader) -> int:
    threads = reader.integer("LMP_COMMAND_THREADS", DEFAULT_COMMAND_THREADS)
    if not 1 <= threads <= MAX_COMMAND_THREADS:
        msg = f"LMP_COMMAND_THREADS must be between 1 and {MAX_COMMAND_THREADS}, not {threads}"
        raise SettingsError(msg)
    return threads


def _endpoint(reader: _Reader, name: str) -> Endpoint:
    prefix = f"LMP_{name.upper()}"
    grpc_port = reader.integer(f"{prefix}_GRPC_PORT", DEFAULT_GRPC_PORTS[name])
    return Endpoint(
        grpc_port=grpc_port,
        metrics_port=reader.integer(f"{prefix}_METRICS_PORT", DEFAULT_METRICS_PORTS[name]),
        grpc_target=reader.text(f"{prefix}_GRPC_TARGET", f"127.0.0.1:{grpc_port}"),
    )


@dataclass(frozen=True)
class _Reader:
    env: Mapping[str, str]

    def text(self, key: str, default: str) -> str:
        return self.env.get(key, "").strip() or default

    def flag(self, key: str) -> bool:
        raw = self.env.get(key, "").strip().lower()
        if raw in ("", "0", "false", "no"):
            return False
        if raw in ("1", "true", "yes"):
            return True
        msg = f"{key} must be true or false, not {raw!r}"
        raise SettingsError(msg)

    def integer(self, key: str, default: int) -> int:
        raw = self.env.get(key, "").strip()
        if not raw:
            return default
        try:
            return int(raw)
        except ValueError:
            msg = f"{key} must be an integer, not {raw!r}"
            raise SettingsError(msg) from None

    def number(self, key: str, default: float) -> float:
        raw = self.env.get(key, "").strip()
        if not raw:
            return default
        try:
            return float(raw)
        except ValueError:
            msg = f"{key} must be a number, not {raw!r}"
            raise SettingsError(msg) from None

    def secret(self, key: str) -> str:
        return read_secret(self.env, key)


def read_secret(env: Mapping[str, str], key: str) -> str:
    """A secret from the file `<key>_FILE` names (as Kubernetes and compose mount secrets), or
    from `<key>` itself; "" when neither is set."""
    path = env.get(f"{key}_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            msg = f"{key}_FILE={path!r} cannot be read: {error.strerror}"
            raise SettingsError(msg) from None
    return env.get(key, "").strip()
