from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import grpc
from eventsourcing.persistence import IntegrityError
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp_kit.auth import principal
from lmp_kit.domain import check_city_id
from lmp_kit.errors import InvalidArgumentError, PermissionDeniedError
from lmp_kit.grpc_server import Registration
from lmp_kit.idempotency import Retry
from pymongo.asynchronous.database import AsyncDatabase

from registry import views
from registry.access import policy
from registry.application import RegistryApplication, SectionVersion
from registry.domain import (
    Activity,
    City,
    ExternalResourceCase,
    ImprovementFact,
    Practice,
    Problem,
)
from registry.domain.classifier import Function, Method, cell_key
from registry.domain.passports import SECTIONS, TEXT_SECTIONS, Content, is_empty
from registry.projections import Document

T = TypeVar("T")

Context = grpc.aio.ServicerContext[object, object]
pb = registry_pb2


COMMAND_ATTEMPTS = 5


async def run(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:  # noqa: ANN401  # use-case arguments
    """Run a use case off the event loop; one that lost the race for an aggregate's next
    version (a reaction or another command saved first) runs again on the new state."""
    for attempt in range(1, COMMAND_ATTEMPTS):
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except IntegrityError:
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311  # jitter
    return await asyncio.to_thread(function, *args, **kwargs)


class RegistryServicer(registry_pb2_grpc.RegistryServiceServicer):
    def __init__(self, app: RegistryApplication, db: AsyncDatabase[Document] | None) -> None:
        self.app = app
        self.db = db

    def views_db(self) -> AsyncDatabase[Document]:
        if self.db is None:
            msg = "this registry runs without read models"
            raise RuntimeError(msg)
        return self.db

    async def practice_reply(self, practice: Practice) -> pb.Practice:
        """The practice as the caller may see it: its copies only when published or of the
        caller's cities (another city's unpublished copy is that city's own business)."""
        shown = await run(self.app.shown_replications, principal(), practice)
        return practice_message(practice, shown)

    # City programme

    async def RegisterCity(self, request: pb.RegisterCityRequest, context: Context) -> pb.City:  # noqa: N802  # gRPC method name
        del context
        city = await run(
            self.app.register_city,
            request.city_id,
            name=request.name,
            region=request.region,
            kind=request.kind,
            population=request.population,
            voter_target=request.voter_target,
        )
        return city_message(city)

    async def GetCity(self, request: pb.GetCityRequest, context: Context) -> pb.City:  # noqa: N802  # gRPC method name
        del context
        return city_message(await run(self.app.get_city, check_city_id(request.city_id)))

    async def ApproveWorkingGroup(  # noqa: N802  # gRPC method name
        self, request: pb.ApproveWorkingGroupRequest, context: Context
    ) -> pb.City:
        del context
        members = [
            {"person_id": m.person_id, "name": m.name, "role": m.role} for m in request.members
        ]
        city = await run(
            self.app.approve_working_group,
            request.city_id,
            members,
            request.order_number,
            request.order_date,
        )
        return city_message(city)

    async def FixStrategy(self, request: pb.FixStrategyRequest, context: Context) -> pb.City:  # noqa: N802  # gRPC method name
        del context
        city = await run(
            self.app.fix_strategy,
            request.city_id,
            list(request.priority_directions),
            list(request.selection_criteria),
        )
        return city_message(city)

    async def AddRegionalRequirement(  # noqa: N802  # gRPC method name
        self, request: pb.AddRegionalRequirementRequest, context: Context
    ) -> pb.AddRegionalRequirementResponse:
        del context
        city, requirement_id = await run(
            self.app.add_regional_requirement,
            request.city_id,
            request.title,
            request.description,
            Retry.of(request.city_id, request),
        )
        return pb.AddRegionalRequirementResponse(
            city=city_message(city), requirement_id=requirement_id
        )

    async def AdvanceStage(self, request: pb.AdvanceStageRequest, context: Context) -> pb.City:  # noqa: N802  # gRPC method name
        del context
        city = await run(self.app.advance_stage, request.city_id, request.to_stage)
        return city_message(city)

    # Problems

    async def RegisterProblem(  # noqa: N802  # gRPC method name
        self, request: pb.RegisterProblemRequest, context: Context
    ) -> pb.RegisterProblemResponse:
        del context
        problem = await run(
            self.app.register_problem,
            request.city_id,
            request.title,
            request.description,
            Retry.of(request.city_id, request),
        )
        return pb.RegisterProblemResponse(problem=problem_message(problem))

    async def GetProblem(self, request: pb.GetProblemRequest, context: Context) -> pb.Problem:  # noqa: N802  # gRPC method name
        del context
        problem = await run(self.app.get_problem, parse_id("problem_id", request.problem_id))
        return problem_message(problem)

    async def DescribeProblem(  # noqa: N802  # gRPC method name
        self, request: pb.DescribeProblemRequest, context: Context
    ) -> pb.Problem:
        del context
        problem = await run(
            self.app.describe_problem,
            parse_id("problem_id", request.problem_id),
            request.description,
        )
        return problem_message(problem)

    async def SetProblemPriority(  # noqa: N802  # gRPC method name
        self, request: pb.SetProblemPriorityRequest, context: Context
    ) -> pb.Problem:
        del context
        problem = await run(
            self.app.set_problem_priority,
            parse_id("problem_id", request.problem_id),
            request.priority,
        )
        return problem_message(problem)

    async def MarkProblemSolved(  # noqa: N802  # gRPC method name
        self, request: pb.MarkProblemSolvedRequest, context: Context
    ) -> pb.Problem:
        del context
        problem = await run(
            self.app.mark_problem_solved,
            parse_id("problem_id", request.problem_id),
            with_external_resources=request.solved_with_external_resources,
        )
        return problem_message(problem)

    async def LinkPractice(self, request: pb.LinkPracticeRequest, context: Context) -> pb.Problem:  # noqa: N802  # gRPC method name
        del context
        problem = await run(
            self.app.link_practice,
            parse_id("problem_id", request.problem_id),
            parse_id("practice_id", request.practice_id),
        )
        return problem_message(problem)

    # Practices

    async def RegisterPractice(  # noqa: N802  # gRPC method name
        self, request: pb.RegisterPracticeRequest, context: Context
    ) -> pb.Practice:
        del context
        practice = await run(
            self.app.register_practice,
            principal(),
            request.city_id,
            request.kind,
            request.title,
            summary=request.summary,
            authors=people(request.authors),
            participants=people(request.participants),
            problem_ids=list(request.problem_ids),
            requirement_ids=list(request.requirement_ids),
            cells=cells(request.cells),
            lifecycle_step=request.lifecycle_step or 1,
            retry=Retry.of(request.city_id, request),
        )
        return await self.practice_reply(practice)

    async def GetPractice(self, request: pb.GetPracticeRequest, context: Context) -> pb.Practice:  # noqa: N802  # gRPC method name
        del context
        practice_id = parse_id("practice_id", request.practice_id)
        caller = principal()
        if request.HasField("as_of"):
            moment = request.as_of.ToDatetime(tzinfo=UTC)
            practice = await run(self.app.practice_as_of, caller, practice_id, moment)
        else:
            practice = await run(self.app.readable_practice, caller, practice_id)
        return await self.practice_reply(practice)

    async def ClassifyPractice(  # noqa: N802  # gRPC method name
        self, request: pb.ClassifyPracticeRequest, context: Context
    ) -> pb.Practice:
        del context
        practice = await run(
            self.app.classify_practice,
            parse_id("practice_id", request.practice_id),
            cells(request.cells),
        )
        return await self.practice_reply(practice)

    async def SetPracticePeople(  # noqa: N802  # gRPC method name
        self, request: pb.SetPracticePeopleRequest, context: Context
    ) -> pb.Practice:
        del context
        practice = await run(
            self.app.set_practice_people,
            parse_id("practice_id", request.practice_id),
            people(request.authors),
            people(request.participants),
        )
        return await self.practice_reply(practice)

    async def MoveLifecycle(  # noqa: N802  # gRPC method name
        self, request: pb.MoveLifecycleRequest, context: Context
    ) -> pb.Practice:
        del context
        practice = await run(
            self.app.move_lifecycle,
            parse_id("practice_id", request.practice_id),
            request.step,
            request.reason,
        )
        return await self.practice_reply(practice)

    async def ChangeStatus(self, request: pb.ChangeStatusRequest, context: Context) -> pb.Practice:  # noqa: N802  # gRPC method name
        del context
        practice = await run(
            self.app.change_status,
            principal(),
            parse_id("practice_id", request.practice_id),
            request.status,
            request.reason,
        )
        return await self.practice_reply(practice)

    async def EditPassportSection(  # noqa: N802  # gRPC method name
        self, request: pb.EditPassportSectionRequest, context: Context
    ) -> pb.Passport:
        del context
        practice = await run(
            self.app.edit_passport,
            parse_id("practice_id", request.practice_id),
            request.section,
            content_of(request.section, request.content),
        )
        return passport_message(practice)

    async def ApprovePassport(  # noqa: N802  # gRPC method name
        self, request: pb.ApprovePassportRequest, context: Context
    ) -> pb.Passport:
        del context
        practice = await run(
            self.app.approve_passport, principal(), parse_id("practice_id", request.practice_id)
        )
        return passport_message(practice)

    async def GetPassport(self, request: pb.GetPassportRequest, context: Context) -> pb.Passport:  # noqa: N802  # gRPC method name
        del context
        practice = await run(
            self.app.readable_practice, principal(), parse_id("practice_id", request.practice_id)
        )
        return passport_message(practice)

    async def GetSectionHistory(  # noqa: N802  # gRPC method name
        self, request: pb.GetSectionHistoryRequest, context: Context
    ) -> pb.GetSectionHistoryResponse:
        del context
        history = await run(
            self.app.section_history,
            principal(),
            parse_id("practice_id", request.practice_id),
            request.section,
        )
        return pb.GetSectionHistoryResponse(
            versions=[version_message(request.section, v) for v in history]
        )

    async def DiffSection(  # noqa: N802  # gRPC method name
        self, request: pb.DiffSectionRequest, context: Context
    ) -> pb.DiffSectionResponse:
        del context
        difference = await run(
            self.app.section_diff,
            principal(),
            parse_id("practice_id", request.practice_id),
            request.section,
            (request.from_version, request.to_version),
        )
        return pb.DiffSectionResponse(diff=difference)

    async def AdoptPractice(  # noqa: N802  # gRPC method name
        self, request: pb.AdoptPracticeRequest, context: Context
    ) -> pb.Practice:
        del context
        practice = await run(
            self.app.adopt_practice,
            principal(),
            parse_id("source_practice_id", request.source_practice_id),
            request.city_id,
            request.title or None,
            Retry.of(request.city_id, request),
        )
        return await self.practice_reply(practice)

    async def GetLineage(  # noqa: N802  # gRPC method name
        self, request: pb.GetLineageRequest, context: Context
    ) -> pb.GetLineageResponse:
        del context
        tree = await run(
            self.app.lineage, principal(), parse_id("practice_id", request.practice_id)
        )
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

    # Implementation plans

    async def SetImplementationPlan(  # noqa: N802  # gRPC method name
        self, request: pb.SetImplementationPlanRequest, context: Context
    ) -> pb.ImplementationPlan:
        del context
        practice = await run(
            self.app.set_implementation_plan,
            principal(),
            parse_id("practice_id", request.practice_id),
            [milestone_of(m) for m in request.milestones],
            sources_of(request.resource_sources),
            list(request.regulation_proposals),
        )
        return plan_message(practice)

    async def UpdateMilestone(  # noqa: N802  # gRPC method name
        self, request: pb.UpdateMilestoneRequest, context: Context
    ) -> pb.ImplementationPlan:
        del context
        practice = await run(
            self.app.update_milestone,
            parse_id("practice_id", request.practice_id),
            request.number,
            request.status,
            request.due_date,
        )
        return plan_message(practice)

    async def FileProgressReport(  # noqa: N802  # gRPC method name
        self, request: pb.FileProgressReportRequest, context: Context
    ) -> pb.ImplementationPlan:
        del context
        practice = await run(
            self.app.file_progress_report,
            parse_id("practice_id", request.practice_id),
            request.month,
            [
                {"indicator": v.indicator, "planned": v.planned, "actual": v.actual}
                for v in request.indicators
            ],
            request.note,
        )
        return plan_message(practice)

    async def DecideOnPractice(  # noqa: N802  # gRPC method name
        self, request: pb.DecideOnPracticeRequest, context: Context
    ) -> pb.ImplementationPlan:
        del context
        practice = await run(
            self.app.decide_on_practice,
            principal(),
            parse_id("practice_id", request.practice_id),
            request.decision,
            request.reason,
            sources_of(request.resource_sources),
        )
        return plan_message(practice)

    async def GetImplementationPlan(  # noqa: N802  # gRPC method name
        self, request: pb.GetImplementationPlanRequest, context: Context
    ) -> pb.ImplementationPlan:
        del context
        practice = await run(self.app.get_practice, parse_id("practice_id", request.practice_id))
        return plan_message(practice)

    # Activities

    async def RegisterActivity(  # noqa: N802  # gRPC method name
        self, request: pb.RegisterActivityRequest, context: Context
    ) -> pb.Activity:
        del context
        activity = await run(
            self.app.register_activity,
            request.city_id,
            request.kind,
            request.title,
            request.held_on,
            speakers=people(request.speakers),
            joint_action=request.joint_action,
            branding_used=request.branding_used,
            retry=Retry.of(request.city_id, request),
        )
        return activity_message(activity)

    async def GetActivity(self, request: pb.GetActivityRequest, context: Context) -> pb.Activity:  # noqa: N802  # gRPC method name
        del context
        activity = await run(self.app.get_activity, parse_id("activity_id", request.activity_id))
        return activity_message(activity)

    async def PublishAnnouncement(  # noqa: N802  # gRPC method name
        self, request: pb.PublishRequest, context: Context
    ) -> pb.Activity:
        del context
        return await self._publish(self.app.publish_announcement, request)

    async def PublishPressRelease(  # noqa: N802  # gRPC method name
        self, request: pb.PublishRequest, context: Context
    ) -> pb.Activity:
        del context
        return await self._publish(self.app.publish_press_release, request)

    async def _publish(
        self, use_case: Callable[..., Activity], request: pb.PublishRequest
    ) -> pb.Activity:
        if not request.HasField("published_at"):
            msg = "published_at is required: when the text was published"
            raise InvalidArgumentError(msg)
        activity = await run(
            use_case,
            parse_id("activity_id", request.activity_id),
            request.text,
            request.published_at.ToDatetime(tzinfo=UTC),
        )
        return activity_message(activity)

    async def FileActivityReport(  # noqa: N802  # gRPC method name
        self, request: pb.FileActivityReportRequest, context: Context
    ) -> pb.Activity:
        del context
        activity = await run(
            self.app.file_activity_report,
            parse_id("activity_id", request.activity_id),
            people(request.attendees),
            [{"uri": p.uri, "sha256": p.sha256} for p in request.photos],
        )
        return activity_message(activity)

    # Improvement facts and external-resource cases

    async def RecordImprovementFact(  # noqa: N802  # gRPC method name
        self, request: pb.RecordImprovementFactRequest, context: Context
    ) -> pb.ImprovementFact:
        del context
        fact = await run(
            self.app.record_improvement_fact,
            request.city_id,
            month=request.month,
            title=request.title,
            description=request.description,
            evidence=list(request.evidence),
            retry=Retry.of(request.city_id, request),
        )
        return fact_message(fact)

    async def GetImprovementFact(  # noqa: N802  # gRPC method name
        self, request: pb.GetImprovementFactRequest, context: Context
    ) -> pb.ImprovementFact:
        del context
        fact = await run(self.app.get_improvement_fact, parse_id("fact_id", request.fact_id))
        return fact_message(fact)

    async def JudgeImprovementFact(  # noqa: N802  # gRPC method name
        self, request: pb.JudgeImprovementFactRequest, context: Context
    ) -> pb.ImprovementFact:
        del context
        fact = await run(
            self.app.judge_improvement_fact,
            parse_id("fact_id", request.fact_id),
            recognized=request.recognized,
            reason=request.reason,
        )
        return fact_message(fact)

    async def RecordExternalResourceCase(  # noqa: N802  # gRPC method name
        self, request: pb.RecordExternalResourceCaseRequest, context: Context
    ) -> pb.ExternalResourceCase:
        del context
        case = await run(
            self.app.record_external_resource_case,
            request.city_id,
            month=request.month,
            title=request.title,
            source_kind=request.source_kind,
            amount=request.amount,
            currency=request.currency,
            partner=request.partner,
            problem_id=request.problem_id,
            retry=Retry.of(request.city_id, request),
        )
        return case_message(case)

    async def GetExternalResourceCase(  # noqa: N802  # gRPC method name
        self, request: pb.GetExternalResourceCaseRequest, context: Context
    ) -> pb.ExternalResourceCase:
        del context
        case = await run(self.app.get_external_resource_case, parse_id("case_id", request.case_id))
        return case_message(case)

    # Read models

    async def SearchLibrary(  # noqa: N802  # gRPC method name
        self, request: pb.SearchLibraryRequest, context: Context
    ) -> pb.SearchLibraryResponse:
        del context
        query = views.LibraryQuery(
            text=request.text,
            function=request.function,
            method=request.method,
            cell=request.cell,
            kind=request.kind,
            status=request.status,
            city_id=request.city_id,
            problem_id=request.problem_id,
        )
        page = await views.search_library(
            self.views_db(), query, principal(), request.page.page_size, request.page.page_token
        )
        return pb.SearchLibraryResponse(
            entries=[library_entry(doc) for doc in page.documents],
            next_page_token=page.next_token,
        )

    async def GetClassifierMatrix(  # noqa: N802  # gRPC method name
        self, request: pb.GetClassifierMatrixRequest, context: Context
    ) -> pb.ClassifierMatrix:
        del context
        if request.city_id and not principal().may_act_in(check_city_id(request.city_id)):
            # as the access table's InRequest answers (lmp_kit.access)
            msg = f"your token is not for city {request.city_id!r}"
            raise PermissionDeniedError(msg)
        matrix = await views.classifier_matrix(self.views_db(), request.city_id)
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

    async def GetCityDashboard(  # noqa: N802  # gRPC method name
        self, request: pb.GetCityDashboardRequest, context: Context
    ) -> pb.CityDashboard:
        del context
        check_city_id(request.city_id)
        month = request.month or datetime.now(UTC).strftime("%Y-%m")
        board = await views.city_dashboard(self.views_db(), request.city_id, month)
        return pb.CityDashboard(
            city_id=board.city_id,
            month=board.month,
            statuses=[
                pb.StatusCount(status=s, practices=n) for s, n in sorted(board.statuses.items())
            ],
            packaged_practices=board.packaged,
            activity_gaps=[
                pb.ActivityGap(
                    activity_id=str(doc["_id"]),
                    title=doc.get("title", ""),
                    held_on=doc.get("held_on", ""),
                    missing=missing,
                )
                for doc, missing in board.gaps
            ],
        )


def parse_id(name: str, value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        msg = f"{name} must be a UUID, not {value!r}"
        raise InvalidArgumentError(msg) from None


def timestamp(moment: datetime) -> Timestamp:
    message = Timestamp()
    message.FromDatetime(moment)
    return message


def people(persons: Iterable[pb.Person]) -> list[dict[str, str]]:
    return [{"person_id": p.person_id, "name": p.name} for p in persons]


def cells(messages: Iterable[pb.Cell]) -> list[dict[str, Any]]:
    return [
        {"function": c.function, "method": c.method, "sub_methods": list(c.sub_methods)}
        for c in messages
    ]


def content_of(section: str, message: pb.SectionContent) -> dict[str, Any]:
    if section == "cost":
        return {"amount": message.cost.amount, "currency": message.cost.currency}
    if section == "result":
        return {
            "indicators": [
                {
                    "name": i.name,
                    "unit": i.unit,
                    "baseline": i.baseline,
                    "target": i.target,
                    "actual": i.actual,
                }
                for i in message.indicators
            ]
        }
    if section == "effects":
        effects = message.effects
        return {
            "social": effects.social,
            "economic": effects.economic,
            "political": effects.political,
        }
    return {"text": message.text}


def content_message(section: str, content: Content | None) -> pb.SectionContent:
    if content is None:
        return pb.SectionContent()
    if section in TEXT_SECTIONS:
        return pb.SectionContent(text=content["text"])
    if section == "cost":
        return pb.SectionContent(cost=pb.Cost(**content))
    if section == "result":
        return pb.SectionContent(indicators=[pb.Indicator(**i) for i in content["indicators"]])
    return pb.SectionContent(effects=pb.Effects(**content))


def passport_message(practice: Practice) -> pb.Passport:
    return pb.Passport(
        practice_id=str(practice.id),
        passport_version=practice.passport_version,
        approved_passport_version=practice.approved_passport_version,
        sections=[
            pb.PassportSection(
                section=section,
                version=len(practice.passport.get(section, [])),
                content=content_message(section, practice.section(section)),
                empty=is_empty(section, practice.section(section)),
            )
            for section in SECTIONS
        ],
    )


def version_message(section: str, version: SectionVersion) -> pb.SectionVersion:
    return pb.SectionVersion(
        version=version.version,
        content=content_message(section, version.content),
        edited_at=timestamp(version.edited_at),
        passport_version=version.passport_version,
    )


def city_message(city: City) -> pb.City:
    return pb.City(
        city_id=city.city_id,
        name=city.name,
        region=city.region,
        kind=city.kind,
        population=city.population,
        voter_target=city.voter_target,
        working_group=[pb.WorkingGroupMember(**m) for m in city.working_group],
        order_number=city.order.get("number", ""),
        order_date=city.order.get("date", ""),
        priority_directions=city.priority_directions,
        selection_criteria=city.selection_criteria,
        regional_requirements=[pb.RegionalRequirement(**r) for r in city.regional_requirements],
        stage=city.stage,
        version=city.version,
    )


def problem_message(problem: Problem) -> pb.Problem:
    return pb.Problem(
        problem_id=str(problem.id),
        city_id=problem.city_id,
        title=problem.title,
        description=problem.description,
        registered_at=timestamp(problem.created_on),
        version=problem.version,
        priority=problem.priority,
        practice_ids=problem.practice_ids,
        solved=problem.solved,
        solved_with_external_resources=problem.solved_with_external_resources,
    )


def cell_messages(values: Iterable[dict[str, Any]]) -> list[pb.Cell]:
    return [
        pb.Cell(function=c["function"], method=c["method"], sub_methods=c["sub_methods"])
        for c in values
    ]


def practice_message(
    practice: Practice, replications: Iterable[dict[str, str]] | None = None
) -> pb.Practice:
    """The practice; `replications`: the copies to list (by default all of them)."""
    return pb.Practice(
        practice_id=str(practice.id),
        city_id=practice.city_id,
        kind=practice.kind,
        title=practice.title,
        summary=practice.summary,
        authors=[pb.Person(**p) for p in practice.authors],
        participants=[pb.Person(**p) for p in practice.participants],
        problem_ids=practice.problem_ids,
        requirement_ids=practice.requirement_ids,
        cells=cell_messages(practice.cells),
        lifecycle_step=practice.lifecycle_step,
        status=practice.status,
        status_reason=practice.reason,
        passport_version=practice.passport_version,
        approved_passport_version=practice.approved_passport_version,
        rank=practice.rank or 0,
        priority_rank=practice.priority_rank or 0,
        source_practice_id=practice.source_practice_id or "",
        source_city_id=practice.source_city_id or "",
        replications=[
            pb.Replication(**r)
            for r in (practice.replications if replications is None else replications)
        ],
        registered_at=timestamp(practice.created_on),
        modified_at=timestamp(practice.modified_on),
        version=practice.version,
    )


def publication(value: dict[str, str] | None) -> pb.Publication | None:
    if value is None:
        return None
    return pb.Publication(
        text=value["text"], published_at=timestamp(datetime.fromisoformat(value["published_at"]))
    )


def activity_message(activity: Activity) -> pb.Activity:
    report = None
    if activity.report is not None:
        report = pb.ActivityReport(
            attendees=[pb.Person(**p) for p in activity.report["attendees"]],
            photos=[pb.Photo(**p) for p in activity.report["photos"]],
        )
    return pb.Activity(
        activity_id=str(activity.id),
        city_id=activity.city_id,
        kind=activity.kind,
        title=activity.title,
        held_on=activity.held_on,
        speakers=[pb.Person(**p) for p in activity.speakers],
        joint_action=activity.joint_action,
        branding_used=activity.branding_used,
        announcement=publication(activity.announcement),
        press_release=publication(activity.press_release),
        report=report,
        version=activity.version,
    )


def fact_message(fact: ImprovementFact) -> pb.ImprovementFact:
    return pb.ImprovementFact(
        fact_id=str(fact.id),
        city_id=fact.city_id,
        month=fact.month,
        title=fact.title,
        description=fact.description,
        evidence=fact.evidence,
        verdict=fact.verdict,
        reason=fact.reason,
        version=fact.version,
    )


def case_message(case: ExternalResourceCase) -> pb.ExternalResourceCase:
    return pb.ExternalResourceCase(
        case_id=str(case.id),
        city_id=case.city_id,
        month=case.month,
        title=case.title,
        source_kind=case.source_kind,
        amount=case.amount,
        currency=case.currency,
        partner=case.partner,
        problem_id=case.problem_id or "",
        version=case.version,
    )


def library_entry(doc: Document) -> pb.LibraryEntry:
    return pb.LibraryEntry(
        practice_id=str(doc["_id"]),
        city_id=doc.get("city_id", ""),
        kind=doc.get("kind", ""),
        title=doc.get("title", ""),
        status=doc.get("status", ""),
        cells=cell_messages(doc.get("cells", [])),
        problem_ids=doc.get("problem_ids", []),
        published=bool(doc.get("published")),
        approved_passport_version=int(doc.get("approved_passport_version", 0)),
        replications=int(doc.get("replications", 0)),
        updated_at=timestamp(doc["updated_at"]) if "updated_at" in doc else None,
    )


def milestone_of(message: pb.Milestone) -> dict[str, Any]:
    return {
        "title": message.title,
        "owner": {"person_id": message.owner.person_id, "name": message.owner.name},
        "due_date": message.due_date,
        "status": message.status,
    }


def sources_of(messages: Iterable[pb.ResourceSource]) -> list[dict[str, str]]:
    return [{"kind": m.kind, "amount": m.amount, "currency": m.currency} for m in messages]


def source_messages(sources: Iterable[dict[str, str]]) -> list[pb.ResourceSource]:
    return [pb.ResourceSource(**s) for s in sources]


def plan_message(practice: Practice) -> pb.ImplementationPlan:
    plan = practice.plan or {}
    return pb.ImplementationPlan(
        practice_id=str(practice.id),
        city_id=practice.city_id,
        status=practice.status,
        plan_version=plan.get("plan_version", 0),
        approved_by=plan.get("approved_by", ""),
        milestones=[
            pb.Milestone(
                number=m["number"],
                title=m["title"],
                owner=pb.Person(**m["owner"]),
                due_date=m["due_date"],
                status=m["status"],
            )
            for m in plan.get("milestones", [])
        ],
        resource_sources=source_messages(plan.get("resource_sources", [])),
        regulation_proposals=plan.get("regulation_proposals", []),
        reports=[
            pb.ProgressReport(
                month=month,
                indicators=[pb.IndicatorProgress(**v) for v in report["indicators"]],
                note=report["note"],
            )
            for month, report in sorted(practice.reports.items())
        ],
        decisions=[
            pb.PracticeDecision(
                decision=d["decision"],
                reason=d["reason"],
                resource_sources=source_messages(d["resource_sources"]),
                decided_by=d["decided_by"],
            )
            for d in practice.decisions
        ],
    )


def registrations(
    app: RegistryApplication, db: AsyncDatabase[Document] | None = None
) -> list[Registration]:
    return [
        Registration(
            add=registry_pb2_grpc.add_RegistryServiceServicer_to_server,
            servicer=RegistryServicer(app, db),
            service_name=registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,
            access=policy(app),
        )
    ]
