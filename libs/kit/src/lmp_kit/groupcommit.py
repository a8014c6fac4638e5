"""Group commit for every service's commands: saves that wait at the same moment share one
transaction (one disk flush) instead of queueing for a transaction each. Off by default
(`LMP_GROUP_COMMIT=true` turns it on: +37 % commands/s in the slice bench) until commands
racing for one aggregate no longer meet in one batch, where all but one lose every round.

A command's worker thread hands the events it collected to the committer and waits; the
committer's thread takes everything waiting (up to `MAX_BATCH`), records it in one transaction
of the event store, and answers each command with its own recordings. When the batch is
refused — a concurrency conflict (`IntegrityError`: two commands raced for an aggregate's next
version, or a request key taken twice) or any other fault — each command of it is saved alone,
so only the commands that conflict or fail get their error (`lmp_kit.commands.run_command`
then runs a conflicting one again on the new state). A store that is itself away
(`PersistenceError` other than a conflict) fails the whole batch at once: saving alone would
not help.

Nothing is lost or half-written: a command's events are recorded in exactly one transaction, the
batch's or its own, and its caller is answered only after that transaction committed or failed.
A command thread cannot be cancelled while it waits (asyncio's `to_thread` runs it to its end),
so unlike the voting service's ballot writer there is no claim step. The voting service keeps
its own writer for ballots, which adds the poll fence and the electorate's seats to the same
idea (voting/writer.py).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, PersistenceError, Recording

from lmp_kit.metrics import GROUP_COMMIT_BATCH, WORKER_UP

log = logging.getLogger(__name__)

WORKER = "group-commit"
MAX_BATCH = 200

Record = Callable[..., Sequence[Recording[UUID]]]


class CommitterStoppedError(PersistenceError):
    """The committer has stopped (the service is shutting down): nothing was recorded."""


@dataclass
class _Job:
    events: list[Any]
    future: Future[list[Recording[UUID]]] = field(default_factory=Future)


_STOP = object()


class GroupCommitter:
    """One thread per event store that records the events of every waiting command together."""

    def __init__(self, record: Record, name: str = WORKER) -> None:
        self.record = record
        self.name = name
        self.jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._accepting = threading.Lock()
        self._stopped = False
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def is_alive(self) -> bool:
        return self.thread.is_alive() and not self._stopped

    def in_committer(self) -> bool:
        return threading.current_thread() is self.thread

    def save(self, events: list[Any]) -> list[Recording[UUID]]:
        """Record `events` (in a batch with whatever else waits) and return their recordings;
        the batch's or the command's own error is raised here."""
        job = _Job(events)
        with self._accepting:
            if self._stopped:
                msg = "the event store's committer has stopped (shutting down): send again"
                raise CommitterStoppedError(msg)
            self.jobs.put(job)
        return job.future.result()

    def stop(self) -> None:
        with self._accepting:
            if not self._stopped:
                self._stopped = True
                self.jobs.put(_STOP)
        self.thread.join(timeout=10)

    def _run(self) -> None:
        WORKER_UP.labels(worker=self.name).set(1)
        try:
            while True:
                batch = self._next_batch()
                jobs = [job for job in batch if isinstance(job, _Job)]
                if jobs:
                    self._commit(jobs)
                if any(job is _STOP for job in batch):
                    return
        finally:
            with self._accepting:
                self._stopped = True
            WORKER_UP.labels(worker=self.name).set(0)
            self._refuse_queued()

    def _next_batch(self) -> list[object]:
        batch = [self.jobs.get()]
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self.jobs.get_nowait())
            except queue.Empty:
                break
        return batch

    def _commit(self, jobs: list[_Job]) -> None:
        GROUP_COMMIT_BATCH.observe(len(jobs))
        if len(jobs) == 1:
            self._commit_alone(jobs[0])
            return
        try:
            recordings = self.record(*(event for job in jobs for event in job.events))
        except IntegrityError:
            for job in jobs:
                self._commit_alone(job)
        except PersistenceError as error:  # the store itself: alone would fail the same
            for job in jobs:
                job.future.set_exception(error)
        except BaseException:  # noqa: BLE001  # one poisoned command: alone, only it fails
            for job in jobs:
                self._commit_alone(job)
        else:
            self._answer(jobs, recordings)

    def _commit_alone(self, job: _Job) -> None:
        try:
            recordings = self.record(*job.events)
        except BaseException as error:  # noqa: BLE001  # handed to the command that waits
            job.future.set_exception(error)
        else:
            job.future.set_result(list(recordings))

    @staticmethod
    def _answer(jobs: list[_Job], recordings: Sequence[Recording[UUID]]) -> None:
        """Each job's recordings, in order: the batch recorded the jobs' events in turn."""
        start = 0
        for job in jobs:
            end = start + len(job.events)
            job.future.set_result(list(recordings[start:end]))
            start = end

    def _refuse_queued(self) -> None:
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                return
            if isinstance(job, _Job):
                msg = "the event store's committer has stopped (shutting down): send again"
                job.future.set_exception(CommitterStoppedError(msg))
