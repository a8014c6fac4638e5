"""Group commit for ballots: the kit's committer (`lmp_kit.groupcommit`) with the voting rules.

A commit costs a disk flush (milliseconds); ballots arriving meanwhile queue up and share the
next one. One writer thread per process also orders ballots against closing: a poll is closed
by a barrier of the same queue, so no ballot commits after its poll was counted (in this
process). Across processes (several API replicas on one event store) the fence is
`Poll.Closing`: after a batch commits, the writer asks the event store whether any poll of the
batch has an event newer than the version its ballots were checked against; if so, the
ballot's caller waits for the count and learns whether it was counted
(docs/decisions/0003-voting.md).
When a batch conflicts (the event store refuses a second ballot of the same voter), every ballot
of it is saved alone, so only the conflicting ones fail.
A poll that states its electorate gives each new voter's ballot the next seat in the ballot's
own transaction (`voting.seats`); a ballot that finds every seat taken is refused unsaved, and
one whose seat another replica took meanwhile takes the next.

The engine is the kit's, shared with every service's commands: a job is claimed when its batch
starts (one whose caller went away before — a cancelled or timed-out call — is dropped unsaved;
one claimed is committed or rolled back whatever its caller does meanwhile, and the caller's
retry then finds the ballot: see `VotingApplication.recorded_ballot`); anything one job or
batch raises is handed to its callers, logged with their trace ids and counted in
`lmp_worker_failures_total{worker="ballot-writer"}`; the writer goes on with the next batch.
What is voting's own is `BallotRules`: the closed poll's refusal and the seats before the
commit, the fence's look at the polls after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import grpc
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Recording
from lmp_kit.errors import DomainError, FailedPreconditionError
from lmp_kit.groupcommit import Barrier, CommitPolicy, GroupCommitter, Job, Record, Refused

from voting.seats import ElectorateReachedError, Seats

log = logging.getLogger(__name__)

WORKER = "ballot-writer"
MAX_BATCH = 500

PollChanged = Callable[[UUID, int], bool]


class WriterStoppedError(DomainError):
    status = grpc.StatusCode.UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("the ballot writer has stopped (the service is shutting down); try again")


@dataclass(frozen=True)
class Saved:
    """A committed ballot, its notification id, and whether its poll changed (began closing)
    between the ballot's check and its commit."""

    ballot: Any
    notification_id: int
    poll_changed: bool


@dataclass(eq=False, kw_only=True)
class BallotJob(Job):
    """A ballot's events, the poll version it was checked against, and (once the rules gave
    it one) its seat: 0 for none."""

    aggregate: Aggregate
    poll_id: UUID
    poll_version: int
    electorate: int = 0
    seat: int = 0


def _is_first_ballot(job: BallotJob) -> bool:
    """Whether the job creates the voter's ballot (a re-vote adds to one that has a seat)."""
    return job.aggregate.version == len(job.events)


