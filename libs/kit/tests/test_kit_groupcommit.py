"""Group commit (lmp_kit.groupcommit) on a real SQLite event store: concurrent commands share
transactions, each gets exactly its own recordings and consistency position, a conflict fails
only the command that lost the race, and nothing is recorded twice or lost."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError
from lmp_kit.commands import retrying
from lmp_kit.consistency import recording
from lmp_kit.domain import CityAggregate, ServiceApplication
from lmp_kit.groupcommit import CommitterStoppedError
from lmp_kit.metrics import GROUP_COMMIT_BATCH

COMMANDS = 400
THREADS = 32


class Note(CityAggregate):
    def __init__(self, city_id: str, text: str) -> None:
        self.city_id = city_id
        self.text = text

    def amend(self, text: str) -> None:
        self._amended(text=text)

    @event("Amended")
    def _amended(self, text: str) -> None:
        self.text = text


class Notes(ServiceApplication):
    pass


@pytest.fixture(autouse=True)
def _group_commit_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMP_GROUP_COMMIT", "true")


def _app(tmp_path: Path) -> Notes:
    return Notes(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "notes.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    )


def _batches() -> float:
    return sum(
        s.value
        for m in GROUP_COMMIT_BATCH.collect()
        for s in m.samples
        if s.name.endswith("_count")
    )


def test_concurrent_commands_share_transactions_and_each_gets_its_own_recordings(tmp_path):
    app = _app(tmp_path)
    try:
        assert app.committer is not None
        before = _batches()

        def command(number: int) -> tuple[uuid.UUID, list[Any], int]:
            note = Note("sarov", f"note {number}")
            with recording() as written:
                recordings = app.save(note)
            return note.id, recordings, written.position

        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(command, range(COMMANDS)))

        batches = _batches() - before
        assert batches < COMMANDS  # some commands shared a transaction
        ids = set()
        for note_id, recordings, position in results:
            assert [r.domain_event.originator_id for r in recordings] == [note_id]
            assert position == recordings[0].notification.id  # the caller's token
            ids.add(recordings[0].notification.id)
        assert len(ids) == COMMANDS  # each event recorded once
        notifications = app.recorder.select_notifications(start=1, limit=COMMANDS + 10)
        assert len(notifications) == COMMANDS
        assert {app.repository.get(n).text for n, _, _ in results} == {
            f"note {i}" for i in range(COMMANDS)
        }
    finally:
        app.close()


def test_a_conflict_fails_only_the_command_that_lost_the_race(tmp_path):
    app = _app(tmp_path)
    try:
        note = Note("sarov", "first")
        app.save(note)
        barrier = threading.Barrier(THREADS)

        def amend(number: int) -> str:
            copy: Note = app.repository.get(note.id)  # every thread at the same version
            copy.amend(f"amended by {number}")
            other = Note("sarov", f"unrelated {number}")
            barrier.wait()
            try:
                app.save(copy)
            except IntegrityError:
                app.save(other)  # the loser goes on: its next command is recorded
                return "lost"
            app.save(other)
            return "won"

        with ThreadPoolExecutor(THREADS) as pool:
            outcomes = list(pool.map(amend, range(THREADS)))

        assert outcomes.count("won") == 1
        assert outcomes.count("lost") == THREADS - 1
        assert app.repository.get(note.id).version == 2  # one amendment, not a second
        # the note, one amendment and every thread's unrelated note
        assert len(app.recorder.select_notifications(start=1, limit=1000)) == 2 + THREADS
    finally:
        app.close()


def test_commands_racing_for_one_aggregate_all_land_within_their_attempts(tmp_path):
    """Each command loads the note, amends it and saves, as a use case does; in one process
    commands on one aggregate take turns instead of losing round after round."""
    app = _app(tmp_path)
    try:
        note = Note("sarov", "first")
        app.save(note)
        attempts: list[int] = []
        barrier = threading.Barrier(THREADS)

        def amend(number: int) -> None:
            tries = 0

            def attempt() -> None:
                nonlocal tries
                tries += 1
                copy: Note = app.repository.get(note.id)
                copy.amend(f"amended by {number}")
                app.save(copy)

            barrier.wait()
            retrying(attempt)
            attempts.append(tries)

        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(amend, range(THREADS)))

        assert app.repository.get(note.id).version == 1 + THREADS  # every amendment landed
        assert attempts.count(1) >= THREADS // 2  # without turns all but one lose at first
        assert app.committer is not None
        assert app.committer.busy() == 0
    finally:
        app.close()


def test_group_commit_is_on_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("LMP_GROUP_COMMIT")
    app = _app(tmp_path)
    try:
        assert app.committer is not None
    finally:
        app.close()


def test_a_stopped_committer_refuses_and_records_nothing(tmp_path):
    app = _app(tmp_path)
    assert app.committer is not None
    app.committer.stop()
    with pytest.raises(CommitterStoppedError):
        app.save(Note("sarov", "too late"))
    assert app.recorder.select_notifications(start=1, limit=10) == []
    app.close()


def test_group_commit_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("LMP_GROUP_COMMIT", "false")
    app = _app(tmp_path)
    try:
        assert app.committer is None
        with recording() as written:
            (saved,) = app.save(Note("sarov", "alone"))
        assert written.position == saved.notification.id
    finally:
        app.close()
