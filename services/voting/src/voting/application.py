from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic
from lmp_kit.consistency import wrote
from lmp_kit.domain import ServiceApplication
from lmp_kit.errors import (
    AlreadyExistsError,
    ConcurrentChangeError,
    FailedPreconditionError,
    NotFoundError,
)
from lmp_kit.idempotency import Claim, Retry
from lmp_kit.registry_client import RegisteredItem

from voting.domain import Ballot, OptionSpec, Poll, PollSpec
from voting.domain.ballots import pseudonym_of
from voting.domain.counting import check_choices, choices_of, rank, tally
from voting.domain.merkle import merkle_root
from voting.domain.polls import PollKind, RefKind
from voting.keys import PseudonymKeys
from voting.seats import ElectorateReachedError, Seats
from voting.writer import BallotWriter, Saved

APPROVED_FOR_VOTE = "approved_for_vote"
BALLOT_TOPICS = tuple(f"{get_topic(Ballot)}.{name}" for name in ("Cast", "Recast"))
SCAN_PAGE = 1000
CAST_ATTEMPTS = 3
POLL_CACHE_S = 1.0
CLOSE_WAIT_S = 10.0


class Registry(Protocol):
    """What the registry says about a problem or practice; None when it does not exist."""

    def problem(self, problem_id: str) -> RegisteredItem | None: ...

    def practice(self, practice_id: str) -> RegisteredItem | None: ...


@dataclass(frozen=True)
class Voter:
    resident_id: str
    role: str


@dataclass(frozen=True)
class Count:
    results: list[dict[str, Any]]
    ballots_counted: int
    digest: str
    receipts: list[str]
    # The last notification id the count read: a ballot with a larger id was not counted.
    counted_up_to: int = 0


class NotCountedError(FailedPreconditionError):
    """The ballot committed while another replica was counting the poll, after its fence."""

    def __init__(self, poll_id: UUID, receipt: str) -> None:
        super().__init__(
            f"poll {poll_id} was closed while this ballot was being recorded; it was not "
            f"counted (receipt {receipt} is not in the published digest)"
        )


class BallotConflictError(ConcurrentChangeError):
    def __init__(self, poll_id: UUID) -> None:
        super().__init__(f"this voter's ballots in poll {poll_id} conflict; try again")


class PollNotFoundError(NotFoundError):
    def __init__(self, poll_id: UUID) -> None:
        super().__init__(f"poll {poll_id} does not exist")


def utc_now() -> datetime:
    return datetime.now(UTC)


