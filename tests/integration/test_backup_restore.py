"""`lmp backup` while the stack runs and writes, `lmp restore` into a new data dir, and the
stack started there with new MongoDB databases and a new Kafka namespace: every read model
is rebuilt from the restored logs and equals the original's at the backup's positions.
Restore refuses a data dir whose stores are open, a MongoDB prefix or a Kafka namespace that
holds what was built from the logs after the backup, and a damaged copy."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Self
from uuid import UUID

import grpc
from lmp.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from lmp.registry.v1 import registry_pb2
from lmp_devstack.secantus import start_secantus
from lmp_kit.consumer import POSITIONS
from pymongo import MongoClient

from lmp_cli.backup import MANIFEST, store_file
from lmp_cli.stack import isolated_env

from .conftest import Slice

CITY = "sarov"
BEFORE = 30
# A stack rebuilding its read models from the start on a busy machine of two cores.
CONVERGE_TIMEOUT_S = 180.0
COMMAND_TIMEOUT_S = 120.0


def lmp(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # our own command line, with arguments we chose
        [sys.executable, "-m", "lmp_cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def problems_in(copy: Path) -> set[str]:
    """The problems the registry's log holds, read from the file itself."""
    with contextlib.closing(sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT originator_id FROM stored_events WHERE topic LIKE '%:Problem.Registered'"
        ).fetchall()
    return {str(UUID(row[0])) for row in rows}


def listed(stack: Slice) -> list[registry_pb2.ProblemEntry]:
    stub = stack.registry()
    metadata = stack.metadata("working_group", cities=(CITY,))
    entries: list[registry_pb2.ProblemEntry] = []
    token = ""
    while True:
        page = stub.ListProblems(
            registry_pb2.ListProblemsRequest(
                city_id=CITY, page=registry_pb2.PageRequest(page_size=200, page_token=token)
            ),
            metadata=metadata,
            timeout=10,
        )
        entries.extend(page.problems)
        token = page.next_page_token
        if not token:
            return entries


class Traffic:
    """Problems registered one after another until stopped."""

    def __init__(self, stack: Slice) -> None:
        self.stack = stack
        self.made = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        stub = self.stack.registry()
        metadata = self.stack.metadata("working_group", cities=(CITY,))
        while not self.stopping.is_set():
            with contextlib.suppress(grpc.RpcError):
                stub.RegisterProblem(
                    registry_pb2.RegisterProblemRequest(
                        city_id=CITY, title=f"Under backup {self.made}", description="traffic"
                    ),
                    metadata=metadata,
                    timeout=10,
                )
                self.made += 1

    def wait_for(self, more: int) -> None:
        target = self.made + more
        while self.made < target:
            time.sleep(0.05)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join()


def restored_env(original: Slice, data_dir: Path, **settings: str) -> dict[str, str]:
    """A stack of its own on `data_dir`: new ports, JWT secret, Kafka namespace and MongoDB
    databases; the same servers as the original."""
    return isolated_env(
        data_dir,
        prefix="r",
        settings={
            "KAFKA_BOOTSTRAP_SERVERS": original.env["KAFKA_BOOTSTRAP_SERVERS"],
            "MONGODB_URI": original.env["MONGODB_URI"],
            "LMP_KAFKA_SESSION_TIMEOUT_MS": "2000",
            "LMP_RECONCILE_INTERVAL_S": "2",
            **settings,
        },
    )


def wait_until(check: Any, timeout: float = CONVERGE_TIMEOUT_S) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def test_a_backup_taken_under_traffic_restores_into_a_new_data_dir_and_every_read_model_converges(
    stack: Slice, tmp_path: Path
) -> None:
    stack.register_city(CITY)
    stack.register(BEFORE, city=CITY, prefix="Before")
    backup_dir = tmp_path / "backup"
    with Traffic(stack) as traffic:
        traffic.wait_for(20)
        made = lmp("backup", str(backup_dir), env=stack.env)
        traffic.wait_for(20)  # and the stack goes on writing after the copy
    assert made.returncode == 0, made.stderr
    assert "not in the backup" in made.stdout
    manifest = json.loads((backup_dir / MANIFEST).read_text(encoding="utf-8"))
    heads = {s["service"]: s["max_notification_id"] for s in manifest["stores"]}
    assert set(heads) == {"registry", "kpi"}
    in_copy = problems_in(backup_dir / store_file("registry"))
    assert BEFORE < len(in_copy) < BEFORE + traffic.made
    assert stack.head("registry") > heads["registry"]

    target = tmp_path / "restored"
    env = restored_env(stack, target)
    placed = lmp("restore", str(backup_dir), env=env)
    assert placed.returncode == 0, placed.stderr
    restored = Slice(env, tmp_path / "restored-logs")
    try:
        restored.start("registry")
        restored.start("kpi")
        assert restored.head("registry") == heads["registry"]
        assert restored.head("kpi") == heads["kpi"]
        # kpi's read model: every problem of the copy counted once, none of those after it.
        assert restored.wait_registered(len(in_copy), CITY, CONVERGE_TIMEOUT_S) == len(in_copy)
        # registry's own read model: the original's entries of the problems in the copy.
        expected = sorted(
            (p for p in listed(stack) if p.problem_id in in_copy), key=lambda p: p.problem_id
        )
        assert len(expected) == len(in_copy)
        rebuilt = wait_until(lambda: len(listed(restored)) == len(in_copy) and listed(restored))
        assert sorted(rebuilt, key=lambda p: p.problem_id) == expected
        time.sleep(3)  # a reconciliation round later, still the same
        assert restored.registered(CITY) == len(in_copy)

        again = lmp("restore", str(backup_dir), "--force", env=env)
        assert again.returncode == 1
        assert "stop the stack on this data dir first" in again.stderr
    finally:
        restored.stop()

    over = lmp("restore", str(backup_dir), env=env)
    assert over.returncode == 1
    assert "is in use: it holds" in over.stderr


