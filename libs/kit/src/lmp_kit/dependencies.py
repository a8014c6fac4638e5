"""Which required dependencies answer now: health says NOT_SERVING while one is away and
SERVING again when it is back, so that load balancers and probes send calls elsewhere.

Required is what a service cannot answer without: its read models' MongoDB. Kafka is the
fast path only (consumers catch up from the source logs) and an upstream service is needed by
a few calls only; their absence makes those calls UNAVAILABLE, not the whole service
(docs/decisions/0009-robustness.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pymongo
from pymongo import AsyncMongoClient

from lmp_kit.metrics import DEPENDENCY_UP
from lmp_kit.stopping import sleep_unless

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 2.0
CHECK_TIMEOUT_S = 1.5


@dataclass(frozen=True)
class Dependency:
    name: str
    # Returns when the dependency answers; raises (anything) when it does not.
    check: Callable[[], Awaitable[object]]


def mongodb(client: AsyncMongoClient[dict[str, Any]]) -> Dependency:
    async def ping() -> object:
        with pymongo.timeout(CHECK_TIMEOUT_S):
            return await client.admin.command("ping")

    return Dependency("mongodb", ping)


async def answers(dependency: Dependency) -> bool:
    try:
        await asyncio.wait_for(dependency.check(), CHECK_TIMEOUT_S + 0.5)
    except Exception:  # noqa: BLE001  # whatever it raises, it does not answer
        return False
    return True


async def watch_dependencies(
    dependencies: Sequence[Dependency],
    on_change: Callable[[bool], Awaitable[None]],
    stopping: asyncio.Event,
    interval_s: float = CHECK_INTERVAL_S,
) -> None:
    """Check every dependency each interval; call `on_change(all_up)` when that changes.
    One log line per change, however long an outage lasts."""
    up = {d.name: True for d in dependencies}
    for dependency in dependencies:
        DEPENDENCY_UP.labels(dependency=dependency.name).set(1)
    while not stopping.is_set():
        before = all(up.values())
        for dependency in dependencies:
            now = await answers(dependency)
            if now != up[dependency.name]:
                up[dependency.name] = now
                DEPENDENCY_UP.labels(dependency=dependency.name).set(int(now))
                if now:
                    log.info("%s answers again", dependency.name)
                else:
                    log.warning("%s does not answer: health is NOT_SERVING", dependency.name)
        after = all(up.values())
        if after != before:
            await on_change(after)
        await sleep_unless(stopping, interval_s)
