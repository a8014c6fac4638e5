"""The registry's records as protobuf messages (to proto); requests are read in registry.requests.

A record's message mostly repeats the aggregate's attributes under the same names: `alike`
copies those, and each mapper names only the fields that differ (ids, times, nested messages).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.registry.v1 import registry_pb2 as pb
from lmp_kit.rpc import timestamp

from registry.application import SectionVersion
from registry.domain import (
    Activity,
    CharityEventStandard,
    City,
    ExternalResourceCase,
    ImprovementFact,
    Practice,
    Problem,
)
from registry.domain.classifier import Function, Method, cell_key
from registry.domain.passports import SECTIONS, TEXT_SECTIONS, Content, is_empty
from registry.domain.stages import STAGE_NAMES
from registry.projections import Document
from registry.views import Dashboard, Matrix, Page

M = TypeVar("M", bound=Message)


def alike(kind: type[M], source: object, **given: Any) -> M:  # noqa: ANN401  # field values
    """A `kind` message: the `given` fields as given, every other field the source's attribute
    of the same name (one that is None stays at the field's default: "" or 0)."""
    copied = {
        field.name: getattr(source, field.name)
        for field in kind.DESCRIPTOR.fields
        if field.name not in given
    }
    return kind(**{name: value for name, value in copied.items() if value is not None}, **given)


def persons(values: Iterable[Mapping[str, str]]) -> list[pb.Person]:
    return [pb.Person(**p) for p in values]


def cells(values: Iterable[Mapping[str, Any]]) -> list[pb.Cell]:
    return [
        pb.Cell(function=c["function"], method=c["method"], sub_methods=c["sub_methods"])
        for c in values
    ]


def sources(values: Iterable[Mapping[str, str]]) -> list[pb.ResourceSource]:
    return [pb.ResourceSource(**s) for s in values]


# City programme, problems


def city(record: City) -> pb.City:
    return alike(
        pb.City,
        record,
        working_group=[pb.WorkingGroupMember(**m) for m in record.working_group],
        order_number=record.order.get("number", ""),
        order_date=record.order.get("date", ""),
        regional_requirements=[pb.RegionalRequirement(**r) for r in record.regional_requirements],
        stage_plans=[
            pb.StagePlan(**p)
            for p in sorted(record.stage_plans.values(), key=lambda p: (p["stage"], p["plan"]))
        ],
        voter_target_history=[pb.VoterTargetChange(**c) for c in record.voter_target_history],
    )


def problem(record: Problem) -> pb.Problem:
    return alike(
        pb.Problem,
        record,
        problem_id=str(record.id),
        registered_at=timestamp(record.created_on),
    )


# Practices, passports, lineage, plans


def practice(
    record: Practice, replications: Iterable[Mapping[str, str]] | None = None
) -> pb.Practice:
    """The practice; `replications`: the copies to list (by default all of them)."""
    return alike(
        pb.Practice,
        record,
        practice_id=str(record.id),
        authors=persons(record.authors),
        participants=persons(record.participants),
        cells=cells(record.cells),
        status_reason=record.reason,
        replications=[
            pb.Replication(**r)
            for r in (record.replications if replications is None else replications)
        ],
        registered_at=timestamp(record.created_on),
        modified_at=timestamp(record.modified_on),
    )


def content(section: str, value: Content | None) -> pb.SectionContent:
    if value is None:
        return pb.SectionContent()
    if section in TEXT_SECTIONS:
        return pb.SectionContent(text=value["text"])
    if section == "cost":
        return pb.SectionContent(cost=pb.Cost(**value))
    if section == "result":
        return pb.SectionContent(indicators=[pb.Indicator(**i) for i in value["indicators"]])
    return pb.SectionContent(effects=pb.Effects(**value))


def passport(record: Practice) -> pb.Passport:
    return pb.Passport(
        practice_id=str(record.id),
        passport_version=record.passport_version,
        approved_passport_version=record.approved_passport_version,
        sections=[
            pb.PassportSection(
                section=section,
                version=len(record.passport.get(section, [])),
                content=content(section, record.section(section)),
                empty=is_empty(section, record.section(section)),
            )
            for section in SECTIONS
        ],
    )


def section_history(
    section: str, versions: Iterable[SectionVersion]
) -> pb.GetSectionHistoryResponse:
    return pb.GetSectionHistoryResponse(
        versions=[
            pb.SectionVersion(
                version=v.version,
                content=content(section, v.content),
                edited_at=timestamp(v.edited_at),
                passport_version=v.passport_version,
            )
            for v in versions
        ]
    )


def lineage(tree: Iterable[tuple[Practice, int]]) -> pb.GetLineageResponse:
    return pb.GetLineageResponse(
        nodes=[
            pb.LineageNode(
                practice_id=str(p.id),
                city_id=p.city_id,
                title=p.title,
                source_practice_id=p.source_practice_id or "",
                depth=depth,
            )
            for p, depth in tree
        ]
    )


def plan(record: Practice) -> pb.ImplementationPlan:
    current = record.plan or {}
    return pb.ImplementationPlan(
        practice_id=str(record.id),
        city_id=record.city_id,
        status=record.status,
        plan_version=current.get("plan_version", 0),
        approved_by=current.get("approved_by", ""),
        milestones=[
            pb.Milestone(
                number=m["number"],
                title=m["title"],
                owner=pb.Person(**m["owner"]),
                due_date=m["due_date"],
                status=m["status"],
            )
            for m in current.get("milestones", [])
        ],
        resource_sources=sources(current.get("resource_sources", [])),
        regulation_proposals=current.get("regulation_proposals", []),
        reports=[
            pb.ProgressReport(
                month=month,
                indicators=[pb.IndicatorProgress(**v) for v in report["indicators"]],
                note=report["note"],
            )
            for month, report in sorted(record.reports.items())
        ],
        decisions=[
            pb.PracticeDecision(
                decision=d["decision"],
                reason=d["reason"],
                resource_sources=sources(d["resource_sources"]),
                decided_by=d["decided_by"],
            )
            for d in record.decisions
        ],
        act=pb.NormativeAct(**record.act) if record.act else None,
        regulation_changes=[pb.RegulationChange(**c) for c in record.regulation_changes()],
        corrections=[pb.PlanCorrection(**c) for c in record.corrections],
        resident_participants=persons(record.residents),
        resident_list_version=record.resident_list_version,
        involvement_procedure=pb.InvolvementProcedure(**record.involvement_procedure)
        if record.involvement_procedure
        else None,
    )


def charity_event_standard(record: CharityEventStandard) -> pb.CharityEventStandard:
    return pb.CharityEventStandard(
        city_id=record.city_id,
        title=record.title,
        text=record.text,
        act_number=record.act_number,
        act_date=record.act_date,
        piloted_activity_ids=record.piloted_activity_ids,
        version=record.standard_version,
        adopted_by=record.adopted_by,
    )


# Activities, improvement facts, external-resource cases


def publication(value: Mapping[str, str] | None) -> pb.Publication | None:
    if value is None:
        return None
    return pb.Publication(
        text=value["text"], published_at=timestamp(datetime.fromisoformat(value["published_at"]))
    )


def activity(record: Activity) -> pb.Activity:
    report = None
    if record.report is not None:
        report = pb.ActivityReport(
            attendees=persons(record.report["attendees"]),
            photos=[pb.Photo(**p) for p in record.report["photos"]],
        )
    return alike(
        pb.Activity,
        record,
        activity_id=str(record.id),
        speakers=persons(record.speakers),
        announcement=publication(record.announcement),
        press_release=publication(record.press_release),
        report=report,
    )


def fact(record: ImprovementFact) -> pb.ImprovementFact:
    return alike(pb.ImprovementFact, record, fact_id=str(record.id))


def case(record: ExternalResourceCase) -> pb.ExternalResourceCase:
    return alike(pb.ExternalResourceCase, record, case_id=str(record.id))


# Read models


def library_entry(doc: Document) -> pb.LibraryEntry:
    return pb.LibraryEntry(
        practice_id=str(doc["_id"]),
        city_id=doc.get("city_id", ""),
        kind=doc.get("kind", ""),
        title=doc.get("title", ""),
        status=doc.get("status", ""),
        cells=cells(doc.get("cells", [])),
        problem_ids=doc.get("problem_ids", []),
        published=bool(doc.get("published")),
        approved_passport_version=int(doc.get("approved_passport_version", 0)),
        replications=int(doc.get("replications", 0)),
        updated_at=timestamp(doc["updated_at"]) if "updated_at" in doc else None,
    )


def problem_entry(doc: Document) -> pb.ProblemEntry:
    return pb.ProblemEntry(
        problem_id=str(doc["_id"]),
        city_id=doc.get("city_id", ""),
        title=doc.get("title", ""),
        priority=doc.get("priority", ""),
        solved=bool(doc.get("solved")),
        practice_ids=doc.get("practice_ids", []),
        registered_at=timestamp(doc["registered_at"]) if "registered_at" in doc else None,
    )


def problems_page(page: Page) -> pb.ListProblemsResponse:
    return pb.ListProblemsResponse(
        problems=[problem_entry(doc) for doc in page.documents], next_page_token=page.next_token
    )


def activity_entry(doc: Document) -> pb.ActivityEntry:
    return pb.ActivityEntry(
        activity_id=str(doc["_id"]),
        city_id=doc.get("city_id", ""),
        kind=doc.get("kind", ""),
        title=doc.get("title", ""),
        held_on=doc.get("held_on", ""),
        participant_categories=doc.get("participant_categories", []),
        announced="announcement_at" in doc,
        press_released="press_release_at" in doc,
        reported=bool(doc.get("report_filed")),
    )


def activities_page(page: Page) -> pb.ListActivitiesResponse:
    return pb.ListActivitiesResponse(
        activities=[activity_entry(doc) for doc in page.documents],
        next_page_token=page.next_token,
    )


def moment(doc: Document, name: str) -> Timestamp | None:
    return timestamp(doc[name]) if name in doc else None


def practice_entry(doc: Document) -> pb.PracticeEntry:
    return pb.PracticeEntry(
        practice_id=str(doc["_id"]),
        city_id=doc.get("city_id", ""),
        kind=doc.get("kind", ""),
        title=doc.get("title", ""),
        status=doc.get("status", ""),
        status_reason=doc.get("status_reason", ""),
        lifecycle_step=int(doc.get("lifecycle_step", 0)),
        cells=cells(doc.get("cells", [])),
        problem_ids=doc.get("problem_ids", []),
        rank=int(doc.get("rank", 0)),
        priority_rank=int(doc.get("priority_rank", 0)),
        approved_passport_version=int(doc.get("approved_passport_version", 0)),
        plan_version=int((doc.get("plan") or {}).get("plan_version", 0)),
        source_practice_id=doc.get("source_practice_id", ""),
        registered_at=moment(doc, "registered_at"),
    )


def practices_page(page: Page) -> pb.ListPracticesResponse:
    return pb.ListPracticesResponse(
        practices=[practice_entry(doc) for doc in page.documents],
        next_page_token=page.next_token,
    )


def fact_entry(doc: Document) -> pb.ImprovementFactEntry:
    return pb.ImprovementFactEntry(
        fact_id=str(doc["_id"]),
        city_id=doc.get("city_id", ""),
        month=doc.get("month", ""),
        title=doc.get("title", ""),
        verdict=doc.get("verdict", ""),
        reason=doc.get("reason", ""),
        evidence_count=int(doc.get("evidence_count", 0)),
        recorded_at=moment(doc, "recorded_at"),
    )


def facts_page(page: Page) -> pb.ListImprovementFactsResponse:
    return pb.ListImprovementFactsResponse(
        facts=[fact_entry(doc) for doc in page.documents], next_page_token=page.next_token
    )


def case_entry(doc: Document) -> pb.ExternalResourceCaseEntry:
    return pb.ExternalResourceCaseEntry(
        case_id=str(doc["_id"]),
        city_id=doc.get("city_id", ""),
        month=doc.get("month", ""),
        title=doc.get("title", ""),
        source_kind=doc.get("source_kind", ""),
        amount=doc.get("amount", ""),
        currency=doc.get("currency", ""),
        partner=doc.get("partner", ""),
        problem_id=doc.get("problem_id", ""),
        recorded_at=moment(doc, "recorded_at"),
    )


def cases_page(page: Page) -> pb.ListExternalResourceCasesResponse:
    return pb.ListExternalResourceCasesResponse(
        cases=[case_entry(doc) for doc in page.documents], next_page_token=page.next_token
    )


def plan_entry(doc: Document) -> pb.ImplementationPlanEntry:
    plan = doc.get("plan") or {}
    return pb.ImplementationPlanEntry(
        practice_id=str(doc["_id"]),
        city_id=doc.get("city_id", ""),
        title=doc.get("title", ""),
        status=doc.get("status", ""),
        plan_version=int(plan.get("plan_version", 0)),
        approved_by=plan.get("approved_by", ""),
        act_number=(doc.get("act") or {}).get("number", ""),
        act_date=(doc.get("act") or {}).get("date", ""),
        regulation_changes=int(doc.get("regulation_changes", 0)),
        regulation_changes_adopted=int(doc.get("regulation_changes_adopted", 0)),
        corrections=len(doc.get("correction_versions", [])),
        resident_participants=int(doc.get("resident_participants", 0)),
        involvement_procedure=bool(doc.get("involvement_procedure")),
        milestones=int(doc.get("milestones_total", 0)),
        milestones_done=int(doc.get("milestones_done", 0)),
        milestones_in_progress=int(doc.get("milestones_in_progress", 0)),
        milestones_missed=int(doc.get("milestones_missed", 0)),
        next_due_date=doc.get("next_due_date", ""),
        resource_sources=sources(doc.get("resource_sources", [])),
        reports=int(doc.get("reports", 0)),
        last_report_month=doc.get("last_report_month", ""),
        last_decision=doc.get("last_decision", ""),
        planned_at=moment(doc, "planned_at"),
    )


def plans_page(page: Page) -> pb.ListImplementationPlansResponse:
    return pb.ListImplementationPlansResponse(
        plans=[plan_entry(doc) for doc in page.documents], next_page_token=page.next_token
    )


def report_entry(doc: Document) -> pb.ProgressReportEntry:
    return pb.ProgressReportEntry(
        practice_id=doc.get("practice_id", ""),
        city_id=doc.get("city_id", ""),
        month=doc.get("month", ""),
        indicators=[pb.IndicatorProgress(**v) for v in doc.get("indicators", [])],
        note=doc.get("note", ""),
        reported_at=moment(doc, "reported_at"),
    )


def reports_page(page: Page) -> pb.ListProgressReportsResponse:
    return pb.ListProgressReportsResponse(
        reports=[report_entry(doc) for doc in page.documents], next_page_token=page.next_token
    )


def library_page(page: Page) -> pb.SearchLibraryResponse:
    return pb.SearchLibraryResponse(
        entries=[library_entry(doc) for doc in page.documents], next_page_token=page.next_token
    )


def classifier_matrix(matrix: Matrix) -> pb.ClassifierMatrix:
    return pb.ClassifierMatrix(
        city_id=matrix.city_id,
        cells=[
            pb.MatrixCell(
                function=function,
                method=method,
                practices=matrix.counts.get(cell_key(function, method), 0),
            )
            for function in Function
            for method in Method
        ],
        total=matrix.total,
    )


# What the working group does for each part an activity lacks (K2: announcement and release;
# K8: report), and for a council sitting, which the Expert Council's held session creates.
ACTIVITY_TO_DO = {
    "announcement": "publish its announcement (PublishAnnouncement)",
    "press_release": "publish its press release (PublishPressRelease)",
    "report": "file its report, the attendee list and photos (FileActivityReport)",
}
COUNCIL_SITTING_TO_DO = (
    "recorded from the Expert Council's held session with its date only: the working group "
    "completes it, or the month fails K2 and K8"
)


def activity_to_do(kind: str, missing: Iterable[str]) -> list[str]:
    steps = [ACTIVITY_TO_DO[part] for part in missing if part in ACTIVITY_TO_DO]
    return [COUNCIL_SITTING_TO_DO, *steps] if kind == "council_sitting" and steps else steps


def city_dashboard(board: Dashboard) -> pb.CityDashboard:
    return pb.CityDashboard(
        city_id=board.city_id,
        month=board.month,
        statuses=[pb.StatusCount(status=s, practices=n) for s, n in sorted(board.statuses.items())],
        packaged_practices=board.packaged,
        activity_gaps=[
            pb.ActivityGap(
                activity_id=str(doc["_id"]),
                title=doc.get("title", ""),
                held_on=doc.get("held_on", ""),
                missing=missing,
                kind=doc.get("kind", ""),
                to_do=activity_to_do(doc.get("kind", ""), missing),
            )
            for doc, missing in board.gaps
        ],
        stage=board.stage,
        stage_gaps=[
            pb.StageGap(stage=stage, name=STAGE_NAMES[stage], missing=missing)
            for stage, missing in board.stage_gaps
        ],
    )
