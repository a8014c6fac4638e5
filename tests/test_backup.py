"""`lmp backup` / `lmp restore` on real SQLite event stores written by the eventsourcing
library, without servers: a copy taken while a writer commits is one moment of the store;
restore verifies every checksum, refuses a data dir in use, and writes nothing it refuses."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from pathlib import Path

import pytest
from eventsourcing.persistence import Tracking
from lmp_kit.domain import CityAggregate, ServiceApplication

from lmp_cli.backup import (
    MANIFEST,
    PSEUDONYM_KEY,
    BackupError,
    backup,
    restore,
    store_file,
)
from lmp_cli.main import main


class Thing(CityAggregate):
    def __init__(self, city_id: str, number: int) -> None:
        self.city_id = city_id
        self.number = number


def app_on(data_dir: Path, service: str) -> ServiceApplication:
    data_dir.mkdir(parents=True, exist_ok=True)
    return ServiceApplication(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(data_dir / store_file(service)),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    )


def fill(data_dir: Path, service: str, count: int) -> None:
    app = app_on(data_dir, service)
    for number in range(count):
        app.save(Thing(city_id="sarov", number=number))
    app.tracking.insert_tracking(Tracking("kafka-relay", count))
    app.close()


def events_in(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


def rows_of(path: Path) -> list[tuple[object, ...]]:
    query = "SELECT rowid, originator_id, originator_version, state FROM stored_events"
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(query).fetchall()


def quiet(_line: str) -> None:
    pass


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    made = tmp_path / "data"
    fill(made, "registry", 30)
    fill(made, "kpi", 5)
    (made / PSEUDONYM_KEY).write_text("a-pseudonym-master-key-of-this-data-dir", encoding="utf-8")
    (made / "jwt.secret").write_text("a-signing-secret", encoding="utf-8")
    return made


def test_a_copy_taken_while_a_writer_commits_is_the_store_at_one_moment(tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = app_on(data, "registry")
    app.save(Thing(city_id="sarov", number=-1))
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        while not stop.is_set():
            app.save(Thing(city_id="sarov", number=len(written)))
            written.append(1)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 50:  # the writer is well under way
            stop.wait(0.01)
        manifest = backup(data, tmp_path / "backup", quiet)
        during = len(written)
        while len(written) < during + 50:  # and goes on after the copy
            stop.wait(0.01)
    finally:
        stop.set()
        writer.join()
    (store,) = manifest.stores
    assert store.events == store.max_notification_id  # every id up to the head, no gap
    assert 0 < store.max_notification_id < (app.recorder.max_notification_id() or 0)
    copy = app_on(tmp_path / "backup", "registry")
    notifications = copy.recorder.select_notifications(start=1, limit=100_000)
    assert [n.id for n in notifications] == list(range(1, store.max_notification_id + 1))
    copy.close()
    app.close()
    assert not (tmp_path / "backup" / f"{store.file}-wal").exists()  # one self-contained file


def test_the_manifest_says_what_was_copied_and_what_was_not(data_dir: Path, tmp_path: Path) -> None:
    backup(data_dir, tmp_path / "backup", quiet)
    raw = json.loads((tmp_path / "backup" / MANIFEST).read_text(encoding="utf-8"))
    stores = {s["service"]: s for s in raw["stores"]}
    assert set(stores) == {"registry", "kpi"}
    assert raw["missing"] == ["voting", "expertise"]
    assert stores["registry"]["max_notification_id"] == 30  # filled above
    assert stores["registry"]["positions"]["kafka-relay"] == 30  # as tracked
    assert raw["versions"]["eventsourcing"]
    assert [s["file"] for s in raw["secrets"]] == [PSEUDONYM_KEY]
    assert not (tmp_path / "backup" / "jwt.secret").exists()
    assert {"mongodb", "kafka", "jwt.secret", "notifications"} <= set(raw["not_included"])
    with pytest.raises(BackupError, match="not empty"):
        backup(data_dir, tmp_path / "backup", quiet)


def test_a_restore_into_a_new_data_dir_gives_the_same_stores_and_the_key(
    data_dir: Path, tmp_path: Path
) -> None:
    backup(data_dir, tmp_path / "backup", quiet)
    target = tmp_path / "restored"
    code = main(["restore", str(tmp_path / "backup"), "--data-dir", str(target)])
    assert code == 0
    for service in ("registry", "kpi"):
        assert rows_of(target / store_file(service)) == rows_of(data_dir / store_file(service))
    assert (target / PSEUDONYM_KEY).read_text(encoding="utf-8") == (
        data_dir / PSEUDONYM_KEY
    ).read_text(encoding="utf-8")
    assert not list(target.glob(".*.restoring"))


def test_a_restore_refuses_a_data_dir_in_use_unless_forced_and_then_sets_it_aside(
    data_dir: Path, tmp_path: Path
) -> None:
    backup(data_dir, tmp_path / "backup", quiet)
    target = tmp_path / "other"
    fill(target, "registry", 3)
    (target / "mongodb").mkdir()
    with pytest.raises(BackupError, match=r"in use: it holds registry.events.sqlite, mongodb"):
        restore(tmp_path / "backup", target, {}, force=False, drop=False, say=quiet)
    assert events_in(target / store_file("registry")) == 3  # as filled
    restore(tmp_path / "backup", target, {}, force=True, drop=False, say=quiet)
    assert events_in(target / store_file("registry")) == 30  # the backup's
    (kept,) = target.glob("before-restore-*")
    assert {p.name for p in kept.iterdir()} >= {"registry.events.sqlite", "mongodb"}
    assert not (target / "mongodb").exists()  # the embedded read models of the old logs


def test_a_damaged_backup_is_refused_and_nothing_is_written(data_dir: Path, tmp_path: Path) -> None:
    backup(data_dir, tmp_path / "backup", quiet)
    copied = tmp_path / "backup" / store_file("kpi")
    raw = bytearray(copied.read_bytes())
    raw[-100] ^= 0xFF
    copied.write_bytes(bytes(raw))
    target = tmp_path / "restored"
    with pytest.raises(BackupError, match=r"kpi.events.sqlite is not the file backed up"):
        restore(tmp_path / "backup", target, {}, force=False, drop=False, say=quiet)
    assert not target.exists()


def test_an_interrupted_backup_without_its_manifest_is_refused(
    data_dir: Path, tmp_path: Path
) -> None:
    backup(data_dir, tmp_path / "backup", quiet)
    (tmp_path / "backup" / MANIFEST).unlink()
    code = main(["restore", str(tmp_path / "backup"), "--data-dir", str(tmp_path / "restored")])
    assert code == 1
    assert not (tmp_path / "restored").exists()
