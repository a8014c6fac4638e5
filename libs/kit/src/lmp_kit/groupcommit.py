"""Group commit, the one engine for every service's writes: saves that wait at the same moment
share one transaction (one disk flush) instead of queueing for a transaction each (+37 %
commands/s in the slice bench). `LMP_GROUP_COMMIT=false` turns it off for commands.

Commands racing for one aggregate must not make each other lose: a save waiting in the queue
has not reached the store yet, so a command that loads the same aggregate meanwhile decides on
a state about to be stale and loses for certain, round after round (eight edits of one practice
once exhausted their five attempts so). Hence, in one process, commands on one aggregate take
turns: inside a command (`command_turns`, which `lmp_kit.commands` opens around every attempt)
loading an aggregate claims it until the command has ended, and a load outside a command waits
for the aggregate's queued saves (`before_load`, called by the application's repository). A
claim that cannot be had within `TURN_WAIT_S` (two commands claiming two aggregates in opposite
orders) is not taken: the command goes on optimistically, as it would without turns. Replicas
in other processes still race, and the loser runs again (`lmp_kit.commands`). A batch records
only the first job of each aggregate together with the others, the rest alone after it, so
that one stale command never fails a whole batch.

A caller hands the committer a job (the events it collected) and waits on the job's future;
the committer's thread takes everything waiting (up to `max_batch`), records it in one
transaction of the event store, and answers each job with its own recordings. When the batch
is refused — a concurrency conflict (`IntegrityError`: two jobs raced for an aggregate's next
version, or a request key taken twice) or any other fault — each job of it is recorded alone,
so only the jobs that conflict or fail get their error (`lmp_kit.commands.run_command` then
runs a conflicting command again on the new state). A store that is itself away
(`PersistenceError` other than a conflict) fails the whole batch at once: alone would not help.

Nothing is lost or half-written: a job's events are recorded in exactly one transaction, the
batch's or its own, and its caller is answered only after that transaction committed or failed.
A job is claimed when its batch starts: one whose caller went away before (an asyncio caller
cancelled while it waited on `asyncio.wrap_future`) is dropped unrecorded; a claimed one is
recorded or refused whatever its caller does meanwhile. A `Barrier` job runs alone, in queue
order, between the jobs queued before and after it (voting closes a poll so). Nothing one job
or batch raises stops the committer: it is handed to the callers, and a fault that is no answer
to them (`CommitPolicy.answers`) is logged, one line per batch and kind of fault with the
callers' trace ids, and counted in `lmp_worker_failures_total{worker=<name>}`.

Its owner adds rules through a `CommitPolicy`: commands use the default (record what they
collected, answer the recordings); voting's ballot writer (voting/writer.py) adds the closed
poll's refusal and the electorate's seats before recording, and the fence's look at the polls
after it, on a committer of its own.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, InvalidStateError
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar, cast
from uuid import UUID

from eventsourcing.persistence import IntegrityError, PersistenceError, Recording
from prometheus_client import Histogram

from lmp_kit.logs import current_traceparent, trace_id_of
from lmp_kit.metrics import GROUP_COMMIT_BATCH, WORKER_FAILURES, WORKER_UP

log = logging.getLogger(__name__)

WORKER = "group-commit"
MAX_BATCH = 200
LOGGED_TRACE_IDS = 20

Record = Callable[..., Sequence[Recording[UUID]]]


class CommitterStoppedError(PersistenceError):
    """The committer has stopped (the service is shutting down): nothing was recorded."""


def _committer_stopped() -> BaseException:
    return CommitterStoppedError(
        "the event store's committer has stopped (shutting down): send again"
    )


TURN_WAIT_S = 0.5
_turns = threading.local()


@contextmanager
def command_turns() -> Iterator[None]:
    """Within it, this thread runs one command: each aggregate it loads is its own until the
    end (nested: the outermost decides)."""
    if getattr(_turns, "held", None) is not None:
        yield
        return
    held: list[tuple[GroupCommitter[Any], UUID]] = []
    _turns.held = held
    try:
        yield
    finally:
        _turns.held = None
        for committer, aggregate_id in held:
            committer.release(aggregate_id)


@dataclass(eq=False, kw_only=True)
class Job:
    """Events to record, answered through `future` (usable from asyncio: `wrap_future`)."""

    events: list[Any] = field(default_factory=list)
    future: Future[Any] = field(default_factory=Future)
    traceparent: str = field(default_factory=current_traceparent.get)
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    settled: bool = False

    @property
    def aggregate_ids(self) -> set[UUID]:
        return {event.originator_id for event in self.events}

    def claim(self) -> bool:
        """Whether the caller still waits; from here on it can no longer cancel the job."""
        return self.future.set_running_or_notify_cancel()

    # A job is answered once; a fault after its answer (or a caller that cancelled it) keeps
    # the first outcome instead of raising in the committer.
    def answer(self, result: object) -> None:
        with contextlib.suppress(InvalidStateError):
            self.future.set_result(result)

    def refuse(self, error: BaseException) -> None:
        with contextlib.suppress(InvalidStateError):
            self.future.set_exception(error)


@dataclass(eq=False, kw_only=True)
class Barrier(Job):
    """`run` on the committer's thread, alone: after the jobs queued before it were recorded,
    before those queued after it; its result (or error) answers its caller."""

    run: Callable[[], Any]


@dataclass(frozen=True)
class Refused:
    """A policy's refusal of a job: its caller gets `error`."""

    error: BaseException


