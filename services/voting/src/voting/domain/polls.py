from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import event
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.errors import FailedPreconditionError, InvalidArgumentError, PermissionDeniedError

from voting.domain.counting import Method, lot_of, parse_method

TITLE_LENGTH = range(3, 201)
DESCRIPTION_MAX = 10_000
LABEL_LENGTH = range(1, 201)
MIN_OPTIONS = 2
MAX_OPTIONS = 50
VOTER_ROLES = frozenset(
    {"resident", "initiative_group", "working_group", "administration", "enterprise"}
)


class PollKind(StrEnum):
    PRACTICE_RATING = "practice_rating"
    CITY_PROBLEM = "city_problem"
    PRACTICE_EVALUATION = "practice_evaluation"


class RefKind(StrEnum):
    PRACTICE = "practice"
    PROBLEM = "problem"
    CHOICE = "choice"


REF_KIND_OF_POLL = {
    PollKind.PRACTICE_RATING: RefKind.PRACTICE,
    PollKind.CITY_PROBLEM: RefKind.PROBLEM,
    PollKind.PRACTICE_EVALUATION: RefKind.CHOICE,
}


@dataclass(frozen=True)
class OptionSpec:
    ref_kind: str
    ref_id: str
    label: str


@dataclass(frozen=True)
class PollSpec:
    city_id: str
    kind: str
    title: str
    description: str
    method: str
    options: Sequence[OptionSpec]
    eligible_roles: Sequence[str] = ("resident",)
    quorum: int = 0
    electorate: int = 0
    revote_allowed: bool = False
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    subject_practice_id: str = ""
    request_id: str = ""


