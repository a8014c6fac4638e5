"""The events the expertise service publishes (topic `lmp.expertise.events`).

Council events (membership, chair, quorum, weights) belong to the whole federation: their
envelope's `city_id` is `*`.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from lmp_contracts.base import EventContract, Part

# Council (city `*`)


class CouncilFormed(EventContract):
    event_type: ClassVar[str] = "Council.Formed"
    quorum: int = Field(description="members needed for a session to decide")
    weights: dict[str, int] = Field(description="weight of each review criterion")


class CouncilMemberAdmitted(EventContract):
    event_type: ClassVar[str] = "Council.MemberAdmitted"
    person_id: str = Field(description="the new member (subject)")
    name: str = Field(description="display name")
    cities: list[str] = Field(description="the cities whose practices the member reviews")


class CouncilMemberCitiesChanged(EventContract):
    event_type: ClassVar[str] = "Council.MemberCitiesChanged"
    person_id: str = Field(description="the member")
    cities: list[str] = Field(description="the member's cities now")


class CouncilMemberRemoved(EventContract):
    event_type: ClassVar[str] = "Council.MemberRemoved"
    person_id: str = Field(description="the former member")
    reason: str = Field(description="why")


class CouncilChairAppointed(EventContract):
    event_type: ClassVar[str] = "Council.ChairAppointed"
    person_id: str = Field(description="the chair")


class CouncilQuorumSet(EventContract):
    event_type: ClassVar[str] = "Council.QuorumSet"
    quorum: int = Field(description="members needed for a session to decide")


class CouncilCriterionWeightsSet(EventContract):
    event_type: ClassVar[str] = "Council.CriterionWeightsSet"
    weights: dict[str, int] = Field(description="weight of each review criterion")


# Approved lists


class ListEntry(Part):
    practice_id: str = Field(description="the practice on the list")
    review_id: str = Field(description="the review that put it there")
    priority_rank: int | None = Field(description="its priority (priority list), else null")


class ApprovedListStarted(EventContract):
    event_type: ClassVar[str] = "ApprovedList.Started"
    kind: str = Field(description="`for_vote` / `for_passport` / `priority`")


class ApprovedListEntered(EventContract):
    event_type: ClassVar[str] = "ApprovedList.Entered"
    practice_id: str = Field(description="the practice entered")
    review_id: str = Field(description="the review that approved it")
    priority_rank: int | None = Field(description="its priority (priority list), else null")


class ApprovedListClosed(EventContract):
    event_type: ClassVar[str] = "ApprovedList.Closed"
    entries: list[ListEntry] = Field(description="the list as closed")


# Reviews


class ReviewOpened(EventContract):
    event_type: ClassVar[str] = "Review.Opened"
    practice_id: str = Field(description="the practice reviewed")
    practice_kind: str = Field(description="its kind: `own` / `external` / `initiative`")
    practice_title: str = Field(description="its title")
    round: str = Field(description="`primary` / `secondary`")
    weights: dict[str, int] = Field(description="the criterion weights the review is scored by")
    interested: list[str] = Field(description="the practice's people, who may not score it")


class ReviewExpertRecused(EventContract):
    event_type: ClassVar[str] = "Review.ExpertRecused"
    person_id: str = Field(description="the expert who stands aside")
    reason: str = Field(description="why")


class ReviewScored(EventContract):
    event_type: ClassVar[str] = "Review.Scored"
    person_id: str = Field(description="the expert")
    scores: dict[str, int] = Field(description="the expert's score per criterion")


class ReviewAssessed(EventContract):
    event_type: ClassVar[str] = "Review.Assessed"
    person_id: str = Field(description="the working-group member who recorded it (subject)")
    scores: dict[str, int] = Field(description="the working group's score per criterion, 1 to 5")
    rationale: str = Field(description="the working group's reasons")
    revision: int = Field(description="1 for the first assessment, one more for each amendment")


class ReviewConcluded(EventContract):
    event_type: ClassVar[str] = "Review.Concluded"
    practice_id: str = Field(description="the practice reviewed")
    round: str = Field(description="`primary` / `secondary`")
    verdict: str = Field(
        description=(
            "`approved_for_vote` / `approved_for_passport` / `needs_revision` / `rejected` / "
            "`prioritized`"
        )
    )
    rationale: str = Field(description="the council's reasons")
    priority_rank: int | None = Field(
        default=None, description="the priority of a `prioritized` verdict, else null"
    )
    aggregate_score: str | None = Field(default=None, description="decimal weighted score, or null")
    session_id: str = Field(description="the council session that concluded it")
    expected_results: str = Field(description="the plan's expected results")
    deadlines: str = Field(description="the plan's deadlines")
    resource_sources: str = Field(description="the plan's resource sources")
    regulation_proposals: str = Field(description="the plan's regulation proposals")


# Council sessions


class CouncilSessionScheduled(EventContract):
    event_type: ClassVar[str] = "CouncilSession.Scheduled"
    scheduled_on: date = Field(description="the day of the session")
    agenda: list[str] = Field(description="ids of the practices on the agenda")


class CouncilSessionHeld(EventContract):
    event_type: ClassVar[str] = "CouncilSession.Held"
    held_on: date = Field(description="the day it was held")
    agenda: list[str] = Field(description="ids of the practices on the agenda")
    attendees: list[str] = Field(description="ids of the members present")
    quorum_met: bool = Field(description="enough members were present to decide")
    quorum_required: int = Field(description="members needed")
    minutes: str = Field(description="the minutes")


CONTRACTS: tuple[type[EventContract], ...] = (
    CouncilFormed,
    CouncilMemberAdmitted,
    CouncilMemberCitiesChanged,
    CouncilMemberRemoved,
    CouncilChairAppointed,
    CouncilQuorumSet,
    CouncilCriterionWeightsSet,
    ApprovedListStarted,
    ApprovedListEntered,
    ApprovedListClosed,
    ReviewOpened,
    ReviewExpertRecused,
    ReviewScored,
    ReviewAssessed,
    ReviewConcluded,
    CouncilSessionScheduled,
    CouncilSessionHeld,
)