J = TypeVar("J", bound=Job)


class CommitPolicy(Generic[J]):
    """What the owner of a committer adds to recording; by default nothing."""

    # Errors that answer a job's caller; any other is a fault, logged and counted.
    answers: ClassVar[tuple[type[BaseException], ...]] = (BaseException,)

    def prepare(self, jobs: list[J]) -> list[list[Any] | Refused]:
        """Before recording, on the committer's thread: per job, the events its transaction
        records, or its refusal (nothing of it is recorded)."""
        return [job.events for job in jobs]

    def again(self, job: J, error: IntegrityError) -> bool:  # noqa: ARG002  # for policies
        """Whether a job whose transaction of its own conflicted is prepared and recorded
        again (rather than refused with the conflict)."""
        return False

    def recorded(self, saved: list[tuple[J, list[Recording[UUID]]]]) -> list[object]:
        """After a commit, on the committer's thread: per job (with the recordings of what
        `prepare` gave it), its caller's answer, or a `Refused`."""
        return [recordings for _, recordings in saved]


_STOP = object()
Failures = list[tuple[Job, BaseException]]


class GroupCommitter(Generic[J]):
    """One thread per event store that records the events of every waiting job together."""

    def __init__(  # noqa: PLR0913  # each a setting of the one engine
        self,
        record: Record,
        name: str = WORKER,
        *,
        policy: CommitPolicy[J] | None = None,
        max_batch: int = MAX_BATCH,
        stopped: Callable[[], BaseException] = _committer_stopped,
        batch_sizes: Histogram | None = GROUP_COMMIT_BATCH,
        logger: logging.Logger = log,
    ) -> None:
        self.record = record
        self.name = name
        self.policy: CommitPolicy[J] = policy or cast("CommitPolicy[J]", CommitPolicy())
        self.max_batch = max_batch
        self.stopped = stopped
        self.batch_sizes = batch_sizes
        self.log = logger
        self.jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._accepting = threading.Lock()
        self._stopped = False
        self._settled = threading.Condition()
        self._in_flight: dict[UUID, int] = {}
        self._claimed: set[UUID] = set()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def is_alive(self) -> bool:
        return self.thread.is_alive() and not self._stopped

    def in_committer(self) -> bool:
        return threading.current_thread() is self.thread

    def save(self: GroupCommitter[Job], events: list[Any]) -> list[Recording[UUID]]:
        """Record `events` (in a batch with whatever else waits) and return their recordings;
        the batch's or the command's own error is raised here."""
        recordings: list[Recording[UUID]] = self.submit(Job(events=events)).result()
        return recordings

    def submit(self, job: J | Barrier) -> Future[Any]:
        """Queue the job; its future is answered once it was recorded (or refused, at once if
        the committer has stopped)."""
        with self._accepting:
            if self._stopped:
                job.refuse(self.stopped())
                return job.future
            if job.events:
                with self._settled:
                    for aggregate_id in job.aggregate_ids:
                        self._in_flight[aggregate_id] = self._in_flight.get(aggregate_id, 0) + 1
            self.jobs.put(job)
        return job.future

    def before_load(self, aggregate_id: UUID, timeout: float = TURN_WAIT_S) -> None:
        """Inside a command: wait for the aggregate's turn and claim it. Outside: wait for its
        queued saves. After `timeout`, go on without (at worst the command loses its race and
        runs again)."""
        if self.in_committer():
            return
        held: list[tuple[GroupCommitter[Any], UUID]] | None = getattr(_turns, "held", None)
        with self._settled:
            if held is None:
                self._settled.wait_for(lambda: aggregate_id not in self._in_flight, timeout)
                return
            if (self, aggregate_id) in held:
                return
            free = self._settled.wait_for(
                lambda: aggregate_id not in self._claimed and aggregate_id not in self._in_flight,
                timeout,
            )
            if free:
                self._claimed.add(aggregate_id)
                held.append((self, aggregate_id))

    def release(self, aggregate_id: UUID) -> None:
        with self._settled:
            self._claimed.discard(aggregate_id)
            self._settled.notify_all()

    def busy(self) -> int:
        """Aggregates with a save in flight or claimed by a command (0 when all is quiet)."""
        with self._settled:
            return len(self._in_flight.keys() | self._claimed)

    def stop(self) -> None:
        with self._accepting:
            if not self._stopped:
                self._stopped = True
                self.jobs.put(_STOP)
        self.thread.join(timeout=10)

    def _run(self) -> None:
        WORKER_UP.labels(worker=self.name).set(1)
        try:
            while self._serve(self._next_batch()):
                pass
        finally:
            with self._accepting:
                self._stopped = True
            WORKER_UP.labels(worker=self.name).set(0)
            self._refuse_queued()

    def _next_batch(self) -> list[object]:
        batch = [self.jobs.get()]
        while len(batch) < self.max_batch:
            try:
                batch.append(self.jobs.get_nowait())
            except queue.Empty:
                break
        return batch

    def _serve(self, batch: list[object]) -> bool:
        """Record the batch's jobs and run its barriers, in order; False once it asks the
        committer to stop."""
        jobs = [job for job in batch if isinstance(job, Job)]
        failures: Failures = []
        try:
            pending: list[J] = []
            for job in jobs:
                if isinstance(job, Barrier):
                    self._commit(pending, failures)
                    pending = []
                    self._run_barrier(job, failures)
                else:
                    pending.append(cast("J", job))
            self._commit(pending, failures)
        except BaseException as error:  # noqa: BLE001  # no batch may stop the committer
            failed = {id(job) for job, _ in failures}  # answered by _report, with their own
            unanswered = [j for j in jobs if not j.future.done() and id(j) not in failed]
            self._log_failure(unanswered or jobs, error)
            for job in unanswered:
                self._refuse(job, error, None)
        finally:
            for job in jobs:
                self._settle(job)
            self._report(failures)
        return not any(job is _STOP for job in batch)

    def _commit(self, jobs: list[J], failures: Failures) -> None:
        claimed = []
        for job in jobs:
            if job.claim():
                claimed.append(job)
            else:  # its caller went away before: never recorded
                self._settle(job)
        if not claimed:
            return
        if self.batch_sizes is not None:
            self.batch_sizes.observe(len(claimed))
        together, after = _first_per_aggregate(claimed)
        self._commit_together(together, failures)
        for job in after:
            self._commit_alone(job, failures)

    def _commit_together(self, jobs: list[J], failures: Failures) -> None:
        if len(jobs) == 1:
            self._commit_alone(jobs[0], failures)
            return
        prepared = self._prepare(jobs, failures)
        if not prepared:
            return
        try:
            recordings = self.record(*(event for _, events in prepared for event in events))
        except IntegrityError:
            for job, _ in prepared:
                self._commit_alone(job, failures)
        except PersistenceError as error:  # the store itself: alone would fail the same
            for job, _ in prepared:
                self._refuse(job, error, failures)
        except BaseException:  # noqa: BLE001  # one poisoned job: alone, only it fails
            for job, _ in prepared:
                self._commit_alone(job, failures)
        else:
            self._recorded(prepared, recordings, failures)

    def _commit_alone(self, job: J, failures: Failures) -> None:
        while prepared := self._prepare([job], failures):
            events = prepared[0][1]
            try:
                recordings = self.record(*events)
            except IntegrityError as error:
                if self.policy.again(job, error):
                    continue
                self._refuse(job, error, failures)
            except BaseException as error:  # noqa: BLE001  # handed to the job's caller
                self._refuse(job, error, failures)
            else:
                self._recorded(prepared, recordings, failures)
            return

    def _prepare(self, jobs: list[J], failures: Failures) -> list[tuple[J, list[Any]]]:
        prepared = []
        for job, outcome in zip(jobs, self.policy.prepare(jobs), strict=True):
            if isinstance(outcome, Refused):
                self._refuse(job, outcome.error, failures)
            else:
                prepared.append((job, outcome))
        return prepared

    def _recorded(
        self,
        prepared: list[tuple[J, list[Any]]],
        recordings: Sequence[Recording[UUID]],
        failures: Failures,
    ) -> None:
        saved = []
        start = 0  # the transaction recorded the jobs' events in turn
        for job, events in prepared:
            end = start + len(events)
            saved.append((job, list(recordings[start:end])))
            start = end
        for (job, _), outcome in zip(saved, self.policy.recorded(saved), strict=True):
            if isinstance(outcome, Refused):
                self._refuse(job, outcome.error, failures)
            else:
                self._settle(job)
                job.answer(outcome)

    def _run_barrier(self, barrier: Barrier, failures: Failures) -> None:
        if not barrier.claim():
            return
        try:
            result = barrier.context.run(barrier.run)
        except BaseException as error:  # noqa: BLE001  # handed to the caller
            self._refuse(barrier, error, failures)
        else:
            barrier.answer(result)

    def _refuse(self, job: Job, error: BaseException, failures: Failures | None) -> None:
        """Answer the job with `error`; a fault (no answer to its caller) is answered at the
        batch's end, once logged: its caller, and a test, find the line written."""
        self._settle(job)
        if failures is not None and not isinstance(error, self.policy.answers):
            failures.append((job, error))
            return
        job.refuse(error)

    def _settle(self, job: Job) -> None:
        """The job has left the queue: its aggregates' turns may go on."""
        if job.settled:
            return
        job.settled = True
        if not job.events:
            return
        with self._settled:
            for aggregate_id in job.aggregate_ids:
                left = self._in_flight.pop(aggregate_id, 1) - 1
                if left > 0:
                    self._in_flight[aggregate_id] = left
            self._settled.notify_all()

    def _report(self, failures: Failures) -> None:
        """One log line per kind of fault of the batch, not one per job."""
        kinds: dict[type[BaseException], tuple[BaseException, list[Job]]] = {}
        for job, error in failures:
            kinds.setdefault(type(error), (error, []))[1].append(job)
        try:
            for first, jobs in kinds.values():
                self._log_failure(jobs, first)
        finally:
            for job, error in failures:
                job.refuse(error)

    def _log_failure(self, jobs: Sequence[Job], error: BaseException) -> None:
        WORKER_FAILURES.labels(worker=self.name).inc(max(len(jobs), 1))
        trace_ids = [t for job in jobs if (t := trace_id_of(job.traceparent))]
        message = "%d job(s) of the %s failed (%s: %s); it goes on with the next"
        arguments = (len(jobs), self.name, type(error).__name__, error)
        extra = {"jobs": len(jobs), "trace_ids": trace_ids[:LOGGED_TRACE_IDS]}
        # In the first job's context, so the line carries its trace id (and city, if known).
        first = jobs[0].context if jobs else contextvars.copy_context()
        first.run(self.log.error, message, *arguments, exc_info=error, extra=extra)

    def _refuse_queued(self) -> None:
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                return
            if isinstance(job, Job):
                self._refuse(job, self.stopped(), None)


def _first_per_aggregate(jobs: list[J]) -> tuple[list[J], list[J]]:
    """The jobs to record together (none shares an aggregate with an earlier one), and the
    rest, each to record alone after them (it loaded a state the earlier job changes)."""
    together: list[J] = []
    after: list[J] = []
    claimed: set[UUID] = set()
    for job in jobs:
        ids = job.aggregate_ids
        if claimed.isdisjoint(ids):
            together.append(job)
            claimed |= ids
        else:
            after.append(job)
    return together, after