class Poll(CityAggregate):
    kind: str
    title: str
    method: str
    options: list[dict[str, str]]
    eligible_roles: list[str]
    quorum: int
    electorate: int
    revote_allowed: bool
    opens_at: datetime | None
    closes_at: datetime | None
    subject_practice_id: str
    closed_at: datetime | None
    closing: bool
    counted_up_to: int
    results: list[dict[str, Any]]
    ballots_counted: int
    turnout: str
    digest: str
    quorum_met: bool

    @staticmethod
    def create_id(city_id: str, request_id: str) -> UUID:
        if not request_id:
            return uuid4()
        return uuid5(NAMESPACE_URL, f"lmp:voting:poll:{city_id}:{request_id}")

    @classmethod
    def create(cls, spec: PollSpec, now: datetime) -> Poll:
        check_city_id(spec.city_id)
        kind = check_kind(spec.kind)
        method = parse_method(spec.method)
        check_text("title", spec.title, TITLE_LENGTH)
        if len(spec.description.strip()) > DESCRIPTION_MAX:
            msg = f"description must be at most {DESCRIPTION_MAX} characters"
            raise InvalidArgumentError(msg)
        options = check_options(kind, spec.options)
        roles = check_roles(spec.eligible_roles)
        check_count("quorum", spec.quorum)
        check_count("electorate", spec.electorate)
        check_window(spec.opens_at, spec.closes_at, now)
        if kind is PollKind.PRACTICE_EVALUATION and not spec.subject_practice_id:
            msg = "a practice evaluation names the practice it evaluates (subject_practice_id)"
            raise InvalidArgumentError(msg)
        poll = cls(
            city_id=spec.city_id,
            request_id=spec.request_id,
            kind=kind.value,
            title=spec.title.strip(),
            description=spec.description.strip(),
            method=method.value,
            options=options,
            eligible_roles=roles,
            quorum=spec.quorum,
            electorate=spec.electorate,
            revote_allowed=spec.revote_allowed,
            closes_at=spec.closes_at,
            subject_practice_id=spec.subject_practice_id,
        )
        if spec.opens_at is not None:
            poll.open(spec.opens_at)
        return poll

    @event("Created")
    def __init__(  # noqa: PLR0913  # the attributes of Poll.Created, each named
        self,
        *,
        city_id: str,
        request_id: str,
        kind: str,
        title: str,
        description: str,
        method: str,
        options: list[dict[str, str]],
        eligible_roles: list[str],
        quorum: int,
        electorate: int,
        revote_allowed: bool,  # an event attribute
        closes_at: datetime | None,
        subject_practice_id: str,
    ) -> None:
        del request_id
        self.city_id = city_id
        self.kind = kind
        self.title = title
        self.description = description
        self.method = method
        self.options = options
        self.eligible_roles = eligible_roles
        self.quorum = quorum
        self.electorate = electorate
        self.revote_allowed = revote_allowed
        self.opens_at = None
        self.closes_at = closes_at
        self.subject_practice_id = subject_practice_id
        self.closed_at = None
        self.closing = False
        self.counted_up_to = 0
        self.results = []
        self.ballots_counted = 0
        self.turnout = ""
        self.digest = ""
        self.quorum_met = False

    @property
    def option_ids(self) -> list[str]:
        return [o["option_id"] for o in self.options]

    @property
    def counting_method(self) -> Method:
        return Method(self.method)

    @property
    def lot(self) -> list[str]:
        return lot_of(str(self.id), self.option_ids)

    def status(self, now: datetime) -> str:
        return poll_status(
            now,
            closed=self.closed_at is not None,
            closing=self.closing,
            opens_at=self.opens_at,
            closes_at=self.closes_at,
        )

    def check_accepts_ballots(self, now: datetime) -> None:
        status = self.status(now)
        if status == "open":
            return
        reasons = {
            "draft": "has not been opened",
            "scheduled": f"opens at {self.opens_at:%Y-%m-%dT%H:%M:%SZ}" if self.opens_at else "",
            "closing": f"closed at {self.closes_at:%Y-%m-%dT%H:%M:%SZ}"
            if self.closes_at and not self.closing
            else "is being closed",
            "closed": "is closed",
        }
        msg = f"poll {self.id} {reasons[status]}: ballots are accepted only while it is open"
        raise FailedPreconditionError(msg)

    def check_eligible(self, role: str) -> None:
        if role not in self.eligible_roles:
            msg = (
                f"a voter with role {role!r} is not eligible in this poll; "
                f"eligible: {', '.join(self.eligible_roles)}"
            )
            raise PermissionDeniedError(msg)

    def open(self, opens_at: datetime) -> None:
        if self.closed_at is not None:
            msg = f"poll {self.id} is closed and cannot be opened again"
            raise FailedPreconditionError(msg)
        if self.opens_at is not None and self.opens_at <= opens_at:
            msg = f"poll {self.id} is already open since {self.opens_at:%Y-%m-%dT%H:%M:%SZ}"
            raise FailedPreconditionError(msg)
        if self.closes_at is not None and opens_at >= self.closes_at:
            msg = f"poll {self.id} closes at {self.closes_at:%Y-%m-%dT%H:%M:%SZ}, before it opens"
            raise FailedPreconditionError(msg)
        self._open(opens_at)

    @event("Opened")
    def _open(self, opens_at: datetime) -> None:
        self.opens_at = opens_at

    def check_can_close(self, now: datetime) -> None:
        if self.closed_at is not None:
            msg = f"poll {self.id} is already closed"
            raise FailedPreconditionError(msg)
        if self.opens_at is None or now < self.opens_at:
            msg = f"poll {self.id} has not opened yet; there is nothing to close"
            raise FailedPreconditionError(msg)

    def begin_closing(self, now: datetime) -> None:
        """The fence of the count: from this event on no ballot is accepted anywhere, and the
        count, which reads the event store after it, sees every ballot committed before it
        (docs/decisions/0003-voting.md, "Closing across replicas")."""
        self.check_can_close(now)
        if not self.closing:
            self._begin_closing(closing_at=now)

    @event("Closing")
    def _begin_closing(self, closing_at: datetime) -> None:
        del closing_at
        self.closing = True

    def close(  # the parts of the count, each named
        self,
        now: datetime,
        *,
        results: list[dict[str, Any]],
        ballots_counted: int,
        digest: str,
        counted_up_to: int,
    ) -> None:
        self.check_can_close(now)
        if not self.closing:
            msg = f"poll {self.id} is counted only after its Closing event (the fence)"
            raise FailedPreconditionError(msg)
        closed_at = now if self.closes_at is None else min(now, self.closes_at)
        self._close(
            kind=self.kind,
            closed_at=closed_at,
            results=results,
            ballots_counted=ballots_counted,
            distinct_voters=ballots_counted,
            turnout=turnout_of(ballots_counted, self.electorate),
            digest=digest,
            quorum_met=ballots_counted >= self.quorum,
            counted_up_to=counted_up_to,
        )

    @event("Closed")
    def _close(  # noqa: PLR0913  # the attributes of Poll.Closed, each named
        self,
        *,
        kind: str,
        closed_at: datetime,
        results: list[dict[str, Any]],
        ballots_counted: int,
        distinct_voters: int,
        turnout: str,
        digest: str,
        quorum_met: bool,  # an event attribute
        counted_up_to: int = 0,  # absent from polls closed before the fence: all ballots
    ) -> None:
        del kind, distinct_voters
        self.counted_up_to = counted_up_to
        self.closed_at = closed_at
        self.results = results
        self.ballots_counted = ballots_counted
        self.turnout = turnout
        self.digest = digest
        self.quorum_met = quorum_met


