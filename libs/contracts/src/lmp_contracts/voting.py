"""The events the voting service publishes (topic `lmp.voting.events`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from lmp_contracts.base import EventContract, Instant, Part

# ReadEvents shows ballots' receipts and nonces only to service tokens (lmp_kit.eventlog).
HIDDEN = "; absent for readers without a service token"


class Option(Part):
    option_id: str = Field(description="the option's id in its poll (`o1`, `o2`, ...)")
    ref_kind: str = Field(description="`practice` / `problem` / `choice`")
    ref_id: str = Field(description="id of the practice or problem (empty for a choice)")
    label: str = Field(description="what the voter sees")


class Result(Part):
    option_id: str = Field(description="the option")
    ref_kind: str = Field(description="`practice` / `problem` / `choice`")
    ref_id: str = Field(description="id of the practice or problem (empty for a choice)")
    rank: int = Field(description="its rank, 1 the first")
    score: str = Field(description="decimal score by the poll's counting method")
    votes: int = Field(description="ballots that chose it")
    tied: bool = Field(default=False, description="it shares its rank (decided by lot)")


class PollCreated(EventContract):
    event_type: ClassVar[str] = "Poll.Created"
    request_id: str = Field(default="", description="the creating request's key (safe retries)")
    kind: str = Field(description="`practice_rating` / `city_problem` / `practice_evaluation`")
    title: str = Field(description="the poll's title")
    description: str = Field(description="what it asks")
    method: str = Field(description="the counting method")
    options: list[Option] = Field(description="what can be chosen")
    eligible_roles: list[str] = Field(description="roles that may vote")
    quorum: int = Field(description="ballots needed for the result to count")
    electorate: int = Field(description="voters the turnout is measured against")
    revote_allowed: bool = Field(description="a voter may change a ballot while it is open")
    closes_at: Instant | None = Field(description="when it closes by itself, or null")
    subject_practice_id: str = Field(description="the practice a practice_evaluation is about")


class PollOpened(EventContract):
    event_type: ClassVar[str] = "Poll.Opened"
    opens_at: Instant = Field(description="from when ballots are accepted")


class PollClosing(EventContract):
    event_type: ClassVar[str] = "Poll.Closing"
    closing_at: Instant = Field(
        description="the fence: from here no ballot is accepted, and the count reads after it"
    )


class PollClosed(EventContract):
    event_type: ClassVar[str] = "Poll.Closed"
    kind: str = Field(description="the poll's kind")
    closed_at: Instant = Field(description="when it closed")
    results: list[Result] = Field(description="one per option, in rank order")
    ballots_counted: int = Field(description="ballots counted (the latest of each voter)")
    distinct_voters: int = Field(description="voters who cast a ballot")
    turnout: str = Field(description="decimal share of the electorate that voted")
    digest: str = Field(description="Merkle root of the counted receipts")
    quorum_met: bool = Field(
        default=True, description="enough ballots for the result to count (absent: it counts)"
    )
    counted_up_to: int = Field(
        default=0,
        description="the last notification id the count read; 0 on polls closed before the fence",
    )


class BallotCast(EventContract):
    event_type: ClassVar[str] = "Ballot.Cast"
    poll_id: str = Field(description="the poll")
    pseudonym: str = Field(description="HMAC of the voter, never the raw id")
    month: str = Field(description="the month cast in, YYYY-MM")
    choices: dict[str, int] = Field(description="value per option id, by the counting method")
    nonce: str = Field(default="", description=f"random salt of the receipt{HIDDEN}")
    receipt: str = Field(
        default="", description=f"the voter's receipt (a leaf of the Merkle tree){HIDDEN}"
    )


class BallotRecast(EventContract):
    event_type: ClassVar[str] = "Ballot.Recast"
    poll_id: str = Field(description="the poll")
    pseudonym: str = Field(description="HMAC of the voter, never the raw id")
    month: str = Field(description="the month recast in, YYYY-MM")
    choices: dict[str, int] = Field(description="the new value per option id")
    previous: dict[str, int] = Field(description="the replaced value per option id")
    nonce: str = Field(default="", description=f"random salt of the new receipt{HIDDEN}")
    receipt: str = Field(default="", description=f"the voter's new receipt{HIDDEN}")


CONTRACTS: tuple[type[EventContract], ...] = (
    PollCreated,
    PollOpened,
    PollClosing,
    PollClosed,
    BallotCast,
    BallotRecast,
)
