"""What each programme stage must produce before the city moves on, as far as the registry can
know it (docs/decisions/0002-registry.md, "Stage gates and stage 1 records").

The city's own records (working group, plans, strategy, requirements) are on the City; what
its problems and practices reached comes from the registry's read models as `StageEvidence`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from registry.domain.cities import GSR_MEMBER, LAST_STAGE, City

STAGE_NAMES: Mapping[int, str] = {
    1: "preparation",
    2: "primary expertise",
    3: "selection and voting",
    4: "passport",
    5: "planning, secondary expertise",
    6: "implementation",
    7: "evaluation",
}
MINIMUM_OWN = 3


@dataclass(frozen=True)
class StageEvidence:
    """Counts of a city's problems and practices by what they reached."""

    problems: int = 0
    own_practices: int = 0
    initiatives: int = 0
    own_for_council: int = 0
    others_for_council: int = 0
    unclassified_for_council: int = 0
    approved_for_vote: int = 0
    own_approved_for_passport: int = 0
    ranked: int = 0
    own_passports: int = 0
    other_passports: int = 0
    prioritized: int = 0
    planned: int = 0
    reported: int = 0
    # stage 6: of the planned practices, those whose plan a normative act fixed, with their
    # resident participants listed and the procedure for involving residents set
    fixed_by_act: int = 0
    with_residents: int = 0
    with_procedure: int = 0
    charity_standard: bool = False


def _stage_1(city: City, e: StageEvidence) -> list[str]:
    return [
        message
        for lacking, message in (
            (not city.order, "the working group approved by order (ApproveWorkingGroup)"),
            (
                bool(city.order) and not any(m["role"] == GSR_MEMBER for m in city.working_group),
                f"a working group member of the GSR community (role {GSR_MEMBER!r})",
            ),
            (
                not city.working_group_tasks,
                "the working group's tasks approved by order (ApproveWorkingGroup tasks)",
            ),
            (
                not city.regional_requirements,
                "the list of regional requirements (AddRegionalRequirement)",
            ),
            (not e.problems, "the list of current city problems (RegisterProblem)"),
            (not e.initiatives, "the list of initiatives with their authors (RegisterPractice)"),
            (
                not e.own_practices,
                "the list of own realized practices with their authors (RegisterPractice)",
            ),
            (
                "expertise_preparation" not in city.stage_plans,
                "the expertise-preparation plan (RecordStagePlan expertise_preparation)",
            ),
        )
        if lacking
    ]


def _stage_2(city: City, e: StageEvidence) -> list[str]:
    return [
        message
        for lacking, message in (
            (
                "strategic_session" not in city.stage_plans,
                "the strategic session's plan (RecordStagePlan strategic_session)",
            ),
            (
                not (city.priority_directions and city.selection_criteria),
                (
                    "the priority directions and selection criteria of the strategic session "
                    "(FixStrategy)"
                ),
            ),
            (
                "selection" not in city.stage_plans,
                "the plan of the selection (RecordStagePlan selection)",
            ),
            (
                e.own_for_council < MINIMUM_OWN,
                (
                    f"at least {MINIMUM_OWN} own practices put on the Expert Council's list "
                    f"(ChangeStatus primary_review; {e.own_for_council} so far)"
                ),
            ),
            (
                not e.others_for_council,
                (
                    "external practices or initiatives put on the Expert Council's list "
                    "(ChangeStatus primary_review)"
                ),
            ),
            (
                bool(e.unclassified_for_council),
                (
                    f"the classifier assessment of every practice on the list "
                    f"({e.unclassified_for_council} without a cell: ClassifyPractice)"
                ),
            ),
        )
        if lacking
    ]


def _stage_3(_city: City, e: StageEvidence) -> list[str]:
    return [
        message
        for lacking, message in (
            (
                not e.approved_for_vote,
                (
                    "the list for the vote approved by the Expert Council (a review concluded "
                    "approved_for_vote)"
                ),
            ),
            (
                e.own_approved_for_passport < MINIMUM_OWN,
                (
                    f"at least {MINIMUM_OWN} own practices approved by the Expert Council for a "
                    f"passport ({e.own_approved_for_passport} so far)"
                ),
            ),
            (not e.ranked, "the ranked list of the rating vote (a practice_rating poll closed)"),
        )
        if lacking
    ]


def _stage_4(_city: City, e: StageEvidence) -> list[str]:
    return [
        message
        for lacking, message in (
            (
                e.own_passports < MINIMUM_OWN,
                (
                    f"approved passports of at least {MINIMUM_OWN} own practices "
                    f"({e.own_passports} so far: ApprovePassport)"
                ),
            ),
            (
                not e.other_passports,
                (
                    "an approved passport of an external practice or initiative to implement "
                    "(ApprovePassport)"
                ),
            ),
        )
        if lacking
    ]


def _stage_5(_city: City, e: StageEvidence) -> list[str]:
    return [
        message
        for lacking, message in (
            (
                not e.prioritized,
                (
                    "the Expert Council's priorities (a secondary review concluded with a "
                    "priority rank)"
                ),
            ),
            (
                not e.planned,
                (
                    "an implementation plan approved by the head of the administration "
                    "(SetImplementationPlan)"
                ),
            ),
        )
        if lacking
    ]


def _stage_6(_city: City, e: StageEvidence) -> list[str]:
    """The seed's stage 6: plans fixed by a normative act, monthly reports, the list of
    resident participants kept current, the procedure for involving residents, the
    charity-event technology adopted as a standard. Every planned practice needs its own act,
    list and procedure; the standard is the city's."""
    planned = e.planned
    act = "every implementation plan fixed by a normative act (FixPlanByAct)"
    residents = "the list of resident participants of every plan (SetResidentParticipants)"
    procedure = "the procedure for involving residents of every plan (SetInvolvementProcedure)"
    report = "a monthly report of current against planned indicators (FileProgressReport)"
    standard = "the charity-event technology adopted as the city's standard"
    checks = (
        (e.fixed_by_act < planned, f"{act}: {e.fixed_by_act} of {planned}"),
        (not e.reported, report),
        (e.with_residents < planned, f"{residents}: {e.with_residents} of {planned}"),
        (e.with_procedure < planned, f"{procedure}: {e.with_procedure} of {planned}"),
        (not e.charity_standard, f"{standard} (AdoptCharityEventStandard)"),
    )
    return [message for lacking, message in checks if lacking]


STAGE_RESULTS: Mapping[int, Callable[[City, StageEvidence], list[str]]] = {
    1: _stage_1,
    2: _stage_2,
    3: _stage_3,
    4: _stage_4,
    5: _stage_5,
    6: _stage_6,
}


def missing_results(city: City, evidence: StageEvidence, stage: int) -> list[str]:
    """What stage `stage` has not produced yet; the last stage has no gate."""
    if stage >= LAST_STAGE:
        return []
    return STAGE_RESULTS[stage](city, evidence)


def stage_gaps(city: City, evidence: StageEvidence) -> list[tuple[int, list[str]]]:
    """Every stage with what it still lacks (the dashboard), done stages included."""
    return [(stage, missing_results(city, evidence, stage)) for stage in range(1, LAST_STAGE + 1)]
