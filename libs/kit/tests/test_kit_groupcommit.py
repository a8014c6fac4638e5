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
from lmp_kit.groupcommit import (
    Barrier,
    CommitPolicy,
    CommitterStoppedError,
    GroupCommitter,
    Job,
    Refused,
)
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


# The engine's hooks, as a committer with rules of its own (voting's ballot writer) uses them.

WAIT_S = 10


class _Held:
    """A barrier that holds the committer until released: what is queued behind it meanwhile
    makes one batch."""

    def __init__(self, committer: GroupCommitter[Any]) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.future = committer.submit(Barrier(run=self._wait))
        assert self.entered.wait(WAIT_S)

    def _wait(self) -> str:
        self.entered.set()
        assert self.gate.wait(WAIT_S)
        return "released"

    def release(self) -> None:
        self.gate.set()
        assert self.future.result(WAIT_S) == "released"


def _job(text: str) -> Job:
    return Job(events=list(Note("sarov", text).collect_events()))


def _texts(app: Notes) -> list[str]:
    notifications = app.recorder.select_notifications(start=None, limit=1_000)
    return [app.mapper.to_domain_event(n).text for n in notifications]  # type: ignore[attr-defined]


class _RefuseSome(CommitPolicy[Job]):
    """Refuses a note whose text is "refuse" before recording, and answers the others with
    their notification ids; a first conflict of "again" is tried once more."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.tried_again = 0

    def prepare(self, jobs: list[Job]) -> list[list[Any] | Refused]:
        self.batches.append(len(jobs))
        refused = Refused(ValueError("refused by the rules"))
        return [refused if job.events[0].text == "refuse" else job.events for job in jobs]

    def again(self, job: Job, error: IntegrityError) -> bool:
        del job, error
        self.tried_again += 1
        return self.tried_again == 1

    def recorded(self, saved: list[tuple[Job, list[Any]]]) -> list[object]:
        return [[r.notification.id for r in recordings] for _, recordings in saved]


def test_a_barrier_runs_between_the_jobs_queued_before_and_after_it(tmp_path):
    app = _app(tmp_path)
    committer: GroupCommitter[Job] = GroupCommitter(app.save_directly, "test-barrier")
    try:
        held = _Held(committer)
        before = committer.submit(_job("before"))
        head = committer.submit(Barrier(run=app.recorder.max_notification_id))
        after = committer.submit(_job("after"))
        held.release()

        (before_id,) = [r.notification.id for r in before.result(WAIT_S)]
        (after_id,) = [r.notification.id for r in after.result(WAIT_S)]
        assert head.result(WAIT_S) == before_id < after_id
    finally:
        committer.stop()
        app.close()


def test_a_job_cancelled_before_its_batch_is_never_recorded_and_the_committer_goes_on(tmp_path):
    app = _app(tmp_path)
    committer: GroupCommitter[Job] = GroupCommitter(app.save_directly, "test-cancel")
    try:
        held = _Held(committer)
        gone = committer.submit(_job("gone"))
        assert gone.cancel()  # its caller went away while it was queued
        kept = committer.submit(_job("kept"))
        held.release()

        assert kept.result(WAIT_S)
        assert gone.cancelled()
        assert _texts(app) == ["kept"]
        assert committer.is_alive()
        assert committer.busy() == 0
    finally:
        committer.stop()
        app.close()


def test_a_policy_refuses_one_job_before_recording_and_the_rest_share_a_transaction(tmp_path):
    app = _app(tmp_path)
    rules = _RefuseSome()
    committer = GroupCommitter(app.save_directly, "test-policy", policy=rules, batch_sizes=None)
    try:
        held = _Held(committer)
        futures = [committer.submit(_job(t)) for t in ("one", "refuse", "two")]
        held.release()

        one, refused, two = futures
        with pytest.raises(ValueError, match="refused by the rules"):
            refused.result(WAIT_S)
        assert one.result(WAIT_S) == [1]
        assert two.result(WAIT_S) == [2]
        assert rules.batches == [3]  # prepared together, recorded in one transaction
        assert _texts(app) == ["one", "two"]
    finally:
        committer.stop()
        app.close()


def test_a_conflict_the_policy_wants_again_is_prepared_and_recorded_once_more(tmp_path):
    app = _app(tmp_path)
    rules = _RefuseSome()
    calls = []

    def conflicting_once(*events: Any) -> Any:  # the store's signature
        calls.append(len(events))
        if len(calls) == 1:
            msg = "another replica took it"
            raise IntegrityError(msg)
        return app.save_directly(*events)

    committer = GroupCommitter(conflicting_once, "test-again", policy=rules, batch_sizes=None)
    try:
        assert committer.submit(_job("again")).result(WAIT_S) == [1]
        assert rules.tried_again == 1
        assert rules.batches == [1, 1]
        assert _texts(app) == ["again"]
    finally:
        committer.stop()
        app.close()