def test_a_restore_refuses_read_models_and_topics_built_past_the_backup_and_a_damaged_copy(
    stack: Slice, tmp_path: Path
) -> None:
    stack.register_city(CITY)
    stack.register(5, city=CITY)
    assert stack.wait_registered(5, CITY) == 5  # registered above
    backup_dir = tmp_path / "backup"
    assert lmp("backup", str(backup_dir), env=stack.env).returncode == 0

    same_topics = restored_env(
        stack, tmp_path / "a", LMP_KAFKA_NAMESPACE=stack.env["LMP_KAFKA_NAMESPACE"]
    )
    refused = lmp("restore", str(backup_dir), env=same_topics)
    assert refused.returncode == 1
    assert "Set a new LMP_KAFKA_NAMESPACE" in refused.stderr
    assert not (tmp_path / "a" / store_file("registry")).exists()

    prefix = stack.env["LMP_MONGODB_DB_PREFIX"]
    same_models = restored_env(stack, tmp_path / "b", LMP_MONGODB_DB_PREFIX=prefix)
    refused = lmp("restore", str(backup_dir), env=same_models)
    assert refused.returncode == 1
    assert f"{prefix}kpi" in refused.stderr
    assert "--drop-read-models" in refused.stderr

    # What notifications wrote by itself stays; what it keeps of the logs goes, as do the
    # read models of the services whose logs are restored (and a rebuild's generations).
    client: MongoClient[dict[str, Any]] = MongoClient(stack.env["MONGODB_URI"])
    notifications = client[f"{prefix}notifications"]
    notifications["subscriptions"].insert_one({"_id": "kept", "city_id": CITY})
    notifications["deliveries"].insert_one({"_id": "delivered", "status": "delivered"})
    notifications[POSITIONS].insert_one({"_id": "registry", "position": 10**6})
    notifications["cities"].insert_one({"_id": CITY})
    client[f"{prefix}kpi__g2"]["problem_stats"].insert_one({"_id": "a rebuild's"})
    stack.stop()
    dropped = lmp("restore", str(backup_dir), "--drop-read-models", env=same_models)
    assert dropped.returncode == 0, dropped.stderr
    names = set(client.list_database_names())
    assert {f"{prefix}kpi", f"{prefix}registry", f"{prefix}kpi__g2"}.isdisjoint(names)
    assert set(notifications.list_collection_names()) == {"subscriptions", "deliveries"}
    client.drop_database(notifications.name)
    client.close()
    again = Slice(same_models, tmp_path / "b-logs")
    try:
        again.start("registry")
        again.start("kpi")
        assert again.wait_registered(5, CITY, CONVERGE_TIMEOUT_S) == 5  # the backup's five
    finally:
        again.stop()

    damaged = tmp_path / "damaged"
    shutil.copytree(backup_dir, damaged)
    copy = damaged / store_file("registry")
    raw = bytearray(copy.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    copy.write_bytes(bytes(raw))
    refused = lmp("restore", str(damaged), env=restored_env(stack, tmp_path / "c"))
    assert refused.returncode == 1
    assert "registry.events.sqlite is not the file backed up" in refused.stderr
    assert not (tmp_path / "c").exists()


def inbox(stack: Slice, person: str) -> list[notifications_pb2.Notification]:
    stub = notifications_pb2_grpc.NotificationsServiceStub(
        grpc.insecure_channel(stack.target("notifications"))
    )
    page = stub.ListInbox(
        notifications_pb2.ListInboxRequest(person_id=person, page_size=100),
        metadata=stack.metadata("portal", cities=(CITY,)),
        timeout=10,
    )
    return list(page.notifications)


def subscriptions(stack: Slice) -> list[notifications_pb2.Subscription]:
    stub = notifications_pb2_grpc.NotificationsServiceStub(
        grpc.insecure_channel(stack.target("notifications"))
    )
    page = stub.ListSubscriptions(
        notifications_pb2.ListSubscriptionsRequest(city_id=CITY),
        metadata=stack.metadata("portal", cities=(CITY,)),
        timeout=10,
    )
    return list(page.subscriptions)


def meetings(stack: Slice, count: int, prefix: str) -> None:
    for number in range(count):
        stack.registry().RegisterActivity(
            registry_pb2.RegisterActivityRequest(
                city_id=CITY,
                kind="working_meeting",
                title=f"{prefix} {number}",
                held_on="2026-11-05",
                participant_categories=["administration"],
            ),
            metadata=stack.metadata("working_group", cities=(CITY,)),
            timeout=10,
        )


def test_notifications_own_state_travels_with_the_backup_and_nothing_is_sent_again(
    slice_factory: Any, tmp_path: Path
) -> None:
    """Subscriptions and the inbox exist only in notifications' MongoDB database: the backup
    dumps them, the restore loads them into the new database, and the restored consumers,
    rebuilding from the logs, deliver nothing a second time."""
    made: Slice = slice_factory()
    made.start("registry")
    made.start("notifications")
    made.register_city(CITY)
    stub = notifications_pb2_grpc.NotificationsServiceStub(
        grpc.insecure_channel(made.target("notifications"))
    )
    stub.CreateSubscription(
        notifications_pb2.CreateSubscriptionRequest(
            city_id=CITY, kind="activity_registered", person_id="anna", channels=["inbox"]
        ),
        metadata=made.metadata("portal", cities=(CITY,)),
        timeout=10,
    )
    meetings(made, 3, "Before")
    delivered = wait_until(lambda: len(got := inbox(made, "anna")) == 3 and got)
    assert delivered, "three meetings in anna's inbox before the backup"
    backup_dir = tmp_path / "backup"
    taken = lmp("backup", str(backup_dir), env=made.env)
    assert taken.returncode == 0, taken.stderr
    manifest = json.loads((backup_dir / MANIFEST).read_text(encoding="utf-8"))
    dumped = {c["collection"]: c["documents"] for c in manifest["collections"]}
    assert dumped["subscriptions"] == 1
    assert dumped["inbox"] == 3
    assert "notifications" not in manifest["not_included"]
    original = subscriptions(made)
    made.stop()

    env = restored_env(made, tmp_path / "restored")
    placed = lmp("restore", str(backup_dir), env=env)
    assert placed.returncode == 0, placed.stderr
    assert "documents of" in placed.stdout
    restored = Slice(env, tmp_path / "restored-logs")
    try:
        restored.start("registry")
        restored.start("notifications")
        assert subscriptions(restored) == original
        assert sorted(n.notification_id for n in inbox(restored, "anna")) == sorted(
            n.notification_id for n in delivered
        )
        meetings(restored, 1, "After")  # the restored stack goes on: one new notice
        assert wait_until(lambda: len(inbox(restored, "anna")) == 4)
        time.sleep(3)  # a reconciliation round later: the old events made nothing new
        assert len(inbox(restored, "anna")) == 4
    finally:
        restored.stop()


def test_a_restore_into_the_embedded_mongodb_loads_notifications_state(
    slice_factory: Any, tmp_path: Path
) -> None:
    """Without MONGODB_URI the restore starts the data dir's own MongoDB for the load."""
    made: Slice = slice_factory()
    made.start("registry")
    made.start("notifications")
    stub = notifications_pb2_grpc.NotificationsServiceStub(
        grpc.insecure_channel(made.target("notifications"))
    )
    stub.CreateSubscription(
        notifications_pb2.CreateSubscriptionRequest(
            city_id=CITY, kind="poll_opened", person_id="boris", channels=["inbox"]
        ),
        metadata=made.metadata("portal", cities=(CITY,)),
        timeout=10,
    )
    backup_dir = tmp_path / "backup"
    assert lmp("backup", str(backup_dir), env=made.env).returncode == 0
    made.stop()

    target = tmp_path / "embedded"
    env = {k: v for k, v in restored_env(made, target).items() if k != "MONGODB_URI"}
    placed = lmp("restore", str(backup_dir), env=env)
    assert placed.returncode == 0, placed.stderr
    server = start_secantus(target / "mongodb")
    try:
        client: MongoClient[dict[str, Any]] = MongoClient(server.address)
        database = client[f"{env['LMP_MONGODB_DB_PREFIX']}notifications"]
        (found,) = database["subscriptions"].find({}, {"person_id": 1, "kind": 1, "_id": 0})
        assert found == {"person_id": "boris", "kind": "poll_opened"}
        client.close()
    finally:
        server.stop()
