"""The events the registry service publishes (topic `lmp.registry.events`)."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType
from typing import Any, ClassVar

from pydantic import Field

from lmp_contracts.base import EventContract, Instant, Part, Payload, Upcaster


class Person(Part):
    person_id: str = Field(description="the person's id: the JWT `sub` of an account, or assigned")
    name: str = Field(description="display name")


class Member(Person):
    role: str = Field(
        description="`chair` / `deputy_chair` / `secretary` / `member` / `gsr_community_member`"
    )


class Photo(Part):
    uri: str = Field(description="where the photo is (http(s)://, s3:// or file://)")
    sha256: str = Field(description="hash of the photo's content, 64 hex digits")


class Cell(Part):
    function: str = Field(description="function of the municipal classifier")
    method: str = Field(description="method of the municipal classifier")
    sub_methods: list[str] = Field(description="sub-methods of the method, in classifier order")


class Milestone(Part):
    number: int = Field(description="1-based position in the plan")
    title: str = Field(description="what is done")
    owner: Person = Field(description="who answers for it")
    due_date: date = Field(description="when it is due")
    status: str = Field(description="`planned` / `in_progress` / `done` / `missed`")


class ResourceSource(Part):
    kind: str = Field(description="`own_budget`, `co_financing_programme`, `donors`, ...")
    amount: str = Field(description="decimal amount")
    currency: str = Field(description="ISO 4217 currency code")


class ReportValue(Part):
    indicator: str = Field(description="name of a result indicator of the passport")
    unit: str = Field(description="the indicator's unit")
    planned: str = Field(description="decimal value planned for the month")
    actual: str = Field(description="decimal value reached in the month")


# City


class CityRegistered(EventContract):
    event_type: ClassVar[str] = "City.Registered"
    name: str = Field(description="the city's name")
    region: str = Field(default="", description="its region")
    kind: str = Field(default="", description="`atom_city` / `zato`")
    population: int = Field(default=0, description="inhabitants")
    voter_target: int = Field(default=0, description="voters the city aims to reach in its polls")


def _working_group_approved_v1_v2(payload: Payload) -> Payload:
    return {"tasks": [], **payload}


class CityWorkingGroupApproved(EventContract):
    event_type: ClassVar[str] = "City.WorkingGroupApproved"
    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[MappingProxyType[int, Upcaster]] = MappingProxyType(
        {1: _working_group_approved_v1_v2}
    )
    members: list[Member] = Field(description="the working group")
    order_number: str = Field(description="number of the order that approves it")
    order_date: date = Field(description="date of that order")
    tasks: list[str] = Field(
        description="the group's tasks the order approves; empty in schema version 1"
    )


class CityStagePlanRecorded(EventContract):
    event_type: ClassVar[str] = "City.StagePlanRecorded"
    plan: str = Field(
        description="`expertise_preparation` / `strategic_session` / `selection`; a plan "
        "recorded again replaces the earlier one"
    )
    items: list[str] = Field(description="what is done, by whom, when")
    document: str = Field(description="the approved document (number, title or link), or empty")
    approved_on: date = Field(description="when the plan was approved")


class CityVoterTargetChanged(EventContract):
    event_type: ClassVar[str] = "City.VoterTargetChanged"
    voter_target: int = Field(description="the new voter target")
    previous: int = Field(description="the target it replaces")
    reason: str = Field(description="why it changed")
    effective_month: str = Field(
        description="YYYY-MM the change was made in and applies from (earlier months keep "
        "their target)"
    )


class CityStrategyFixed(EventContract):
    event_type: ClassVar[str] = "City.StrategyFixed"
    priority_directions: list[str] = Field(description="the strategy's priority directions")
    selection_criteria: list[str] = Field(description="criteria practices are selected by")


class CityRegionalRequirementAdded(EventContract):
    event_type: ClassVar[str] = "City.RegionalRequirementAdded"
    requirement_id: str = Field(description="id of the requirement")
    title: str = Field(description="its title")
    description: str = Field(description="its text")


class CityStageAdvanced(EventContract):
    event_type: ClassVar[str] = "City.StageAdvanced"
    stage: int = Field(description="the programme stage the city reached")


# Problem


class ProblemRegistered(EventContract):
    event_type: ClassVar[str] = "Problem.Registered"
    title: str = Field(description="the problem's title")
    description: str = Field(description="what the problem is")


class ProblemDescribed(EventContract):
    event_type: ClassVar[str] = "Problem.Described"
    description: str = Field(description="the new description")


class ProblemPrioritySet(EventContract):
    event_type: ClassVar[str] = "Problem.PrioritySet"
    priority: str = Field(description="the problem's priority")


class ProblemPracticeLinked(EventContract):
    event_type: ClassVar[str] = "Problem.PracticeLinked"
    practice_id: str = Field(description="the practice that addresses the problem")


class ProblemSolved(EventContract):
    event_type: ClassVar[str] = "Problem.Solved"
    solved_with_external_resources: bool = Field(
        description="solved with resources from outside the city budget"
    )


# Practice


class PracticeRegistered(EventContract):
    event_type: ClassVar[str] = "Practice.Registered"
    kind: str = Field(description="`own` / `external` / `initiative`")
    title: str = Field(description="the practice's title")
    summary: str = Field(default="", description="a short summary")
    authors: list[Person] = Field(default_factory=list, description="its authors")
    participants: list[Person] = Field(default_factory=list, description="its participants")
    problem_ids: list[str] = Field(default_factory=list, description="problems it addresses")
    requirement_ids: list[str] = Field(
        default_factory=list, description="regional requirements it answers"
    )
    cells: list[Cell] = Field(
        default_factory=list, description="its cells of the municipal classifier"
    )
    lifecycle_step: int = Field(default=1, description="step of the practice lifecycle, 1 to 12")
    source_practice_id: str | None = Field(
        default=None, description="the practice an external one is adopted from, or null"
    )
    source_city_id: str | None = Field(
        default=None, description="the city of the source practice, or null"
    )


class PracticeClassified(EventContract):
    event_type: ClassVar[str] = "Practice.Classified"
    cells: list[Cell] = Field(description="the practice's classifier cells, all of them")


class PracticeProblemLinked(EventContract):
    event_type: ClassVar[str] = "Practice.ProblemLinked"
    problem_id: str = Field(description="a further problem the practice addresses")


class PracticePeopleSet(EventContract):
    event_type: ClassVar[str] = "Practice.PeopleSet"
    authors: list[Person] = Field(description="the authors now")
    participants: list[Person] = Field(description="the participants now")


class PracticeLifecycleMoved(EventContract):
    event_type: ClassVar[str] = "Practice.LifecycleMoved"
    step: int = Field(description="the lifecycle step now, 1 to 12")
    name: str = Field(description="that step's name")
    reason: str = Field(description="why (needed when moving back)")


def _status_changed_v1_v2(payload: Payload) -> Payload:
    return {"review_id": "", **payload}


class PracticeStatusChanged(EventContract):
    event_type: ClassVar[str] = "Practice.StatusChanged"
    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[MappingProxyType[int, Upcaster]] = MappingProxyType(
        {1: _status_changed_v1_v2}
    )
    status: str = Field(description="the programme status now (see the status values)")
    reason: str = Field(description="why")
    review_id: str = Field(
        description=(
            "the Council review behind a verdict or `prioritized`; empty otherwise and in "
            "schema version 1"
        )
    )


def _passport_approved_v1_v2(payload: Payload) -> Payload:
    return {"review_id": "", "approved_by": "", **payload}


class PracticePassportApproved(EventContract):
    event_type: ClassVar[str] = "Practice.PassportApproved"
    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[MappingProxyType[int, Upcaster]] = MappingProxyType(
        {1: _passport_approved_v1_v2}
    )
    version: int = Field(description="the passport version approved")
    review_id: str = Field(
        description=(
            "the Council review the approval follows; empty in schema version 1 (not counted "
            "by kpi)"
        )
    )
    approved_by: str = Field(description="who approved it (subject); empty in schema version 1")


class PracticePassportSectionEdited(EventContract):
    event_type: ClassVar[str] = "Practice.PassportSectionEdited"
    section: str = Field(description="the passport section")
    content: dict[str, Any] = Field(
        description="the section's content; its shape depends on the section"
    )
    section_version: int = Field(description="the section's version now")
    passport_version: int = Field(description="the passport's version now")


class PracticeRanked(EventContract):
    event_type: ClassVar[str] = "Practice.Ranked"
    rank: int = Field(description="the practice's rank in the rating vote")
    poll_id: str = Field(description="the poll that ranked it")


class PracticePriorityRanked(EventContract):
    event_type: ClassVar[str] = "Practice.PriorityRanked"
    priority_rank: int = Field(description="the practice's rank in the council's priority list")
    review_id: str = Field(description="the review that gave it")


class PracticeReacted(EventContract):
    event_type: ClassVar[str] = "Practice.Reacted"
    reaction: str = Field(description="id of the review or poll reacted to (once each)")


class PracticeReplicated(EventContract):
    event_type: ClassVar[str] = "Practice.Replicated"
    practice_id: str = Field(
        description="the practice adopting this one (its city is the envelope's city_id)"
    )


class PracticePlanSet(EventContract):
    event_type: ClassVar[str] = "Practice.PlanSet"
    plan_version: int = Field(description="the plan's version")
    approved_by: str = Field(description="who approved the plan (subject)")
    milestones: list[Milestone] = Field(description="the plan's milestones")
    resource_sources: list[ResourceSource] = Field(description="where the resources come from")
    regulation_proposals: list[str] = Field(description="proposed changes of regulations")


class PracticeMilestoneUpdated(EventContract):
    event_type: ClassVar[str] = "Practice.MilestoneUpdated"
    number: int = Field(description="the milestone's number in the plan")
    status: str = Field(description="its status now")
    due_date: date = Field(description="its due date now")


class PracticeProgressReported(EventContract):
    event_type: ClassVar[str] = "Practice.ProgressReported"
    month: str = Field(description="the month reported on, YYYY-MM")
    indicators: list[ReportValue] = Field(description="planned and actual value per indicator")
    note: str = Field(description="a note on the month")


class PracticeDecided(EventContract):
    event_type: ClassVar[str] = "Practice.Decided"
    decision: str = Field(description="`continue` / `change_resources` / `stop`")
    reason: str = Field(description="why")
    resource_sources: list[ResourceSource] = Field(
        description="the new resource sources (only for `change_resources`)"
    )
    decided_by: str = Field(description="who decided (subject)")


class PracticePlanFixedByAct(EventContract):
    event_type: ClassVar[str] = "Practice.PlanFixedByAct"
    number: str = Field(description="the normative act's number")
    act_date: date = Field(description="the act's date")
    title: str = Field(description="the act's title")
    plan_version: int = Field(description="the plan version the act fixes")
    fixed_by: str = Field(description="who recorded it (subject)")


class PracticeRegulationChangeStatusSet(EventContract):
    event_type: ClassVar[str] = "Practice.RegulationChangeStatusSet"
    number: int = Field(description="the proposal's 1-based position in the plan")
    proposal: str = Field(description="the proposal's text")
    status: str = Field(description="`proposed` / `drafted` / `adopted` / `rejected`")
    note: str = Field(description="the act that made the change, or why it was rejected")


class PracticePlanCorrected(EventContract):
    event_type: ClassVar[str] = "Practice.PlanCorrected"
    plan_version: int = Field(description="the plan's version after the correction")
    approved_by: str = Field(description="who approved the plan (subject), unchanged")
    corrected_by: str = Field(description="who corrected it (subject)")
    reason: str = Field(description="why")
    milestones: list[Milestone] = Field(description="the plan's milestones now")
    resource_sources: list[ResourceSource] = Field(description="its resource sources now")


class PracticeResidentParticipantsSet(EventContract):
    event_type: ClassVar[str] = "Practice.ResidentParticipantsSet"
    residents: list[Person] = Field(description="the residents taking part now")
    list_version: int = Field(description="how many times the list was set")


class PracticeInvolvementProcedureSet(EventContract):
    event_type: ClassVar[str] = "Practice.InvolvementProcedureSet"
    text: str = Field(description="the procedure for involving residents")
    version: int = Field(description="the procedure's version")
    set_by: str = Field(description="who set it (subject)")


# Activity


# Who took part in an activity, by the seed's categories: the city-forming enterprise, the
# municipal administration, business, non-profit organisations, residents.
PARTICIPANT_CATEGORIES = ("enterprise", "administration", "business", "ngo", "residents")
# K5's "joint agreed action of the enterprise and the administration": both took part.
JOINT_ACTION = frozenset({"enterprise", "administration"})


def _activity_registered_v1_v2(payload: Payload) -> Payload:
    """Version 1 had only a flag `joint_action`: true becomes the two categories it meant."""
    upcast = {k: v for k, v in payload.items() if k != "joint_action"}
    upcast.setdefault(
        "participant_categories", sorted(JOINT_ACTION) if payload.get("joint_action") else []
    )
    return upcast


class ActivityRegistered(EventContract):
    event_type: ClassVar[str] = "Activity.Registered"
    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[MappingProxyType[int, Upcaster]] = MappingProxyType(
        {1: _activity_registered_v1_v2}
    )
    kind: str = Field(description="the kind of activity")
    title: str = Field(description="its title")
    held_on: date = Field(description="the day it is held")
    speakers: list[Person] = Field(default_factory=list, description="its speakers")
    participant_categories: list[str] = Field(
        description=(
            "who took part, each once, sorted: `enterprise`, `administration`, `business`, "
            "`ngo`, `residents` (schema version 1's `joint_action` true is `administration` "
            "and `enterprise`)"
        )
    )
    branding_used: bool = Field(default=False, description="the programme's branding was used")

    @property
    def joint_action(self) -> bool:
        """K5: the enterprise and the administration both took part."""
        return set(self.participant_categories) >= JOINT_ACTION


class ActivityAnnouncementPublished(EventContract):
    event_type: ClassVar[str] = "Activity.AnnouncementPublished"
    text: str = Field(description="the announcement")
    published_at: Instant = Field(description="when it was published")


class ActivityPressReleasePublished(EventContract):
    event_type: ClassVar[str] = "Activity.PressReleasePublished"
    text: str = Field(description="the press release")
    published_at: Instant = Field(description="when it was published")


class ActivityReportFiled(EventContract):
    event_type: ClassVar[str] = "Activity.ReportFiled"
    attendees: list[Person] = Field(description="who attended")
    photos: list[Photo] = Field(description="photos of the activity")


# Improvement facts and external resources


class ImprovementFactRecorded(EventContract):
    event_type: ClassVar[str] = "ImprovementFact.Recorded"
    month: str = Field(description="the month of the improvement, YYYY-MM")
    title: str = Field(description="its title")
    description: str = Field(description="what improved")
    evidence: list[str] = Field(description="links to the evidence")


class ImprovementFactRecognized(EventContract):
    event_type: ClassVar[str] = "ImprovementFact.Recognized"
    month: str = Field(description="the month it counts for, YYYY-MM")


class ImprovementFactRejected(EventContract):
    event_type: ClassVar[str] = "ImprovementFact.Rejected"
    reason: str = Field(description="why it is not recognized")


class ExternalResourceCaseRecorded(EventContract):
    event_type: ClassVar[str] = "ExternalResourceCase.Recorded"
    month: str = Field(description="the month, YYYY-MM")
    title: str = Field(description="its title")
    source_kind: str = Field(description="the kind of outside source")
    amount: str = Field(description="decimal amount attracted")
    currency: str = Field(description="ISO 4217 currency code")
    partner: str = Field(description="who provided it")
    problem_id: str | None = Field(default=None, description="the problem it helps solve, or null")


# A city's standards


class CharityEventStandardAdopted(EventContract):
    event_type: ClassVar[str] = "CharityEventStandard.Adopted"
    title: str = Field(description="the standard's title")
    text: str = Field(description="its text")
    act_number: str = Field(description="the adopting act's number")
    act_date: date = Field(description="that act's date")
    piloted_activity_ids: list[str] = Field(description="the charity events that tried it")
    standard_version: int = Field(description="1 for the first adoption, then one more each")
    adopted_by: str = Field(description="who adopted it (subject)")


class CharityEventStandardRevised(CharityEventStandardAdopted):
    event_type: ClassVar[str] = "CharityEventStandard.Revised"


CONTRACTS: tuple[type[EventContract], ...] = (
    CityRegistered,
    CityWorkingGroupApproved,
    CityStagePlanRecorded,
    CityVoterTargetChanged,
    CityStrategyFixed,
    CityRegionalRequirementAdded,
    CityStageAdvanced,
    ProblemRegistered,
    ProblemDescribed,
    ProblemPrioritySet,
    ProblemPracticeLinked,
    ProblemSolved,
    PracticeRegistered,
    PracticeClassified,
    PracticeProblemLinked,
    PracticePeopleSet,
    PracticeLifecycleMoved,
    PracticeStatusChanged,
    PracticePassportApproved,
    PracticePassportSectionEdited,
    PracticeRanked,
    PracticePriorityRanked,
    PracticeReacted,
    PracticeReplicated,
    PracticePlanSet,
    PracticeMilestoneUpdated,
    PracticeProgressReported,
    PracticeDecided,
    PracticePlanFixedByAct,
    PracticeRegulationChangeStatusSet,
    PracticePlanCorrected,
    PracticeResidentParticipantsSet,
    PracticeInvolvementProcedureSet,
    ActivityRegistered,
    ActivityAnnouncementPublished,
    ActivityPressReleasePublished,
    ActivityReportFiled,
    ImprovementFactRecorded,
    ImprovementFactRecognized,
    ImprovementFactRejected,
    ExternalResourceCaseRecorded,
    CharityEventStandardAdopted,
    CharityEventStandardRevised,
)
