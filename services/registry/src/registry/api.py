# ruff: noqa: N802  # the servicer's methods carry the gRPC methods' names
"""The registry's gRPC servicer: each handler reads its request (registry.requests), runs the
use case (registry.application) and answers with the record as a message (registry.messages)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp_kit.auth import principal
from lmp_kit.commands import run_command
from lmp_kit.domain import check_city_id
from lmp_kit.errors import PermissionDeniedError
from lmp_kit.grpc_server import Registration
from lmp_kit.idempotency import Retry
from lmp_kit.rpc import Context, parse_id
from pymongo.asynchronous.database import AsyncDatabase

from registry import messages, requests, views
from registry.access import policy
from registry.application import RegistryApplication
from registry.domain import Activity, Practice
from registry.projections import Document

T = TypeVar("T")

pb = registry_pb2


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
        shown = await run_command(self.app.shown_replications, principal(), practice)
        return messages.practice(practice, shown)

    # City programme

    async def RegisterCity(self, request: pb.RegisterCityRequest, _context: Context) -> pb.City:
        city = await run_command(
            self.app.register_city,
            request.city_id,
            name=request.name,
            region=request.region,
            kind=request.kind,
            population=request.population,
            voter_target=request.voter_target,
        )
        return messages.city(city)

    async def GetCity(self, request: pb.GetCityRequest, _context: Context) -> pb.City:
        return messages.city(await run_command(self.app.get_city, check_city_id(request.city_id)))

    async def ApproveWorkingGroup(
        self, request: pb.ApproveWorkingGroupRequest, _context: Context
    ) -> pb.City:
        city = await run_command(
            self.app.approve_working_group,
            request.city_id,
            requests.members(request.members),
            request.order_number,
            request.order_date,
            list(request.tasks),
        )
        return messages.city(city)

    async def FixStrategy(self, request: pb.FixStrategyRequest, _context: Context) -> pb.City:
        city = await run_command(
            self.app.fix_strategy,
            request.city_id,
            list(request.priority_directions),
            list(request.selection_criteria),
        )
        return messages.city(city)

    async def AddRegionalRequirement(
        self, request: pb.AddRegionalRequirementRequest, _context: Context
    ) -> pb.AddRegionalRequirementResponse:
        city, requirement_id = await run_command(
            self.app.add_regional_requirement,
            request.city_id,
            request.title,
            request.description,
            Retry.of(request.city_id, request),
        )
        return pb.AddRegionalRequirementResponse(
            city=messages.city(city), requirement_id=requirement_id
        )

    async def AdvanceStage(self, request: pb.AdvanceStageRequest, _context: Context) -> pb.City:
        standard = await run_command(self.app.has_charity_event_standard, request.city_id)
        evidence = await views.stage_evidence(
            self.views_db(), request.city_id, charity_standard=standard
        )
        return messages.city(
            await run_command(self.app.advance_stage, request.city_id, request.to_stage, evidence)
        )

    async def RecordStagePlan(
        self, request: pb.RecordStagePlanRequest, _context: Context
    ) -> pb.City:
        city = await run_command(
            self.app.record_stage_plan,
            request.city_id,
            request.plan,
            list(request.items),
            request.document,
            request.approved_on,
        )
        return messages.city(city)

    async def ChangeVoterTarget(
        self, request: pb.ChangeVoterTargetRequest, _context: Context
    ) -> pb.City:
        city = await run_command(
            self.app.change_voter_target, request.city_id, request.voter_target, request.reason
        )
        return messages.city(city)

    # Problems

    async def RegisterProblem(
        self, request: pb.RegisterProblemRequest, _context: Context
    ) -> pb.RegisterProblemResponse:
        problem = await run_command(
            self.app.register_problem,
            request.city_id,
            request.title,
            request.description,
            Retry.of(request.city_id, request),
        )
        return pb.RegisterProblemResponse(problem=messages.problem(problem))

    async def GetProblem(self, request: pb.GetProblemRequest, _context: Context) -> pb.Problem:
        problem_id = parse_id("problem_id", request.problem_id)
        return messages.problem(await run_command(self.app.get_problem, problem_id))

    async def DescribeProblem(
        self, request: pb.DescribeProblemRequest, _context: Context
    ) -> pb.Problem:
        problem_id = parse_id("problem_id", request.problem_id)
        return messages.problem(
            await run_command(self.app.describe_problem, problem_id, request.description)
        )

    async def SetProblemPriority(
        self, request: pb.SetProblemPriorityRequest, _context: Context
    ) -> pb.Problem:
        problem_id = parse_id("problem_id", request.problem_id)
        return messages.problem(
            await run_command(self.app.set_problem_priority, problem_id, request.priority)
        )

    async def MarkProblemSolved(
        self, request: pb.MarkProblemSolvedRequest, _context: Context
    ) -> pb.Problem:
        problem = await run_command(
            self.app.mark_problem_solved,
            parse_id("problem_id", request.problem_id),
            with_external_resources=request.solved_with_external_resources,
        )
        return messages.problem(problem)

    async def LinkPractice(self, request: pb.LinkPracticeRequest, _context: Context) -> pb.Problem:
        problem_id = parse_id("problem_id", request.problem_id)
        practice_id = parse_id("practice_id", request.practice_id)
        return messages.problem(await run_command(self.app.link_practice, problem_id, practice_id))

    # Practices

    async def RegisterPractice(
        self, request: pb.RegisterPracticeRequest, _context: Context
    ) -> pb.Practice:
        practice = await run_command(
            self.app.register_practice,
            principal(),
            request.city_id,
            request.kind,
            request.title,
            summary=request.summary,
            authors=requests.people(request.authors),
            participants=requests.people(request.participants),
            problem_ids=list(request.problem_ids),
            requirement_ids=list(request.requirement_ids),
            cells=requests.cells(request.cells),
            lifecycle_step=request.lifecycle_step or 1,
            retry=Retry.of(request.city_id, request),
        )
        return await self.practice_reply(practice)

    async def GetPractice(self, request: pb.GetPracticeRequest, _context: Context) -> pb.Practice:
        practice_id = parse_id("practice_id", request.practice_id)
        caller = principal()
        moment = requests.as_of(request)
        if moment is None:
            practice = await run_command(self.app.readable_practice, caller, practice_id)
        else:
            practice = await run_command(self.app.practice_as_of, caller, practice_id, moment)
        return await self.practice_reply(practice)

    async def ClassifyPractice(
        self, request: pb.ClassifyPracticeRequest, _context: Context
    ) -> pb.Practice:
        practice_id = parse_id("practice_id", request.practice_id)
        practice = await run_command(
            self.app.classify_practice, practice_id, requests.cells(request.cells)
        )
        return await self.practice_reply(practice)

    async def SetPracticePeople(
        self, request: pb.SetPracticePeopleRequest, _context: Context
    ) -> pb.Practice:
        practice = await run_command(
            self.app.set_practice_people,
            parse_id("practice_id", request.practice_id),
            requests.people(request.authors),
            requests.people(request.participants),
        )
        return await self.practice_reply(practice)

    async def MoveLifecycle(
        self, request: pb.MoveLifecycleRequest, _context: Context
    ) -> pb.Practice:
        practice_id = parse_id("practice_id", request.practice_id)
        practice = await run_command(
            self.app.move_lifecycle, practice_id, request.step, request.reason
        )
        return await self.practice_reply(practice)

    async def ChangeStatus(self, request: pb.ChangeStatusRequest, _context: Context) -> pb.Practice:
        practice = await run_command(
            self.app.change_status,
            principal(),
            parse_id("practice_id", request.practice_id),
            request.status,
            request.reason,
        )
        return await self.practice_reply(practice)

    async def EditPassportSection(
        self, request: pb.EditPassportSectionRequest, _context: Context
    ) -> pb.Passport:
        practice = await run_command(
            self.app.edit_passport,
            parse_id("practice_id", request.practice_id),
            request.section,
            requests.content(request.section, request.content),
        )
        return messages.passport(practice)

    async def ApprovePassport(
        self, request: pb.ApprovePassportRequest, _context: Context
    ) -> pb.Passport:
        practice_id = parse_id("practice_id", request.practice_id)
        return messages.passport(
            await run_command(self.app.approve_passport, principal(), practice_id)
        )

    async def GetPassport(self, request: pb.GetPassportRequest, _context: Context) -> pb.Passport:
        practice_id = parse_id("practice_id", request.practice_id)
        return messages.passport(
            await run_command(self.app.readable_practice, principal(), practice_id)
        )

    async def GetSectionHistory(
        self, request: pb.GetSectionHistoryRequest, _context: Context
    ) -> pb.GetSectionHistoryResponse:
        practice_id = parse_id("practice_id", request.practice_id)
        history = await run_command(
            self.app.section_history, principal(), practice_id, request.section
        )
        return messages.section_history(request.section, history)

    async def DiffSection(
        self, request: pb.DiffSectionRequest, _context: Context
    ) -> pb.DiffSectionResponse:
        difference = await run_command(
            self.app.section_diff,
            principal(),
            parse_id("practice_id", request.practice_id),
            request.section,
            (request.from_version, request.to_version),
        )
        return pb.DiffSectionResponse(diff=difference)

    async def AdoptPractice(
        self, request: pb.AdoptPracticeRequest, _context: Context
    ) -> pb.Practice:
        practice = await run_command(
            self.app.adopt_practice,
            principal(),
            parse_id("source_practice_id", request.source_practice_id),
            request.city_id,
            request.title or None,
            Retry.of(request.city_id, request),
            problem_ids=list(request.problem_ids),
        )
        return await self.practice_reply(practice)

    async def GetLineage(
        self, request: pb.GetLineageRequest, _context: Context
    ) -> pb.GetLineageResponse:
        practice_id = parse_id("practice_id", request.practice_id)
        return messages.lineage(await run_command(self.app.lineage, principal(), practice_id))

    # Implementation plans

    async def SetImplementationPlan(
        self, request: pb.SetImplementationPlanRequest, _context: Context
    ) -> pb.ImplementationPlan:
        practice = await run_command(
            self.app.set_implementation_plan,
            principal(),
            parse_id("practice_id", request.practice_id),
            requests.milestones(request.milestones),
            requests.sources(request.resource_sources),
            list(request.regulation_proposals),
        )
        return messages.plan(practice)

    async def UpdateMilestone(
        self, request: pb.UpdateMilestoneRequest, _context: Context
    ) -> pb.ImplementationPlan:
        practice = await run_command(
            self.app.update_milestone,
            parse_id("practice_id", request.practice_id),
            request.number,
            request.status,
            request.due_date,
        )
        return messages.plan(practice)

    async def FileProgressReport(
        self, request: pb.FileProgressReportRequest, _context: Context
    ) -> pb.ImplementationPlan:
        practice = await run_command(
            self.app.file_progress_report,
            parse_id("practice_id", request.practice_id),
            request.month,
            requests.progress(request.indicators),
            request.note,
        )
        return messages.plan(practice)

    async def DecideOnPractice(
        self, request: pb.DecideOnPracticeRequest, _context: Context
    ) -> pb.ImplementationPlan:
        practice = await run_command(
            self.app.decide_on_practice,
            principal(),
            parse_id("practice_id", request.practice_id),
            request.decision,
            request.reason,
            requests.sources(request.resource_sources),
        )
        return messages.plan(practice)

    async def GetImplementationPlan(
        self, request: pb.GetImplementationPlanRequest, _context: Context
    ) -> pb.ImplementationPlan:
        practice_id = parse_id("practice_id", request.practice_id)
        return messages.plan(await run_command(self.app.get_practice, practice_id))

    async def FixPlanByAct(
        self, request: pb.FixPlanByActRequest, _context: Context
    ) -> pb.ImplementationPlan:
        practice = await run_command(
            self.app.fix_plan_by_act,
            principal(),
            parse_id("practice_id", request.practice_id),
            request.number,
            request.date,
            request.title,
        )
        return messages.plan(practice)

    async def SetRegulationChangeStatus(
        self, request: pb.SetRegulationChangeStatusRequest, _context: Context
    ) -> pb.ImplementationPlan:
        practice = await run_command(
            self.app.set_regulation_change_status,
            parse_id("practice_id", request.practice_id),
            request.number,
            request.status,
            request.note,
        )
        return messages.plan(practice)

    async def CorrectImplementationPlan(
        self, request: pb.CorrectImplementationPlanRequest, _context: Context
    ) -> pb.ImplementationPlan:
        practice = await run_command(
            self.app.correct_implementation_plan,
            principal(),
            parse_id("practice_id", request.practice_id),
            requests.milestones(request.milestones),
            requests.sources(request.resource_sources),
            request.reason,
        )
        return messages.plan(practice)

    async def SetResidentParticipants(
        self, request: pb.SetResidentParticipantsRequest, _context: Context
    ) -> pb.ImplementationPlan:
        practice = await run_command(
            self.app.set_resident_participants,
            parse_id("practice_id", request.practice_id),
            requests.people(request.residents),
        )
        return messages.plan(practice)

    async def SetInvolvementProcedure(
        self, request: pb.SetInvolvementProcedureRequest, _context: Context
    ) -> pb.ImplementationPlan:
        practice = await run_command(
            self.app.set_involvement_procedure,
            principal(),
            parse_id("practice_id", request.practice_id),
            request.text,
        )
        return messages.plan(practice)

    async def AdoptCharityEventStandard(
        self, request: pb.AdoptCharityEventStandardRequest, _context: Context
    ) -> pb.CharityEventStandard:
        standard = await run_command(
            self.app.adopt_charity_event_standard,
            principal(),
            check_city_id(request.city_id),
            title=request.title,
            text=request.text,
            act_number=request.act_number,
            act_date=request.act_date,
            piloted_activity_ids=list(request.piloted_activity_ids),
        )
        return messages.charity_event_standard(standard)

    async def GetCharityEventStandard(
        self, request: pb.GetCharityEventStandardRequest, _context: Context
    ) -> pb.CharityEventStandard:
        standard = await run_command(
            self.app.get_charity_event_standard, check_city_id(request.city_id)
        )
        return messages.charity_event_standard(standard)

    # Activities

    async def RegisterActivity(
        self, request: pb.RegisterActivityRequest, _context: Context
    ) -> pb.Activity:
        activity = await run_command(
            self.app.register_activity,
            request.city_id,
            request.kind,
            request.title,
            request.held_on,
            speakers=requests.people(request.speakers),
            participant_categories=list(request.participant_categories),
            joint_action=request.joint_action,
            branding_used=request.branding_used,
            retry=Retry.of(request.city_id, request),
        )
        return messages.activity(activity)

    async def GetActivity(self, request: pb.GetActivityRequest, _context: Context) -> pb.Activity:
        activity_id = parse_id("activity_id", request.activity_id)
        return messages.activity(await run_command(self.app.get_activity, activity_id))

    async def PublishAnnouncement(
        self, request: pb.PublishRequest, _context: Context
    ) -> pb.Activity:
        return await self._publish(self.app.publish_announcement, request)

    async def PublishPressRelease(
        self, request: pb.PublishRequest, _context: Context
    ) -> pb.Activity:
        return await self._publish(self.app.publish_press_release, request)

    async def _publish(
        self, use_case: Callable[[Any, str, datetime], Activity], request: pb.PublishRequest
    ) -> pb.Activity:
        moment = requests.published_at(request)
        activity_id = parse_id("activity_id", request.activity_id)
        return messages.activity(await run_command(use_case, activity_id, request.text, moment))

    async def FileActivityReport(
        self, request: pb.FileActivityReportRequest, _context: Context
    ) -> pb.Activity:
        activity = await run_command(
            self.app.file_activity_report,
            parse_id("activity_id", request.activity_id),
            requests.people(request.attendees),
            requests.photos(request.photos),
        )
        return messages.activity(activity)

    # Improvement facts and external-resource cases

    async def RecordImprovementFact(
        self, request: pb.RecordImprovementFactRequest, _context: Context
    ) -> pb.ImprovementFact:
        fact = await run_command(
            self.app.record_improvement_fact,
            request.city_id,
            month=request.month,
            title=request.title,
            description=request.description,
            evidence=list(request.evidence),
            retry=Retry.of(request.city_id, request),
        )
        return messages.fact(fact)

    async def GetImprovementFact(
        self, request: pb.GetImprovementFactRequest, _context: Context
    ) -> pb.ImprovementFact:
        fact_id = parse_id("fact_id", request.fact_id)
        return messages.fact(await run_command(self.app.get_improvement_fact, fact_id))

    async def JudgeImprovementFact(
        self, request: pb.JudgeImprovementFactRequest, _context: Context
    ) -> pb.ImprovementFact:
        fact = await run_command(
            self.app.judge_improvement_fact,
            parse_id("fact_id", request.fact_id),
            recognized=request.recognized,
            reason=request.reason,
        )
        return messages.fact(fact)

    async def RecordExternalResourceCase(
        self, request: pb.RecordExternalResourceCaseRequest, _context: Context
    ) -> pb.ExternalResourceCase:
        case = await run_command(
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
        return messages.case(case)

    async def GetExternalResourceCase(
        self, request: pb.GetExternalResourceCaseRequest, _context: Context
    ) -> pb.ExternalResourceCase:
        case_id = parse_id("case_id", request.case_id)
        return messages.case(await run_command(self.app.get_external_resource_case, case_id))

    # Read models

    async def ListProblems(
        self, request: pb.ListProblemsRequest, _context: Context
    ) -> pb.ListProblemsResponse:
        page = await views.list_problems(
            self.views_db(),
            requests.problem_query(request),
            request.page.page_size,
            request.page.page_token,
        )
        return messages.problems_page(page)

    async def ListActivities(
        self, request: pb.ListActivitiesRequest, _context: Context
    ) -> pb.ListActivitiesResponse:
        page = await views.list_activities(
            self.views_db(),
            requests.activity_query(request),
            request.page.page_size,
            request.page.page_token,
        )
        return messages.activities_page(page)

    async def ListPractices(
        self, request: pb.ListPracticesRequest, _context: Context
    ) -> pb.ListPracticesResponse:
        page = await views.list_practices(
            self.views_db(),
            requests.practice_query(request),
            request.page.page_size,
            request.page.page_token,
        )
        return messages.practices_page(page)

    async def ListImprovementFacts(
        self, request: pb.ListImprovementFactsRequest, _context: Context
    ) -> pb.ListImprovementFactsResponse:
        page = await views.list_improvement_facts(
            self.views_db(),
            requests.fact_query(request),
            request.page.page_size,
            request.page.page_token,
        )
        return messages.facts_page(page)

    async def ListExternalResourceCases(
        self, request: pb.ListExternalResourceCasesRequest, _context: Context
    ) -> pb.ListExternalResourceCasesResponse:
        page = await views.list_external_resource_cases(
            self.views_db(),
            requests.case_query(request),
            request.page.page_size,
            request.page.page_token,
        )
        return messages.cases_page(page)

    async def ListImplementationPlans(
        self, request: pb.ListImplementationPlansRequest, _context: Context
    ) -> pb.ListImplementationPlansResponse:
        page = await views.list_implementation_plans(
            self.views_db(),
            requests.plan_query(request),
            request.page.page_size,
            request.page.page_token,
        )
        return messages.plans_page(page)

    async def ListProgressReports(
        self, request: pb.ListProgressReportsRequest, _context: Context
    ) -> pb.ListProgressReportsResponse:
        page = await views.list_progress_reports(
            self.views_db(),
            requests.report_query(request),
            request.page.page_size,
            request.page.page_token,
        )
        return messages.reports_page(page)

    async def SearchLibrary(
        self, request: pb.SearchLibraryRequest, _context: Context
    ) -> pb.SearchLibraryResponse:
        page = await views.search_library(
            self.views_db(),
            requests.library_query(request),
            principal(),
            request.page.page_size,
            request.page.page_token,
        )
        return messages.library_page(page)

    async def GetClassifierMatrix(
        self, request: pb.GetClassifierMatrixRequest, _context: Context
    ) -> pb.ClassifierMatrix:
        if request.city_id and not principal().may_act_in(check_city_id(request.city_id)):
            # as the access table's InRequest answers (lmp_kit.access)
            msg = f"your token is not for city {request.city_id!r}"
            raise PermissionDeniedError(msg)
        matrix = await views.classifier_matrix(self.views_db(), request.city_id)
        return messages.classifier_matrix(matrix)

    async def GetCityDashboard(
        self, request: pb.GetCityDashboardRequest, _context: Context
    ) -> pb.CityDashboard:
        check_city_id(request.city_id)
        month = request.month or datetime.now(UTC).strftime("%Y-%m")
        city = await run_command(self.app.find_city, request.city_id)
        standard = await run_command(self.app.has_charity_event_standard, request.city_id)
        board = await views.city_dashboard(
            self.views_db(), request.city_id, month, city, charity_standard=standard
        )
        return messages.city_dashboard(board)


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
