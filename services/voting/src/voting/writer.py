"""Group commit: ballots waiting to be saved are saved together, one transaction per batch.

A commit costs a disk flush (milliseconds); ballots arriving meanwhile queue up and share the
next one. One writer thread per process also orders ballots against closing: a poll is closed
by a job of the same queue, so no ballot commits after its poll was counted (in this process).
When a batch conflicts (the event store refuses a second ballot of the same voter), every ballot
of it is saved alone, so only the conflicting ones fail.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from lmp_kit.errors import FailedPreconditionError

log = logging.getLogger(__name__)

MAX_BATCH = 500


@dataclass
class _SaveJob:
    aggregate: Aggregate
    events: list[Any]
    poll_id: UUID
    future: Future[Any] = field(default_factory=Future)


@dataclass
class _CloseJob:
    poll_id: UUID
    close: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)


_STOP = object()


class BallotWriter:
    def __init__(self, save: Callable[..., object]) -> None:
        self.save = save
        self.jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.closed_polls: set[UUID] = set()
        self.thread = threading.Thread(target=self._run, name="ballot-writer", daemon=True)
        self.thread.start()

    def submit(self, aggregate: Aggregate, poll_id: UUID) -> Future[Any]:
        job = _SaveJob(aggregate, list(aggregate.collect_events()), poll_id)
        self.jobs.put(job)
        return job.future

    def close_poll(self, poll_id: UUID, close: Callable[[], Any]) -> Future[Any]:
        job = _CloseJob(poll_id, close)
        self.jobs.put(job)
        return job.future

    def stop(self) -> None:
        self.jobs.put(_STOP)
        self.thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            batch = [self.jobs.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self.jobs.get_nowait())
                except queue.Empty:
                    break
            pending: list[_SaveJob] = []
            for job in batch:
                if isinstance(job, _SaveJob):
                    pending.append(job)
                    continue
                self._save(pending)
                pending = []
                if isinstance(job, _CloseJob):
                    self._close(job)
                else:
                    return
            self._save(pending)

    def _close(self, job: _CloseJob) -> None:
        try:
            job.future.set_result(job.close())
        except BaseException as error:  # noqa: BLE001  # handed to the caller
            job.future.set_exception(error)
        else:
            self.closed_polls.add(job.poll_id)

    def _save(self, jobs: list[_SaveJob]) -> None:
        accepted = []
        for job in jobs:
            if job.poll_id in self.closed_polls:
                msg = f"poll {job.poll_id} is closed: ballots are accepted only while it is open"
                job.future.set_exception(FailedPreconditionError(msg))
            else:
                accepted.append(job)
        if not accepted:
            return
        try:
            self.save(*(e for j in accepted for e in j.events))
        except IntegrityError:
            for job in accepted:
                self._save_alone(job)
        except BaseException as error:  # noqa: BLE001  # handed to every caller of the batch
            log.warning("a batch of %d ballots was not saved: %s", len(accepted), error)
            for job in accepted:
                job.future.set_exception(error)
        else:
            for job in accepted:
                job.future.set_result(job.aggregate)

    def _save_alone(self, job: _SaveJob) -> None:
        try:
            self.save(*job.events)
        except BaseException as error:  # noqa: BLE001  # handed to the caller
            job.future.set_exception(error)
        else:
            job.future.set_result(job.aggregate)