def turnout_of(voters: int, electorate: int) -> str:
    if not electorate:
        return ""
    return f"{voters * 10_000 // electorate // 100}.{voters * 10_000 // electorate % 100:02d}"


def check_kind(kind: str) -> PollKind:
    try:
        return PollKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in PollKind)
        msg = f"kind must be one of {known}, not {kind!r}"
        raise InvalidArgumentError(msg) from None


def check_text(name: str, value: str, length: range) -> None:
    if len(value.strip()) not in length:
        msg = (
            f"{name} must be {length.start} to {length.stop - 1} characters "
            f"(got {len(value.strip())})"
        )
        raise InvalidArgumentError(msg)


def check_count(name: str, value: int) -> None:
    if value < 0:
        msg = f"{name} must be 0 (none) or a positive number, not {value}"
        raise InvalidArgumentError(msg)


def check_window(opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> None:
    if closes_at is None:
        return
    if closes_at <= now:
        msg = f"closes_at {closes_at:%Y-%m-%dT%H:%M:%SZ} is in the past"
        raise InvalidArgumentError(msg)
    if opens_at is not None and closes_at <= opens_at:
        msg = "closes_at must be after opens_at"
        raise InvalidArgumentError(msg)


def check_roles(roles: Sequence[str]) -> list[str]:
    chosen = sorted(set(roles)) or ["resident"]
    unknown = [r for r in chosen if r not in VOTER_ROLES]
    if unknown:
        msg = (
            f"role {unknown[0]!r} cannot vote; the voting roles are "
            f"{', '.join(sorted(VOTER_ROLES))}"
        )
        raise InvalidArgumentError(msg)
    return chosen


def check_options(kind: PollKind, options: Sequence[OptionSpec]) -> list[dict[str, str]]:
    if len(options) < MIN_OPTIONS:
        msg = f"a poll needs at least {MIN_OPTIONS} options (got {len(options)})"
        raise InvalidArgumentError(msg)
    if len(options) > MAX_OPTIONS:
        msg = f"a poll has at most {MAX_OPTIONS} options (got {len(options)})"
        raise InvalidArgumentError(msg)
    expected = REF_KIND_OF_POLL[kind]
    seen: set[tuple[str, str]] = set()
    checked = []
    for number, option in enumerate(options, start=1):
        if option.ref_kind != expected:
            msg = (
                f"option {number}: a {kind.value} poll's options are of kind "
                f"{expected.value!r}, not {option.ref_kind!r}"
            )
            raise InvalidArgumentError(msg)
        if expected is RefKind.CHOICE:
            check_text(f"option {number}'s label", option.label, LABEL_LENGTH)
            key = (option.ref_kind, " ".join(option.label.casefold().split()))
        else:
            check_ref_id(number, option.ref_id)
            key = (option.ref_kind, option.ref_id)
        if key in seen:
            msg = f"option {number} repeats an earlier option"
            raise InvalidArgumentError(msg)
        seen.add(key)
        checked.append(
            {
                "option_id": f"o{number}",
                "ref_kind": option.ref_kind,
                "ref_id": option.ref_id,
                "label": option.label.strip(),
            }
        )
    return checked


def check_ref_id(number: int, ref_id: str) -> None:
    try:
        UUID(ref_id)
    except ValueError:
        msg = f"option {number}: ref_id must be a registry id (UUID), not {ref_id!r}"
        raise InvalidArgumentError(msg) from None


def poll_status(
    now: datetime,
    *,
    closed: bool,
    closing: bool,
    opens_at: datetime | None,
    closes_at: datetime | None,
) -> str:
    """draft, scheduled, open, closing (past closes_at, not yet counted) or closed: one rule for
    the aggregate and for voting's read model (ListPolls)."""
    if closed:
        return "closed"
    if closing:
        return "closing"
    if opens_at is None:
        return "draft"
    if now < opens_at:
        return "scheduled"
    if closes_at is not None and now >= closes_at:
        return "closing"
    return "open"
