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
A poll that states its electorate gives each new voter's ballot the next seat in the ballot's
own transaction (`voting.seats`); a ballot that finds every seat taken is refused unsaved, and
one whose seat another replica took meanwhile takes the next.

The writer is shared by every caller of every city, so no caller can stop it. A job is claimed
when its batch starts: one whose caller went away before (a cancelled or timed-out call) is
dropped unsaved; one claimed is committed or rolled back whatever its caller does meanwhile
(the caller's retry then finds the ballot: see `VotingApplication.recorded_ballot`). Anything
one job or batch raises is handed to its callers, logged with their trace ids and counted in
`lmp_worker_failures_total{worker="ballot-writer"}`; the writer goes on with the next batch.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import grpc
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, PersistenceError, Recording
from lmp_kit.errors import DomainError, FailedPreconditionError
from lmp_kit.logs import current_traceparent, trace_id_of
from lmp_kit.metrics import WORKER_FAILURES, WORKER_UP

from voting.seats import ElectorateReachedError, Seats

log = logging.getLogger(__name__)

WORKER = "ballot-writer"
MAX_BATCH = 500
LOGGED_TRACE_IDS = 20
# What a job may end with that is an answer to its caller, not a fault of the writer.
ANSWERS = (DomainError, IntegrityError)


class WriterStoppedError(DomainError):
    status = grpc.StatusCode.UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("the ballot writer has stopped (the service is shutting down); try again")


@dataclass
class _Job:
    traceparent: str = field(default_factory=current_traceparent.get, kw_only=True)
    context: contextvars.Context = field(default_factory=contextvars.copy_context, kw_only=True)
    future: Future[Any] = field(default_factory=Future, kw_only=True)

    def claim(self) -> bool:
        """Whether the caller still waits; from here on it can no longer cancel the job."""
        return self.future.set_running_or_notify_cancel()

    # A job is answered once; a fault after its answer (or a caller that cancelled it) keeps
    # the first outcome instead of raising in the writer.
    def answer(self, result: object) -> None:
        with contextlib.suppress(InvalidStateError):
            self.future.set_result(result)

    def refuse(self, error: BaseException) -> None:
        with contextlib.suppress(InvalidStateError):
            self.future.set_exception(error)


@dataclass(frozen=True)
class Saved:
    """A committed ballot, its notification id, and whether its poll changed (began closing)
    between the ballot's check and its commit."""

    ballot: Any
    notification_id: int
    poll_changed: bool


@dataclass
class _SaveJob(_Job):
    aggregate: Aggregate
    events: list[Any]
    poll_id: UUID
    poll_version: int
    electorate: int = 0


@dataclass(frozen=True)
class _Seated:
    """A job with the events its commit writes, and the seat they take (0 for none)."""

    job: _SaveJob
    events: list[Any]
    seat: int = 0


@dataclass
class _CloseJob(_Job):
    poll_id: UUID
    close: Callable[[], Any]


_STOP = object()


def _is_first_ballot(job: _SaveJob) -> bool:
    """Whether the job creates the voter's ballot (a re-vote adds to one that has a seat)."""
    return job.aggregate.version == len(job.events)


class BallotWriter:
    def __init__(
        self,
        save: Callable[..., Sequence[Recording[UUID]]],
        poll_changed: Callable[[UUID, int], bool],
        seats: Seats | None = None,
    ) -> None:
        self.save = save
        self.poll_changed = poll_changed
        self.seats = seats
        # Seats taken per poll, as far as this writer knows: a lower bound (other replicas).
        self.seats_taken: dict[UUID, int] = {}
        self.jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.closed_polls: set[UUID] = set()
        self._accepting = threading.Lock()
        self._stopped = False
        self.thread = threading.Thread(target=self._run, name=WORKER, daemon=True)
        self.thread.start()

    def is_alive(self) -> bool:
        return self.thread.is_alive() and not self._stopped

    def submit(
        self, aggregate: Aggregate, poll_id: UUID, poll_version: int, electorate: int = 0
    ) -> Future[Saved]:
        job = _SaveJob(
            aggregate=aggregate,
            events=list(aggregate.collect_events()),
            poll_id=poll_id,
            poll_version=poll_version,
            electorate=electorate,
        )
        return self._queue(job)

    def close_poll(self, poll_id: UUID, close: Callable[[], Any]) -> Future[Any]:
        return self._queue(_CloseJob(poll_id=poll_id, close=close))

    def stop(self) -> None:
        with self._accepting:
            if not self._stopped:
                self._stopped = True
                self.jobs.put(_STOP)
        self.thread.join(timeout=10)

    def _queue(self, job: _Job) -> Future[Any]:
        with self._accepting:
            if self._stopped:
                job.refuse(WriterStoppedError())
            else:
                self.jobs.put(job)
        return job.future

    def _run(self) -> None:
        WORKER_UP.labels(worker=WORKER).set(1)
        try:
            while self._serve(self._next_batch()):
                pass
        finally:
            with self._accepting:
                self._stopped = True
            WORKER_UP.labels(worker=WORKER).set(0)
            self._refuse_queued()

    def _next_batch(self) -> list[object]:
        batch = [self.jobs.get()]
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self.jobs.get_nowait())
            except queue.Empty:
                break
        return batch

    def _serve(self, batch: list[object]) -> bool:
        """Save and close what the batch holds, in order; False once it asks the writer to stop."""
        jobs = [job for job in batch if isinstance(job, _Job)]
        try:
            pending: list[_SaveJob] = []
            for job in jobs:
                if isinstance(job, _SaveJob):
                    pending.append(job)
                    continue
                self._save(pending)
                pending = []
                if isinstance(job, _CloseJob):
                    self._close(job)
            self._save(pending)
        except BaseException as error:  # noqa: BLE001  # no batch may stop the writer
            unanswered = [job for job in jobs if not job.future.done()]
            self._record_failure(unanswered or jobs, error)
            for job in unanswered:
                job.refuse(error)
        return not any(job is _STOP for job in batch)

    def _refuse_queued(self) -> None:
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                return
            if isinstance(job, _Job):
                job.refuse(WriterStoppedError())

    def _close(self, job: _CloseJob) -> None:
        if not job.claim():
            return
        try:
            closed = job.context.run(job.close)
        except BaseException as error:  # noqa: BLE001  # handed to the caller
            self._fail([job], error)
        else:
            self.closed_polls.add(job.poll_id)
            job.answer(closed)

    def _save(self, jobs: list[_SaveJob]) -> None:
        accepted = []
        for job in jobs:
            if not job.claim():
                continue
            if job.poll_id in self.closed_polls:
                msg = f"poll {job.poll_id} is closed: ballots are accepted only while it is open"
                job.refuse(FailedPreconditionError(msg))
            else:
                accepted.append(job)
        seated = self._seated(accepted)
        if not seated:
            return
        jobs = [s.job for s in seated]
        try:
            recordings = self.save(*(e for s in seated for e in s.events))
        except IntegrityError:
            self._save_each(jobs)
        except PersistenceError as error:
            # The store itself failed (unreachable, locked, full): saving alone would not help.
            self._fail(jobs, error)
        except BaseException:  # noqa: BLE001  # one poisoned ballot: save each, only it fails
            self._save_each(jobs)
        else:
            self._took(seated)
            self._settle(jobs, recordings)

    def _save_each(self, jobs: list[_SaveJob]) -> None:
        failed: dict[type[BaseException], tuple[BaseException, list[_SaveJob]]] = {}
        for job in jobs:
            while seated := self._seated([job]):
                try:
                    recordings = self.save(*seated[0].events)
                except IntegrityError as error:
                    if self._seat_lost(seated[0]):
                        continue  # another replica took the seat: the next one
                    failed.setdefault(type(error), (error, []))[1].append(job)
                except BaseException as error:  # noqa: BLE001  # handed to the caller
                    failed.setdefault(type(error), (error, []))[1].append(job)
                else:
                    self._took(seated)
                    self._settle([job], recordings)
                break
        for first, group in failed.values():  # one log line per kind of fault, not per ballot
            self._fail(group, first)

    def _seated(self, jobs: list[_SaveJob]) -> list[_Seated]:
        """The jobs with what their commit writes: a new voter's ballot of a poll with an
        electorate takes the next seat; one that finds every seat taken is refused here."""
        next_seat: dict[UUID, int] = {}
        seated: list[_Seated] = []
        for job in jobs:
            if self.seats is None or not job.electorate or not _is_first_ballot(job):
                seated.append(_Seated(job, job.events))
                continue
            number = next_seat.get(job.poll_id) or self._seats_taken(job) + 1
            if number > job.electorate:
                job.refuse(ElectorateReachedError(job.poll_id, job.electorate))
                continue
            next_seat[job.poll_id] = number + 1
            city_id = str(getattr(job.aggregate, "city_id", ""))
            seat = self.seats.seat(city_id, job.poll_id, number, job.aggregate.id)
            seated.append(_Seated(job, [*job.events, *seat], number))
        return seated

    def _seats_taken(self, job: _SaveJob, *, fresh: bool = False) -> int:
        if self.seats is None:
            return 0
        if fresh or job.poll_id not in self.seats_taken:
            city_id = str(getattr(job.aggregate, "city_id", ""))
            taken = self.seats.taken(city_id, job.poll_id, job.electorate)
            self.seats_taken[job.poll_id] = max(taken, self.seats_taken.get(job.poll_id, 0))
        return self.seats_taken[job.poll_id]

    def _seat_lost(self, seated: _Seated) -> bool:
        """Whether a refused commit's seat is taken now (by another replica), rather than the
        ballot being a voter's second."""
        return bool(seated.seat) and self._seats_taken(seated.job, fresh=True) >= seated.seat

    def _took(self, seated: list[_Seated]) -> None:
        for s in seated:
            if s.seat:
                taken = self.seats_taken.get(s.job.poll_id, 0)
                self.seats_taken[s.job.poll_id] = max(taken, s.seat)

    def _settle(self, jobs: list[_SaveJob], recordings: Sequence[Recording[UUID]]) -> None:
        """After the commit: one look per poll (and version checked against) at the event
        store for a newer poll event."""
        ids: dict[UUID, int] = {}
        for recording in recordings:
            ballot_id = recording.domain_event.originator_id
            ids[ballot_id] = max(ids.get(ballot_id, 0), recording.notification.id)
        changed: dict[tuple[UUID, int], bool | BaseException] = {}
        unsure: dict[tuple[UUID, int], list[_SaveJob]] = {}
        for job in jobs:
            key = (job.poll_id, job.poll_version)
            if key not in changed:
                try:
                    changed[key] = self.poll_changed(*key)
                except BaseException as error:  # noqa: BLE001  # handed to the callers
                    changed[key] = error
            outcome = changed[key]
            if isinstance(outcome, BaseException):
                unsure.setdefault(key, []).append(job)
            else:
                job.answer(Saved(job.aggregate, ids.get(job.aggregate.id, 0), outcome))
        for key, group in unsure.items():
            fault = changed[key]
            if isinstance(fault, BaseException):
                self._fail(group, fault)

    def _fail(self, jobs: Sequence[_Job], error: BaseException) -> None:
        if not isinstance(error, ANSWERS):
            self._record_failure(jobs, error)
        for job in jobs:
            job.refuse(error)

    @staticmethod
    def _record_failure(jobs: Sequence[_Job], error: BaseException) -> None:
        WORKER_FAILURES.labels(worker=WORKER).inc(max(len(jobs), 1))
        trace_ids = [t for job in jobs if (t := trace_id_of(job.traceparent))]
        message = "%d job(s) of the ballot writer failed (%s: %s); it goes on with the next"
        arguments = (len(jobs), type(error).__name__, error)
        extra = {"jobs": len(jobs), "trace_ids": trace_ids[:LOGGED_TRACE_IDS]}
        # In the first job's context, so the line carries its trace id (and city, if known).
        first = jobs[0].context if jobs else contextvars.copy_context()
        first.run(log.error, message, *arguments, exc_info=error, extra=extra)
