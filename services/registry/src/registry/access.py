"""Who may call what in the registry: one rule per RPC, enforced by the kit's gRPC guard
before any handler runs (lmp_kit.access; docs/decisions/0002-registry.md).

The roles follow the methodology (docs/domain.md, decision 0002). A call that names a
record takes its city from that record (`OfRecord`: a record of another city is NOT_FOUND, the
same as none at all); a call that creates something in a city takes it from the request. The
approved-passport library is federation-wide: the reads of a practice, its lineage, the
library and the federation's matrix show another city's practice only once its passport is
approved (`Filtered`), so their handlers hide the rest behind the same NOT_FOUND.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from lmp.registry.v1 import registry_pb2
from lmp_kit.access import (
    ANY_ROLE,
    AccessPolicy,
    Federation,
    Filtered,
    InRequest,
    OfRecord,
    Rule,
    rule,
)
from lmp_kit.domain import CityAggregate
from lmp_kit.errors import InvalidArgumentError

from registry.application import RegistryApplication
from registry.domain import Activity, ExternalResourceCase, ImprovementFact, Practice, Problem

SERVICE_NAME = registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name

# The record kinds a request may name: the aggregate each is and the field naming it.
KINDS: Mapping[str, tuple[type[CityAggregate], str]] = {
    "problem": (Problem, "problem_id"),
    "practice": (Practice, "practice_id"),
    "activity": (Activity, "activity_id"),
    "improvement fact": (ImprovementFact, "fact_id"),
    "external-resource case": (ExternalResourceCase, "case_id"),
}

PROGRAMME_EDITORS = frozenset({"administration", "working_group"})
PROBLEM_WRITERS = frozenset({"working_group", "administration", "programme_office", "portal"})
PRACTICE_REGISTRARS = frozenset({"working_group", "administration", "initiative_group", "portal"})
PRACTICE_EDITORS = frozenset({"working_group", "administration", "initiative_group"})
# The union of the roles of the hand-made status transitions (Practice.TRANSITIONS).
STATUS_CHANGERS = frozenset({"working_group", "administration", "initiative_group"})
PASSPORT_EDITORS = frozenset({"working_group", "administration"})
PASSPORT_APPROVERS = frozenset({"working_group", "administration"})
ADOPTERS = frozenset({"working_group", "administration"})
PLAN_APPROVERS = frozenset({"administration"})
PLAN_KEEPERS = frozenset({"working_group", "administration"})
DECIDERS = frozenset({"administration"})
ACTIVITY_WRITERS = frozenset({"working_group", "administration", "enterprise"})
FACT_RECORDERS = frozenset({"working_group"})
FACT_JUDGES = frozenset({"curator"})
CASE_RECORDERS = frozenset({"working_group", "administration"})

PROBLEM = OfRecord("problem", KINDS["problem"][1])
PRACTICE = OfRecord("practice", KINDS["practice"][1])
ACTIVITY = OfRecord("activity", KINDS["activity"][1])
FACT = OfRecord("improvement fact", KINDS["improvement fact"][1])
CASE = OfRecord("external-resource case", KINDS["external-resource case"][1])
LIBRARY_READ = Filtered(
    "a practice of your cities, or one of any city with an approved passport (the federation "
    "library); any other is NOT_FOUND, like a practice that does not exist"
)

RULES: Mapping[str, Rule] = {
    # City programme
    "RegisterCity": rule({"programme_office"}, Federation(all_cities=True)),
    "GetCity": rule(ANY_ROLE, InRequest("city_id")),
    "ApproveWorkingGroup": rule(PROGRAMME_EDITORS, InRequest("city_id")),
    "FixStrategy": rule(PROGRAMME_EDITORS, InRequest("city_id")),
    "AddRegionalRequirement": rule(PROGRAMME_EDITORS, InRequest("city_id")),
    "AdvanceStage": rule(PROGRAMME_EDITORS, InRequest("city_id")),
    "RecordStagePlan": rule(PROGRAMME_EDITORS, InRequest("city_id")),
    "ChangeVoterTarget": rule(
        {"programme_office"}, InRequest("city_id"), note="the target kpi scores voting against"
    ),
    # Problems
    "RegisterProblem": rule(
        PROBLEM_WRITERS,
        InRequest("city_id"),
        note="a `portal` registers a resident's problem on the resident's behalf",
    ),
    "GetProblem": rule(ANY_ROLE, PROBLEM),
    "ListProblems": rule(ANY_ROLE, InRequest("city_id")),
    "DescribeProblem": rule(PROBLEM_WRITERS, PROBLEM),
    "SetProblemPriority": rule(PROBLEM_WRITERS, PROBLEM),
    "MarkProblemSolved": rule(PROBLEM_WRITERS, PROBLEM),
    "LinkPractice": rule(
        PROBLEM_WRITERS & PRACTICE_EDITORS,
        PROBLEM,
        PRACTICE,
        note="the problem and the practice are of the same city",
    ),
    # Practices
    "RegisterPractice": rule(
        PRACTICE_REGISTRARS,
        InRequest("city_id"),
        note=(
            "`own` and `external` practices only by `working_group`, `administration`; an "
            "`initiative` also by `initiative_group` and by a `portal` on a resident's behalf"
        ),
    ),
    "GetPractice": rule(ANY_ROLE, LIBRARY_READ),
    "ListPractices": rule(ANY_ROLE, InRequest("city_id")),
    "ClassifyPractice": rule(PRACTICE_EDITORS, PRACTICE),
    "SetPracticePeople": rule(PRACTICE_EDITORS, PRACTICE),
    "MoveLifecycle": rule(PRACTICE_EDITORS, PRACTICE),
    "ChangeStatus": rule(
        STATUS_CHANGERS,
        PRACTICE,
        note=(
            "which role depends on the transition (decision 0002); the Council's statuses "
            "come only from its concluded review, never from ChangeStatus"
        ),
    ),
    "EditPassportSection": rule(PASSPORT_EDITORS, PRACTICE),
    "ApprovePassport": rule(
        PASSPORT_APPROVERS,
        PRACTICE,
        note="never by the practice's own authors or participants; only after a Council review",
    ),
    "GetPassport": rule(ANY_ROLE, LIBRARY_READ),
    "GetSectionHistory": rule(ANY_ROLE, LIBRARY_READ),
    "DiffSection": rule(ANY_ROLE, LIBRARY_READ),
    "AdoptPractice": rule(
        ADOPTERS,
        InRequest("city_id"),
        Filtered(
            "`source_practice_id`: a practice of another city with an approved passport; an "
            "unpublished one of another city is NOT_FOUND, like one that does not exist"
        ),
    ),
    "GetLineage": rule(
        ANY_ROLE,
        Filtered(
            "the practice as for GetPractice; the tree lists only copies that are published "
            "or of your cities"
        ),
    ),
    # Implementation plans (read by the practice's own city only)
    "SetImplementationPlan": rule(PLAN_APPROVERS, PRACTICE),
    "UpdateMilestone": rule(PLAN_KEEPERS, PRACTICE),
    "FileProgressReport": rule(PLAN_KEEPERS, PRACTICE),
    "DecideOnPractice": rule(DECIDERS, PRACTICE),
    "GetImplementationPlan": rule(ANY_ROLE, PRACTICE),
    "ListImplementationPlans": rule(ANY_ROLE, InRequest("city_id")),
    "ListProgressReports": rule(ANY_ROLE, InRequest("city_id")),
    # Stage 6 (decision 0002, "Stage 6 records and rules")
    "FixPlanByAct": rule(PLAN_APPROVERS, PRACTICE),
    "SetRegulationChangeStatus": rule(PLAN_KEEPERS, PRACTICE),
    "CorrectImplementationPlan": rule(
        PLAN_KEEPERS,
        PRACTICE,
        note="the working group's meetings correct the plan (the seed's stage 6)",
    ),
    "SetResidentParticipants": rule(PLAN_KEEPERS, PRACTICE),
    "SetInvolvementProcedure": rule(PLAN_KEEPERS, PRACTICE),
    "AdoptCharityEventStandard": rule(PROGRAMME_EDITORS, InRequest("city_id")),
    "GetCharityEventStandard": rule(ANY_ROLE, InRequest("city_id")),
    # Activities
    "RegisterActivity": rule(ACTIVITY_WRITERS, InRequest("city_id")),
    "GetActivity": rule(ANY_ROLE, ACTIVITY),
    "ListActivities": rule(ANY_ROLE, InRequest("city_id")),
    "PublishAnnouncement": rule(ACTIVITY_WRITERS, ACTIVITY),
    "PublishPressRelease": rule(ACTIVITY_WRITERS, ACTIVITY),
    "FileActivityReport": rule(ACTIVITY_WRITERS, ACTIVITY),
    # Improvement facts and external-resource cases
    "RecordImprovementFact": rule(FACT_RECORDERS, InRequest("city_id")),
    "GetImprovementFact": rule(ANY_ROLE, FACT),
    "ListImprovementFacts": rule(ANY_ROLE, InRequest("city_id")),
    "JudgeImprovementFact": rule(FACT_JUDGES, FACT),
    "RecordExternalResourceCase": rule(CASE_RECORDERS, InRequest("city_id")),
    "GetExternalResourceCase": rule(ANY_ROLE, CASE),
    "ListExternalResourceCases": rule(ANY_ROLE, InRequest("city_id")),
    # Read models
    "SearchLibrary": rule(
        ANY_ROLE,
        Filtered(
            "the published practices (approved passport) of every city and all practices of "
            "your cities"
        ),
    ),
    "GetClassifierMatrix": rule(
        ANY_ROLE,
        Filtered(
            "with `city_id`: every practice of that city, for a token of that city; without: "
            "the federation library, the published practices of every city"
        ),
    ),
    "GetCityDashboard": rule(ANY_ROLE, InRequest("city_id")),
}


def policy(app: RegistryApplication) -> AccessPolicy:
    """The registry's table; a record's city is read from the event store (current right
    after a write, unlike the read models)."""

    def city_of(kind: str, record_id: str) -> str | None:
        if kind not in KINDS:
            msg = f"the registry locates no {kind} records"
            raise RuntimeError(msg)
        expected, name = KINDS[kind]
        try:
            aggregate_id = UUID(record_id)
        except ValueError:
            msg = f"{name} must be a UUID, not {record_id[:80]!r}"
            raise InvalidArgumentError(msg) from None
        try:
            found: Aggregate = app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found.city_id if isinstance(found, expected) else None

    async def locate(kind: str, record_id: str) -> str | None:
        return await asyncio.to_thread(city_of, kind, record_id)

    return AccessPolicy(SERVICE_NAME, RULES, locate)
