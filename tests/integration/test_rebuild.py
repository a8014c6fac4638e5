"""`lmp rebuild` on real servers: blue/green under traffic, the comparison, the resume."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from typing import TYPE_CHECKING, Any, Self

import grpc
import pytest
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2
from lmp_kit.consumer import FENCES
from lmp_kit.readmodels import CONTROL, CONTROL_ID, generation_name
from lmp_kit.rebuild import Progress, Rebuild
from lmp_kit.runtime import mongo_client, read_models, service_token
from lmp_kit.settings import Settings
from pymongo import MongoClient

from lmp_cli import rebuild as rebuild_cli

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import Slice


class Traffic:
    """Commands and reads in a thread while the rebuild runs: every read must answer."""

    def __init__(self, stack: Slice, read: Callable[[], object]) -> None:
        self.stack = stack
        self.read = read
        self.sent = 0
        self.reads = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        stub = self.stack.registry()
        metadata = self.stack.metadata()
        while not self._stop.is_set():
            stub.RegisterProblem(
                registry_pb2.RegisterProblemRequest(
                    city_id="sarov", title=f"During {self.sent}", description="traffic"
                ),
                metadata=metadata,
                timeout=10,
            )
            self.sent += 1
            try:
                self.read()
            except grpc.RpcError as error:
                self.failures.append(f"{error.code().name}: {error.details()}")
            self.reads += 1
            time.sleep(0.02)


def rebuild(stack: Slice, service: str, **options: Any) -> tuple[int, str]:
    out = io.StringIO()
    code = rebuild_cli.run(service, stack.env, out=out, **options)
    return code, out.getvalue()


def control(stack: Slice, service: str) -> dict[str, Any]:
    database = Settings.from_env(service, stack.env).mongodb_database
    with MongoClient(stack.env["MONGODB_URI"]) as client:
        return client[database][CONTROL].find_one({"_id": CONTROL_ID}) or {}


def databases(stack: Slice) -> list[str]:
    with MongoClient(stack.env["MONGODB_URI"]) as client:
        return client.list_database_names()


def test_kpi_is_rebuilt_under_traffic_switched_and_follows_the_new_generation(
    stack: Slice,
) -> None:
    stack.register_city()
    stack.register(150)
    assert stack.wait_registered(150) == 150
    kpi = stack.kpi()
    metadata = stack.metadata()

    def read() -> object:
        return kpi.ListProblemStats(
            kpi_pb2.ListProblemStatsRequest(city_id="sarov"), metadata=metadata, timeout=10
        )

    with Traffic(stack, read) as traffic:
        time.sleep(0.5)
        code, output = rebuild(stack, "kpi")
        time.sleep(1.5)  # reads on the new generation too
    assert code == 0, output
    assert "switched to generation 1" in output
    assert "problem_stats" in output  # among the collections found equal
    assert "events/s" in output
    assert traffic.sent > 10
    assert traffic.reads > 10
    assert traffic.failures == []
    assert control(stack, "kpi")["active"] == 1
    # Recorded after the switch: the live consumers follow on the new generation.
    total = 150 + traffic.sent
    stack.register(5, prefix="After")
    assert stack.wait_registered(total + 5) == total + 5
    home = Settings.from_env("kpi", stack.env).mongodb_database
    assert generation_name(home, 1) in databases(stack)
    with MongoClient(stack.env["MONGODB_URI"]) as client:
        # The old generation's read models were dropped; its fences stay, retired.
        assert "problem_stats" not in client[home].list_collection_names()
        assert all(f.get("retired") for f in client[home][FENCES].find())


def test_a_live_generation_that_differs_is_reported_and_kept_and_its_consumers_resume(
    stack: Slice,
) -> None:
    stack.register_city()
    stack.register(20)
    assert stack.wait_registered(20) == 20
    home = Settings.from_env("kpi", stack.env).mongodb_database
    with MongoClient(stack.env["MONGODB_URI"]) as client:
        client[home]["problem_stats"].insert_one({"_id": "tampered", "city_id": "nowhere"})
    code, output = rebuild(stack, "kpi")
    assert code == 1, output
    assert "differs from the live generation 0 in problem_stats" in output
    assert control(stack, "kpi").get("active", 0) == 0
    assert generation_name(home, 1) not in databases(stack)
    stack.register(3, prefix="After")
    assert stack.wait_registered(23) == 23  # the live consumers resumed


def test_an_interrupted_rebuild_resumes_from_its_own_positions(stack: Slice) -> None:
    stack.register_city()
    stack.register(120)
    assert stack.wait_registered(120) == 120
    settings = Settings.from_env("kpi", stack.env)
    from kpi.consumers import SUBSCRIPTIONS  # noqa: PLC0415  # kpi's own projections

    class StoppedHereError(Exception):
        pass

    def interrupt(progress: Progress) -> None:
        if progress.applied:
            raise StoppedHereError

    async def first_run() -> None:
        client = mongo_client(settings)
        try:
            job = Rebuild(
                models=read_models(settings, client, SUBSCRIPTIONS),
                subscriptions=SUBSCRIPTIONS,
                upstream_targets={
                    s.upstream: settings.endpoints[s.upstream].grpc_target for s in SUBSCRIPTIONS
                },
                token=service_token(settings),
                report=interrupt,
            )
            with pytest.raises(StoppedHereError):
                await job.run()
        finally:
            await client.close()

    asyncio.run(first_run())
    assert control(stack, "kpi")["rebuild"]["generation"] == 1
    code, output = rebuild(stack, "kpi")
    assert code == 0, output
    assert "resuming the rebuild into generation 1" in output
    assert "switched to generation 1" in output
    stack.register(2, prefix="After")
    assert stack.wait_registered(122) == 122
