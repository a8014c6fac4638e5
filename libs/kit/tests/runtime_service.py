"""A service of the tests' own making, run by the kit's runtime as `lmp serve` runs a real one:
an in-memory event store, the gRPC API on a given port, and one background worker.

    python runtime_service.py <port> <metrics port> <trigger file> <kind> [vital]

<kind>: dies | hangs | steady | crowd.

`dies`: the worker raises on SIGUSR1. `hangs`: the worker is stuck in a
blocking call of the default executor that no stop signal ends. `steady`: it does its
rounds until told to stop. `crowd`: CROWD blocking calls of the default executor (as CROWD
commands waiting for their group commit) must all be inside at once, else it dies; then it
writes "together" to the trigger file. With `vital`, a vital check fails once the trigger file
exists.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from pathlib import Path

from lmp_kit.domain import ServiceApplication
from lmp_kit.runtime import ServiceRuntime, Work
from lmp_kit.settings import Settings

STOP_BOUND_S = 1.5
CROWD = 24  # more than asyncio's default executor has threads on up to 19 cores


def worker(kind: str, trigger: Path) -> Work:
    async def crowd(stopping: asyncio.Event) -> None:
        together = threading.Barrier(CROWD)
        await asyncio.gather(*(asyncio.to_thread(together.wait, 10) for _ in range(CROWD)))
        await asyncio.to_thread(trigger.write_text, "together", encoding="utf-8")
        await stopping.wait()

    async def steady(stopping: asyncio.Event) -> None:
        await stopping.wait()

    async def dies(_: asyncio.Event) -> None:
        lost = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, lost.set)
        await lost.wait()
        msg = "the test's worker lost what it needs"
        raise RuntimeError(msg)

    async def hangs(_: asyncio.Event) -> None:
        await asyncio.to_thread(threading.Event().wait)

    return {"steady": steady, "dies": dies, "hangs": hangs, "crowd": crowd}[kind]


def main(port: str, metrics_port: str, trigger_file: str, kind: str, *checks: str) -> int:
    trigger = Path(trigger_file)
    settings = Settings.from_env(
        "registry",
        {
            "LMP_REGISTRY_GRPC_PORT": port,
            "LMP_REGISTRY_METRICS_PORT": metrics_port,
            "LMP_EVENT_STORE": "memory",
            "LMP_JWT_SECRET": "a secret for the runtime tests only",
            # nothing listens there: the consumers' broker connection keeps retrying
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
            "LMP_EVENT_LOOP": "asyncio",
        },
    )
    runtime = ServiceRuntime(
        settings=settings,
        app=ServiceApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        registrations=(),
        workers=(worker(kind, trigger),),
        vitals=(("trigger-absent", lambda: not trigger.exists()),) if "vital" in checks else (),
    )
    return asyncio.run(runtime.run({"api", "consumers"}, stop_bound_s=STOP_BOUND_S))


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