class VotingApplication(ServiceApplication):
    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        keys: PseudonymKeys | None = None,
        registry: Registry | None = None,
    ) -> None:
        super().__init__(env=env)
        self.keys = keys or PseudonymKeys(master=secrets.token_bytes(32))
        self.registry = registry
        self._polls: dict[UUID, tuple[Poll, float]] = {}
        # The ballots' committer is the kit's engine with the voting rules (the close fence and
        # the seats), a queue and thread of its own: it records directly, not through the
        # commands' committer.
        self.writer = BallotWriter(
            self.save_directly, self.poll_changed, Seats(self, self.request_keys.service)
        )

    def close(self) -> None:
        self.writer.stop()
        super().close()

    def poll_changed(self, poll_id: UUID, version: int) -> bool:
        """Whether the poll has an event after `version` in the event store (a close began)."""
        return bool(self.recorder.select_events(poll_id, gt=version, limit=1))

    def create_poll(
        self, spec: PollSpec, now: datetime | None = None, retry: Retry | None = None
    ) -> Poll:
        """A poll; under a request key (`retry`), the same request again returns the poll it
        created, and another request under the key is ALREADY_EXISTS naming it."""
        moment = now or utc_now()

        def create(claim: Claim) -> Poll:
            Poll.create(spec, moment)
            checked = replace(spec, options=[self._confirmed(spec, o) for o in spec.options])
            if spec.kind == PollKind.PRACTICE_EVALUATION:
                self._confirmed(spec, OptionSpec(RefKind.PRACTICE, spec.subject_practice_id, ""))
            poll = Poll.create(checked, moment)
            try:
                self.save(poll, *claim(poll.id))
            except IntegrityError:
                msg = f"poll {poll.id} (request {spec.request_id!r}) was already created"
                raise AlreadyExistsError(msg) from None
            return poll

        return self.request_keys.create_once(retry, "poll", self.get_poll, create)

    def _confirmed(self, spec: PollSpec, option: OptionSpec) -> OptionSpec:
        if option.ref_kind == RefKind.CHOICE:
            return option
        if self.registry is None:
            msg = "the registry cannot be reached to confirm the poll's options"
            raise FailedPreconditionError(msg)
        if option.ref_kind == RefKind.PROBLEM:
            item = self.registry.problem(option.ref_id)
        else:
            item = self.registry.practice(option.ref_id)
        if item is None or item.city_id != spec.city_id:
            msg = f"{option.ref_kind} {option.ref_id} is not in the registry of {spec.city_id!r}"
            raise FailedPreconditionError(msg)
        if (
            spec.kind == PollKind.PRACTICE_RATING
            and option.ref_kind == RefKind.PRACTICE
            and item.status != APPROVED_FOR_VOTE
        ):
            msg = (
                f"practice {option.ref_id} is {item.status!r}, not approved for vote "
                "by the Expert Council"
            )
            raise FailedPreconditionError(msg)
        return replace(option, label=option.label.strip() or item.title)

    def get_poll(self, poll_id: UUID) -> Poll:
        try:
            poll: Poll = self.repository.get(poll_id)
        except AggregateNotFoundError:
            raise PollNotFoundError(poll_id) from None
        if not isinstance(poll, Poll):
            raise PollNotFoundError(poll_id)
        return poll

    def open_poll(self, poll_id: UUID, now: datetime | None = None) -> Poll:
        poll = self.get_poll(poll_id)
        poll.open(now or utc_now())
        self.save(poll)
        self._polls[poll.id] = (poll, time.monotonic())
        return poll

    def close_poll(self, poll_id: UUID, now: datetime | None = None) -> Poll:
        closed: Poll = self.writer.close_poll(poll_id, lambda: self._close(poll_id, now)).result()
        # Saved on the writer's thread: the caller's consistency token is the log's head now,
        # at or after Poll.Closed.
        wrote(self.recorder.max_notification_id() or 0)
        return closed

    def _close(self, poll_id: UUID, now: datetime | None) -> Poll:
        """Closing: first the fence (`Poll.Closing`, committed), then the count, which reads
        the event store after the fence, then `Poll.Closed` with the last id it read."""
        now = now or utc_now()
        poll = self.get_poll(poll_id)
        poll.begin_closing(now)
        self.save(poll)
        count = self.recount(poll)
        poll.close(
            now,
            results=count.results,
            ballots_counted=count.ballots_counted,
            digest=count.digest,
            counted_up_to=count.counted_up_to,
        )
        self.save(poll)
        self._polls[poll.id] = (poll, time.monotonic())
        return poll

    def cast_ballot(
        self,
        poll_id: UUID,
        voter: Voter,
        choices: Mapping[str, int] | Sequence[tuple[str, int]],
        now: datetime | None = None,
    ) -> Ballot:
        """`cast_ballot_async` for a caller without an event loop (a script, a sync test)."""
        return asyncio.run(self.cast_ballot_async(poll_id, voter, choices, now))

    async def cast_ballot_async(
        self,
        poll_id: UUID,
        voter: Voter,
        choices: Mapping[str, int] | Sequence[tuple[str, int]],
        now: datetime | None = None,
    ) -> Ballot:
        for _ in range(CAST_ATTEMPTS):
            poll, ballot = self.prepare_ballot(poll_id, voter, choices, now)
            if not ballot.pending_events:
                return await asyncio.to_thread(self.confirm_recorded, poll, ballot)
            # A caller that goes away while its ballot is queued cancels the job (the writer
            # drops it); once the writer has claimed it, it commits or fails regardless.
            try:
                saved = await asyncio.wrap_future(
                    self.writer.submit(ballot, poll.id, poll.version, poll.electorate)
                )
            except IntegrityError:
                recorded = await asyncio.to_thread(self.recorded_again, poll, ballot)
                if recorded is not None:
                    return recorded
            except ElectorateReachedError:
                # every seat is taken: a voter who has one is answered as a voter who voted
                if await asyncio.to_thread(self.recorded_ballot, ballot.id) is None:
                    raise
                recorded = await asyncio.to_thread(self.recorded_again, poll, ballot)
                if recorded is not None:
                    return recorded
            else:
                wrote(saved.notification_id)  # saved on the writer's thread, for this caller
                if saved.poll_changed:
                    return await asyncio.to_thread(self.confirm_counted, saved)
                return self.confirm_counted(saved)
        raise BallotConflictError(poll_id)

    def recorded_again(self, poll: Poll, ballot: Ballot) -> Ballot | None:
        """The store refused the ballot: this voter's ballot is recorded already. With the same
        choices this is a retry whose first attempt committed (its caller may have given up):
        the recorded ballot and its receipt. Other choices are a second ballot, refused unless
        the poll allows voting again; then it was a concurrent re-vote, to try again (None)."""
        recorded = self.recorded_ballot(ballot.id)
        if recorded is not None and recorded.choices == ballot.choices:
            return self.confirm_recorded(poll, recorded)
        self.check_revote(poll)
        return None

    def recorded_ballot(self, ballot_id: UUID) -> Ballot | None:
        try:
            recorded: object = self.repository.get(ballot_id)
        except AggregateNotFoundError:
            return None
        return recorded if isinstance(recorded, Ballot) else None

    def confirm_recorded(self, poll: Poll, ballot: Ballot) -> Ballot:
        """A ballot recorded before this call is counted by any later close if its poll has
        not begun closing since this call checked it."""
        if not self.poll_changed(poll.id, poll.version):
            return ballot
        msg = (
            f"poll {poll.id} is being closed; this voter's ballot was recorded earlier: check "
            f"receipt {ballot.receipt} with VerifyReceipt once the poll is closed"
        )
        raise FailedPreconditionError(msg)

    def confirm_counted(self, saved: Saved) -> Ballot:
        """A ballot whose poll did not change between its check and its commit is counted by
        any later close. One whose poll began closing meanwhile (another replica) counts only
        if the count read it: wait for `Poll.Closed` and compare the ids."""
        ballot = saved.ballot
        if not isinstance(ballot, Ballot):
            msg = f"the writer saved {type(ballot).__name__}, not a ballot"
            raise TypeError(msg)
        if not saved.poll_changed:
            return ballot
        deadline = time.monotonic() + CLOSE_WAIT_S
        poll = self.get_poll(ballot.poll_id)
        while poll.closing and poll.closed_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
            poll = self.get_poll(ballot.poll_id)
        if not poll.closing:
            return ballot  # not a close: nothing else changes an open poll
        self._polls[poll.id] = (poll, time.monotonic())
        if poll.closed_at is None:
            msg = (
                f"poll {poll.id} is being closed; whether this ballot counts is decided by the "
                f"count: check receipt {ballot.receipt} with VerifyReceipt once it is closed"
            )
            raise FailedPreconditionError(msg)
        if poll.counted_up_to and saved.notification_id > poll.counted_up_to:
            raise NotCountedError(poll.id, ballot.receipt)
        return ballot

    def prepare_ballot(
        self,
        poll_id: UUID,
        voter: Voter,
        choices: Mapping[str, int] | Sequence[tuple[str, int]],
        now: datetime | None = None,
    ) -> tuple[Poll, Ballot]:
        now = now or utc_now()
        poll = self.poll_for_ballots(poll_id)
        poll.check_eligible(voter.role)
        poll.check_accepts_ballots(now)
        pairs = choices.items() if isinstance(choices, Mapping) else choices
        canonical = check_choices(poll.counting_method, poll.option_ids, choices_of(pairs))
        pseudonym = pseudonym_of(self.keys.of(poll.city_id), voter.resident_id)
        return poll, self._ballot_for(poll, pseudonym, canonical, now)

    @staticmethod
    def check_revote(poll: Poll) -> None:
        if not poll.revote_allowed:
            msg = (
                f"this voter has already cast a ballot in poll {poll.id}, "
                "and the poll does not allow voting again; GetMyReceipt returns its receipt"
            )
            raise AlreadyExistsError(msg)

    def ballot_of(self, poll_id: UUID, voter: Voter) -> Ballot:
        """The ballot this voter cast in the poll (its latest version), found by the voter's
        pseudonym: a portal that lost CastBallot's answer gets the receipt again."""
        poll = self.poll_for_ballots(poll_id)
        pseudonym = pseudonym_of(self.keys.of(poll.city_id), voter.resident_id)
        ballot = self.recorded_ballot(Ballot.create_id(poll.id, pseudonym))
        if ballot is None:
            msg = f"this voter has cast no ballot in poll {poll.id}"
            raise NotFoundError(msg)
        return ballot

    def poll_for_ballots(self, poll_id: UUID) -> Poll:
        """The poll as ballots see it: cached for POLL_CACHE_S; opening and closing in this
        process refresh it at once (and the writer refuses ballots of a poll it closed)."""
        cached = self._polls.get(poll_id)
        if cached is not None and time.monotonic() - cached[1] < POLL_CACHE_S:
            return cached[0]
        poll = self.get_poll(poll_id)
        self._polls[poll_id] = (poll, time.monotonic())
        return poll

    def _ballot_for(
        self, poll: Poll, pseudonym: str, choices: dict[str, int], now: datetime
    ) -> Ballot:
        """A new ballot, or the voter's re-vote; a re-vote with the choices already recorded
        records nothing (a retry): the ballot as it is."""
        nonce = secrets.token_hex(16)
        if poll.revote_allowed:
            try:
                ballot: Ballot = self.repository.get(Ballot.create_id(poll.id, pseudonym))
            except AggregateNotFoundError:
                pass
            else:
                if ballot.choices != choices:
                    ballot.recast(choices, nonce, now)
                return ballot
        return Ballot.cast(
            city_id=poll.city_id,
            poll_id=poll.id,
            pseudonym=pseudonym,
            choices=choices,
            nonce=nonce,
            now=now,
        )

    def counted_ballots(
        self, poll_id: UUID, up_to: int | None = None
    ) -> dict[UUID, tuple[int, dict[str, int], str]]:
        """The last version of every ballot of the poll, from the event log (up to a
        notification id, when given)."""
        latest: dict[UUID, tuple[int, dict[str, int], str]] = {}
        start = 0
        while True:
            page = self.recorder.select_notifications(
                start=start,
                limit=SCAN_PAGE,
                topics=BALLOT_TOPICS,
                inclusive_of_start=False,
                stop=up_to,
            )
            for notification in page:
                ballot_event = self.mapper.to_domain_event(notification)
                state = vars(ballot_event)
                if state["poll_id"] != poll_id:
                    continue
                ballot_id = UUID(str(notification.originator_id))
                version = notification.originator_version
                if ballot_id not in latest or latest[ballot_id][0] < version:
                    latest[ballot_id] = (version, dict(state["choices"]), state["receipt"])
            if len(page) < SCAN_PAGE:
                return latest
            start = page[-1].id

    def recount(self, poll: Poll) -> Count:
        """Count the poll from the event log. A new count reads up to the log's head as it is
        after the fence (every ballot committed before `Poll.Closing` is below it); a closed
        poll is recounted as far as its count read (all of it if closed before the fence)."""
        if poll.closed_at is None:
            up_to: int | None = self.recorder.max_notification_id() or 0
        else:
            up_to = poll.counted_up_to or None
        latest = self.counted_ballots(poll.id, up_to)
        ordered = sorted(latest, key=str)
        counters = tally(poll.counting_method, poll.option_ids, (latest[b][1] for b in ordered))
        receipts = [latest[b][2] for b in ordered]
        options = {o["option_id"]: o for o in poll.options}
        results = [
            {
                "option_id": p.option_id,
                "ref_kind": options[p.option_id]["ref_kind"],
                "ref_id": options[p.option_id]["ref_id"],
                "rank": p.rank,
                "score": str(p.score),
                "votes": p.votes,
                "tied": p.tied,
            }
            for p in rank(poll.counting_method, poll.option_ids, counters, poll.lot)
        ]
        return Count(
            results=results,
            ballots_counted=len(ordered),
            digest=merkle_root(receipts),
            receipts=receipts,
            counted_up_to=up_to or 0,
        )
