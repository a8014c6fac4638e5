"""Group commit: ballots waiting to be saved are saved together, one transaction per batch.

A commit costs a disk flush (milliseconds); ballots arriving meanwhile queue up and share the
next one. One writer thread per process also orders ballots against closing: a poll is closed
by a job of the same queue, so no ballot commits after its poll was counted (in this process).
Across processes (several API replicas on one event store) the fence is `Poll.Closing`: after a
batch commits, the writer asks the event store whether any poll of the batch has an event newer
than the version its ballots were checked against; if so, the ballot's caller waits for the
count and learns whether it was counted (docs/decisions/0003-voting.md).
When a batch conflicts (the event store refuses a second ballot of the same voter), every ballot
of it is saved alone, so only the conflicting ones fail.
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

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Recording
from lmp_kit.errors import FailedPreconditionError

log = logging.getLogger(__name__)

MAX_BATCH = 500


@dataclass(frozen=True)
class Saved:
    """A committed ballot, its notification id, and whether its poll changed (began closing)
    between the ballot's check and its commit."""

    ballot: Any
    notification_id: int
    poll_changed: bool


@dataclass
class _SaveJob:
    aggregate: Aggregate
    events: list[Any]
    poll_id: UUID
    poll_version: int
    future: Future[Any] = field(default_factory=Future)


@dataclass
class _CloseJob:
    poll_id: UUID
    close: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)


_STOP = object()


class BallotWriter:
    def __init__(
        self,
        save: Callable[..., Sequence[Recording[UUID]]],
        poll_changed: Callable[[UUID, int], bool],
    ) -> None:
        self.save = save
        self.poll_changed = poll_changed
        self.jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.closed_polls: set[UUID] = set()
        self.thread = threading.Thread(target=self._run, name="ballot-writer", daemon=True)
        self.thread.start()

    def submit(self, aggregate: Aggregate, poll_id: UUID, poll_version: int) -> Future[Saved]:
        job = _SaveJob(aggregate, list(aggregate.collect_events()), poll_id, poll_version)
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
            recordings = self.save(*(e for j in accepted for e in j.events))
        except IntegrityError:
            for job in accepted:
                self._save_alone(job)
        except BaseException as error:  # noqa: BLE001  # handed to every caller of the batch
            log.warning("a batch of %d ballots was not saved: %s", len(accepted), error)
            for job in accepted:
                job.future.set_exception(error)
        else:
            self._settle(accepted, recordings)

    def _save_alone(self, job: _SaveJob) -> None:
        try:
            recordings = self.save(*job.events)
        except BaseException as error:  # noqa: BLE001  # handed to the caller
            job.future.set_exception(error)
        else:
            self._settle([job], recordings)

    def _settle(self, jobs: list[_SaveJob], recordings: Sequence[Recording[UUID]]) -> None:
        """After the commit: one look per poll (and version checked against) at the event
        store for a newer poll event."""
        ids: dict[UUID, int] = {}
        for recording in recordings:
            ballot_id = recording.domain_event.originator_id
            ids[ballot_id] = max(ids.get(ballot_id, 0), recording.notification.id)
        changed: dict[tuple[UUID, int], bool] = {}
        for job in jobs:
            key = (job.poll_id, job.poll_version)
            try:
                if key not in changed:
                    changed[key] = self.poll_changed(*key)
            except BaseException as error:  # noqa: BLE001  # handed to the caller
                job.future.set_exception(error)
                continue
            job.future.set_result(Saved(job.aggregate, ids.get(job.aggregate.id, 0), changed[key]))