class BallotRules(CommitPolicy[BallotJob]):
    """What voting adds to the kit's group commit, on the writer's thread."""

    # What a job may end with that is an answer to its caller, not a fault of the writer.
    answers = (DomainError, IntegrityError)

    def __init__(self, poll_changed: PollChanged, seats: Seats | None) -> None:
        self.poll_changed = poll_changed
        self.seats = seats
        # Seats taken per poll, as far as this writer knows: a lower bound (other replicas).
        self.seats_taken: dict[UUID, int] = {}
        self.closed_polls: set[UUID] = set()

    def prepare(self, jobs: list[BallotJob]) -> list[list[Any] | Refused]:
        """Per job, the events its commit writes: a ballot of a closed poll is refused; a new
        voter's ballot of a poll with an electorate takes the next seat, or is refused when it
        finds every seat taken."""
        next_seat: dict[UUID, int] = {}
        prepared: list[list[Any] | Refused] = []
        for job in jobs:
            job.seat = 0
            if job.poll_id in self.closed_polls:
                msg = f"poll {job.poll_id} is closed: ballots are accepted only while it is open"
                prepared.append(Refused(FailedPreconditionError(msg)))
                continue
            if self.seats is None or not job.electorate or not _is_first_ballot(job):
                prepared.append(job.events)
                continue
            number = next_seat.get(job.poll_id) or self._seats_taken(job) + 1
            if number > job.electorate:
                prepared.append(Refused(ElectorateReachedError(job.poll_id, job.electorate)))
                continue
            next_seat[job.poll_id] = number + 1
            job.seat = number
            city_id = str(getattr(job.aggregate, "city_id", ""))
            seat = self.seats.seat(city_id, job.poll_id, number, job.aggregate.id)
            prepared.append([*job.events, *seat])
        return prepared

    def again(self, job: BallotJob, error: IntegrityError) -> bool:
        """A refused commit whose seat is taken now (by another replica) takes the next seat,
        rather than the ballot being a voter's second."""
        del error  # the store's refusal does not say which row: the seats tell
        return bool(job.seat) and self._seats_taken(job, fresh=True) >= job.seat

    def recorded(self, saved: list[tuple[BallotJob, list[Recording[UUID]]]]) -> list[object]:
        """After the commit: one look per poll (and version checked against) at the event
        store for a newer poll event."""
        for job, _ in saved:
            if job.seat:
                taken = self.seats_taken.get(job.poll_id, 0)
                self.seats_taken[job.poll_id] = max(taken, job.seat)
        changed: dict[tuple[UUID, int], bool | BaseException] = {}
        outcomes: list[object] = []
        for job, recordings in saved:
            key = (job.poll_id, job.poll_version)
            if key not in changed:
                try:
                    changed[key] = self.poll_changed(*key)
                except BaseException as error:  # noqa: BLE001  # handed to the callers
                    changed[key] = error
            outcome = changed[key]
            if isinstance(outcome, BaseException):
                outcomes.append(Refused(outcome))
                continue
            ids = [
                r.notification.id
                for r in recordings
                if r.domain_event.originator_id == job.aggregate.id
            ]
            outcomes.append(Saved(job.aggregate, max(ids, default=0), outcome))
        return outcomes

    def _seats_taken(self, job: BallotJob, *, fresh: bool = False) -> int:
        if self.seats is None:
            return 0
        if fresh or job.poll_id not in self.seats_taken:
            city_id = str(getattr(job.aggregate, "city_id", ""))
            taken = self.seats.taken(city_id, job.poll_id, job.electorate)
            self.seats_taken[job.poll_id] = max(taken, self.seats_taken.get(job.poll_id, 0))
        return self.seats_taken[job.poll_id]


class BallotWriter:
    """The voting service's committer: ballots in, `Saved` out; closing as a barrier."""

    def __init__(
        self,
        save: Record,
        poll_changed: PollChanged,
        seats: Seats | None = None,
    ) -> None:
        self.rules = BallotRules(poll_changed, seats)
        self.committer: GroupCommitter[BallotJob] = GroupCommitter(
            save,
            WORKER,
            policy=self.rules,
            max_batch=MAX_BATCH,
            stopped=WriterStoppedError,
            batch_sizes=None,  # the kit's histogram is the commands'
            logger=log,
        )

    def is_alive(self) -> bool:
        return self.committer.is_alive()

    def submit(
        self, aggregate: Aggregate, poll_id: UUID, poll_version: int, electorate: int = 0
    ) -> Future[Saved]:
        job = BallotJob(
            aggregate=aggregate,
            events=list(aggregate.collect_events()),
            poll_id=poll_id,
            poll_version=poll_version,
            electorate=electorate,
        )
        return self.committer.submit(job)

    def close_poll(self, poll_id: UUID, close: Callable[[], Any]) -> Future[Any]:
        """Run `close` after every ballot queued before it and before every one after it; from
        then on this writer refuses the poll's ballots."""

        def closing() -> Any:  # noqa: ANN401  # whatever `close` returns
            closed = close()
            self.rules.closed_polls.add(poll_id)
            return closed

        return self.committer.submit(Barrier(run=closing))

    def stop(self) -> None:
        self.committer.stop()
