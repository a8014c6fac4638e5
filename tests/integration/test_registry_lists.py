"""The registry's lists over gRPC (ListProblems, ListActivities, ListPractices,
ListImprovementFacts, ListExternalResourceCases, ListImplementationPlans, ListProgressReports):
a city's collections from the registry's read models, paged with opaque tokens, filtered, and
never holding another city's records; and the practices' read model the same whatever the
order and repetition of the events it is given."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

import grpc
import pytest
from lmp.registry.v1 import registry_pb2 as reg
from lmp_contracts import registry
from lmp_contracts.base import EventContract
from lmp_kit.envelope import Envelope
from registry import views
from registry.projections import (
    CITY_PRACTICES,
    FACTS,
    PROGRESS_REPORTS,
    CityPracticeProjection,
    FactProjection,
)

from .conftest import Slice, stamp
from .test_registry_plans import OWNER, REPORT, prioritized_practice

T = TypeVar("T")
WAIT_S = 60.0


def until(read: Callable[[], T], done: Callable[[T], bool]) -> T:
    """The registry's read models follow its events: wait, bounded, for them to hold it."""
    deadline = time.monotonic() + WAIT_S
    while True:
        found = read()
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def pages(call: Callable[[reg.PageRequest], T], size: int) -> list[T]:
    """Every page of a list, following next_page_token."""
    answers: list[T] = []
    token = ""
    while True:
        answer = call(reg.PageRequest(page_size=size, page_token=token))
        answers.append(answer)
        token = answer.next_page_token  # type: ignore[attr-defined]  # every list response
        if not token:
            return answers


@pytest.fixture
def lists(stack: Slice) -> Slice:
    stack.register_city("sarov")
    stack.register_city("seversk")
    return stack


def test_a_citys_problems_are_listed_newest_first_page_by_page_and_filtered(lists):
    stack, api = lists, lists.registry()
    group = stack.metadata("working_group", cities=("sarov",))
    titles = ["Broken courtyard lights", "Snow on the roads", "No bus at night", "Dark park"]
    ids = [
        api.RegisterProblem(
            reg.RegisterProblemRequest(city_id="sarov", title=title), metadata=group, timeout=10
        ).problem.problem_id
        for title in titles
    ]
    api.RegisterProblem(
        reg.RegisterProblemRequest(city_id="seversk", title="Seversk's own problem"),
        metadata=stack.metadata("working_group", cities=("seversk",)),
        timeout=10,
    )
    api.SetProblemPriority(
        reg.SetProblemPriorityRequest(problem_id=ids[1], priority="high"),
        metadata=group,
        timeout=10,
    )
    api.MarkProblemSolved(
        reg.MarkProblemSolvedRequest(problem_id=ids[2]), metadata=group, timeout=10
    )
    portal = stack.metadata("portal", cities=("sarov",))

    def listed(**filters: object) -> list[str]:
        def page(request):
            return api.ListProblems(
                reg.ListProblemsRequest(city_id="sarov", page=request, **filters),  # type: ignore[arg-type]  # the filters named
                metadata=portal,
                timeout=10,
            )

        return [p.problem_id for answer in pages(page, 3) for p in answer.problems]

    everything = until(listed, lambda found: len(found) == len(titles))
    prioritized = until(lambda: listed(priority="high"), lambda found: len(found) == 1)
    unsolved = until(lambda: listed(unsolved_only=True), lambda found: len(found) == 3)

    assert everything == ids[::-1]  # newest first, over two pages of 3, no city but sarov
    assert prioritized == [ids[1]]
    assert ids[2] not in unsolved
    assert listed(text="dark PARK") == [ids[3]]
    (first,) = api.ListProblems(
        reg.ListProblemsRequest(city_id="sarov", page=reg.PageRequest(page_size=1)),
        metadata=portal,
        timeout=10,
    ).problems
    assert (first.title, first.priority, first.solved) == (titles[3], "", False)


def test_a_citys_activities_are_listed_latest_held_first_with_what_they_still_lack(lists):
    stack, api = lists, lists.registry()
    group = stack.metadata("working_group", cities=("sarov",))

    def register(title, held_on, kind="working_meeting", city="sarov"):
        return api.RegisterActivity(
            reg.RegisterActivityRequest(
                city_id=city,
                kind=kind,
                title=title,
                held_on=held_on,
                participant_categories=["administration", "residents"],
            ),
            metadata=stack.metadata("working_group", cities=(city,)),
            timeout=10,
        ).activity_id

    november = [register("Residents' council", "2026-11-05"), register("Yard day", "2026-11-20")]
    december = register("Strategic session", "2026-12-02", kind="strategic_session")
    register("Seversk meeting", "2026-11-10", city="seversk")
    api.PublishAnnouncement(
        reg.PublishRequest(
            activity_id=december, text="Come", published_at=stamp(datetime.now(UTC))
        ),
        metadata=group,
        timeout=10,
    )
    portal = stack.metadata("portal", cities=("sarov",))

    def listed(**filters: object) -> list[reg.ActivityEntry]:
        def page(request):
            return api.ListActivities(
                reg.ListActivitiesRequest(city_id="sarov", page=request, **filters),  # type: ignore[arg-type]  # the filters named
                metadata=portal,
                timeout=10,
            )

        return [a for answer in pages(page, 2) for a in answer.activities]

    everything = until(listed, lambda found: len(found) == 3 and any(a.announced for a in found))

    assert [a.activity_id for a in everything] == [december, november[1], november[0]]
    latest = everything[0]
    assert (latest.kind, latest.held_on, latest.announced, latest.press_released) == (
        "strategic_session",
        "2026-12-02",
        True,
        False,
    )
    assert list(latest.participant_categories) == ["administration", "residents"]
    assert [a.activity_id for a in listed(month="2026-11")] == november[::-1]
    assert [a.activity_id for a in listed(kind="strategic_session")] == [december]


def test_lists_refuse_another_citys_token_a_missing_city_bad_filters_and_foreign_tokens(lists):
    stack, api = lists, lists.registry()
    seversk = stack.metadata("portal", cities=("seversk",))
    sarov = stack.metadata("portal", cities=("sarov",))

    def refusal(call):
        with pytest.raises(grpc.RpcError) as refused:
            call()
        return refused.value.code()

    assert (
        refusal(
            lambda: api.ListProblems(
                reg.ListProblemsRequest(city_id="sarov"), metadata=seversk, timeout=10
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        refusal(lambda: api.ListActivities(reg.ListActivitiesRequest(), metadata=sarov, timeout=10))
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    bad = [
        reg.ListProblemsRequest(city_id="sarov", priority="urgent"),
        reg.ListProblemsRequest(
            city_id="sarov",
            page=reg.PageRequest(page_token="²³"),  # noqa: S106  # not a password
        ),
    ]
    for request in bad:
        assert (
            refusal(lambda r=request: api.ListProblems(r, metadata=sarov, timeout=10))
            == grpc.StatusCode.INVALID_ARGUMENT
        )
    # a token of another list is not one this list gave out
    api.RegisterProblem(
        reg.RegisterProblemRequest(city_id="sarov", title="One problem"),
        metadata=stack.metadata("working_group", cities=("sarov",)),
        timeout=10,
    )
    api.RegisterProblem(
        reg.RegisterProblemRequest(city_id="sarov", title="Another problem"),
        metadata=stack.metadata("working_group", cities=("sarov",)),
        timeout=10,
    )
    token = until(
        lambda: (
            api.ListProblems(
                reg.ListProblemsRequest(city_id="sarov", page=reg.PageRequest(page_size=1)),
                metadata=sarov,
                timeout=10,
            ).next_page_token
        ),
        bool,
    )
    assert token
    assert (
        refusal(
            lambda: api.ListActivities(
                reg.ListActivitiesRequest(city_id="sarov", page=reg.PageRequest(page_token=token)),
                metadata=sarov,
                timeout=10,
            )
        )
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    assert (
        refusal(
            lambda: api.ListActivities(
                reg.ListActivitiesRequest(city_id="sarov", month="November"),
                metadata=sarov,
                timeout=10,
            )
        )
        == grpc.StatusCode.INVALID_ARGUMENT
    )


def refusal(call: Callable[[], object]) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value.code()


def invalid(call: Callable[..., object], metadata: object, *requests: object) -> bool:
    """Whether each request is refused as INVALID_ARGUMENT (the others named if not)."""
    wrong = []
    for request in requests:
        with pytest.raises(grpc.RpcError) as refused:
            call(request, metadata=metadata, timeout=10)
        if refused.value.code() != grpc.StatusCode.INVALID_ARGUMENT:
            wrong.append((request, refused.value.code()))
    assert not wrong, wrong
    return True


def test_a_citys_practices_are_listed_newest_first_page_by_page_and_filtered(lists):
    stack, api = lists, lists.registry()
    group = stack.metadata("working_group", cities=("sarov",))
    lights = reg.Cell(function="infrastructure", method="external_interaction")
    funds = reg.Cell(function="social", method="external_resources")

    def register(title, kind="own", cells=(lights,), step=1, city="sarov"):
        return api.RegisterPractice(
            reg.RegisterPracticeRequest(
                city_id=city,
                kind=kind,
                title=title,
                authors=[OWNER],
                problem_ids=[stack.problem(city)],
                cells=list(cells),
                lifecycle_step=step,
            ),
            metadata=stack.metadata("working_group", cities=(city,)),
            timeout=10,
        ).practice_id

    ids = [
        register("Lit courtyards"),
        register("Yard benches by residents", kind="initiative", cells=(lights, funds)),
        register("Charity fund of the city", kind="external", cells=(funds,), step=4),
        register("Night buses", step=7),
    ]
    register("Seversk's own practice", city="seversk")
    api.ChangeStatus(
        reg.ChangeStatusRequest(practice_id=ids[0], status="primary_review"),
        metadata=group,
        timeout=10,
    )
    api.MoveLifecycle(
        reg.MoveLifecycleRequest(practice_id=ids[3], step=8), metadata=group, timeout=10
    )
    portal = stack.metadata("portal", cities=("sarov",))

    def listed(**filters: object) -> list[reg.PracticeEntry]:
        def page(request):
            return api.ListPractices(
                reg.ListPracticesRequest(city_id="sarov", page=request, **filters),  # type: ignore[arg-type]  # the filters named
                metadata=portal,
                timeout=10,
            )

        return [p for answer in pages(page, 3) for p in answer.practices]

    def ids_of(found: list[reg.PracticeEntry]) -> list[str]:
        return [p.practice_id for p in found]

    everything = until(
        listed,
        lambda found: (
            len(found) == len(ids)
            and {(p.status, p.lifecycle_step) for p in found}
            >= {("primary_review", 1), ("submitted", 8)}
        ),
    )

    assert ids_of(everything) == ids[::-1]  # newest first, over two pages of 3, sarov's only
    first = everything[-1]
    assert (first.kind, first.title, first.status, first.lifecycle_step) == (
        "own",
        "Lit courtyards",
        "primary_review",
        1,
    )
    assert [(c.function, c.method) for c in everything[2].cells] == [
        ("infrastructure", "external_interaction"),
        ("social", "external_resources"),
    ]
    assert ids_of(listed(kind="initiative")) == [ids[1]]
    assert ids_of(listed(status="primary_review")) == [ids[0]]
    assert ids_of(listed(status="submitted")) == [ids[3], ids[2], ids[1]]
    assert ids_of(listed(lifecycle_step=8)) == [ids[3]]
    assert ids_of(listed(lifecycle_step=4)) == [ids[2]]
    assert ids_of(listed(cell="social:external_resources")) == [ids[2], ids[1]]
    assert ids_of(listed(text="yard BENCHES")) == [ids[1]]
    assert ids_of(listed(kind="own", cell="infrastructure:external_interaction")) == [
        ids[3],
        ids[0],
    ]
    seversk = stack.metadata("portal", cities=("seversk",))
    theirs = api.ListPractices(
        reg.ListPracticesRequest(city_id="seversk"), metadata=seversk, timeout=10
    )
    assert not set(ids_of(list(theirs.practices))) & set(ids)
    assert invalid(
        api.ListPractices,
        portal,
        reg.ListPracticesRequest(city_id="sarov", kind="own_practice"),
        reg.ListPracticesRequest(city_id="sarov", status="done"),
        reg.ListPracticesRequest(city_id="sarov", lifecycle_step=13),
        reg.ListPracticesRequest(city_id="sarov", lifecycle_step=-1),
        reg.ListPracticesRequest(city_id="sarov", cell="infrastructure"),
        reg.ListPracticesRequest(),
    )
    assert (
        refusal(
            lambda: api.ListPractices(
                reg.ListPracticesRequest(city_id="sarov"), metadata=seversk, timeout=10
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )


def test_a_citys_improvement_facts_are_listed_by_month_and_verdict(lists):
    stack, api = lists, lists.registry()
    curator = stack.metadata("curator", cities=("sarov",))

    def record(title, month, city="sarov"):
        return api.RecordImprovementFact(
            reg.RecordImprovementFactRequest(
                city_id=city,
                month=month,
                title=title,
                description="What improved",
                evidence=["https://city.example/order-1", "https://city.example/photo-2"],
            ),
            metadata=stack.metadata("working_group", cities=(city,)),
            timeout=10,
        ).fact_id

    ids = [
        record("Permits in 3 days", "2026-10"),
        record("Open budget portal", "2026-11"),
        record("Queue-free registry office", "2026-11"),
    ]
    record("Seversk's fact", "2026-11", city="seversk")
    api.JudgeImprovementFact(
        reg.JudgeImprovementFactRequest(fact_id=ids[0], recognized=True),
        metadata=curator,
        timeout=10,
    )
    api.JudgeImprovementFact(
        reg.JudgeImprovementFactRequest(fact_id=ids[1], recognized=False, reason="No evidence"),
        metadata=curator,
        timeout=10,
    )
    portal = stack.metadata("portal", cities=("sarov",))

    def listed(**filters: object) -> list[reg.ImprovementFactEntry]:
        def page(request):
            return api.ListImprovementFacts(
                reg.ListImprovementFactsRequest(city_id="sarov", page=request, **filters),  # type: ignore[arg-type]  # the filters named
                metadata=portal,
                timeout=10,
            )

        return [f for answer in pages(page, 2) for f in answer.facts]

    everything = until(
        listed, lambda found: len(found) == len(ids) and sum(bool(f.verdict) for f in found) == 2
    )

    assert [f.fact_id for f in everything] == ids[::-1]
    assert [(f.verdict, f.reason) for f in everything] == [
        ("", ""),
        ("rejected", "No evidence"),
        ("recognized", ""),
    ]
    assert (everything[0].month, everything[0].evidence_count) == ("2026-11", 2)
    assert [f.fact_id for f in listed(month="2026-11")] == [ids[2], ids[1]]
    assert [f.fact_id for f in listed(verdict="undecided")] == [ids[2]]
    assert [f.fact_id for f in listed(verdict="recognized")] == [ids[0]]
    assert [f.fact_id for f in listed(month="2026-11", verdict="rejected")] == [ids[1]]
    assert listed(month="2026-09") == []
    assert invalid(
        api.ListImprovementFacts,
        portal,
        reg.ListImprovementFactsRequest(city_id="sarov", verdict="accepted"),
        reg.ListImprovementFactsRequest(city_id="sarov", month="2026-13"),
    )


def test_a_citys_external_resource_cases_are_listed_by_month_problem_and_source(lists):
    stack, api = lists, lists.registry()
    group = stack.metadata("working_group", cities=("sarov",))
    problem_id = api.RegisterProblem(
        reg.RegisterProblemRequest(city_id="sarov", title="Dark yards"), metadata=group, timeout=10
    ).problem.problem_id

    def record(title, month, source_kind="donors", problem="", city="sarov"):
        return api.RecordExternalResourceCase(
            reg.RecordExternalResourceCaseRequest(
                city_id=city,
                month=month,
                title=title,
                source_kind=source_kind,
                amount="250000.00",
                currency="RUB",
                partner="Regional fund",
                problem_id=problem,
            ),
            metadata=stack.metadata("working_group", cities=(city,)),
            timeout=10,
        ).case_id

    ids = [
        record("Lamps from the regional programme", "2026-10", "co_financing_programme"),
        record("Benches from a donor", "2026-11", problem=problem_id),
        record("Residents' fund for the park", "2026-11", "residents_funds"),
    ]
    record("Seversk's case", "2026-11", city="seversk")
    portal = stack.metadata("portal", cities=("sarov",))

    def listed(**filters: object) -> list[reg.ExternalResourceCaseEntry]:
        def page(request):
            return api.ListExternalResourceCases(
                reg.ListExternalResourceCasesRequest(city_id="sarov", page=request, **filters),  # type: ignore[arg-type]  # the filters named
                metadata=portal,
                timeout=10,
            )

        return [c for answer in pages(page, 2) for c in answer.cases]

    everything = until(listed, lambda found: len(found) == len(ids))

    assert [c.case_id for c in everything] == ids[::-1]
    benches = everything[1]
    assert (benches.month, benches.source_kind, benches.amount, benches.problem_id) == (
        "2026-11",
        "donors",
        "250000.00",
        problem_id,
    )
    assert [c.case_id for c in listed(month="2026-11")] == [ids[2], ids[1]]
    assert [c.case_id for c in listed(problem_id=problem_id)] == [ids[1]]
    assert [c.case_id for c in listed(source_kind="co_financing_programme")] == [ids[0]]
    assert invalid(
        api.ListExternalResourceCases,
        portal,
        reg.ListExternalResourceCasesRequest(city_id="sarov", problem_id="dark-yards"),
        reg.ListExternalResourceCasesRequest(city_id="sarov", source_kind="budget"),
        reg.ListExternalResourceCasesRequest(city_id="sarov", month="11/2026"),
    )


@pytest.fixture
def planning(stack: Slice) -> Slice:
    stack.start("expertise")
    return stack


def test_a_citys_plans_show_their_progress_and_their_reports_are_listed(planning):
    stack, api = planning, planning.registry()
    practice_id = prioritized_practice(stack)
    stack.register_city("seversk")
    wg = stack.metadata("working_group", cities=("sarov",))
    head = stack.metadata("administration", cities=("sarov",))
    api.SetImplementationPlan(
        reg.SetImplementationPlanRequest(
            practice_id=practice_id,
            milestones=[
                reg.Milestone(title="Lamps bought", owner=OWNER, due_date="2027-03-01"),
                reg.Milestone(title="Lamps installed", owner=OWNER, due_date="2027-06-01"),
                reg.Milestone(title="Residents asked", owner=OWNER, due_date="2027-07-01"),
            ],
            resource_sources=[reg.ResourceSource(kind="own_budget", amount="1000", currency="RUB")],
        ),
        metadata=head,
        timeout=10,
    )
    portal = stack.metadata("portal", cities=("sarov",))

    def plans(**filters: object) -> list[reg.ImplementationPlanEntry]:
        return list(
            api.ListImplementationPlans(
                reg.ListImplementationPlansRequest(city_id="sarov", **filters),  # type: ignore[arg-type]  # the filters named
                metadata=portal,
                timeout=10,
            ).plans
        )

    planned = until(plans, lambda found: len(found) == 1)
    api.ChangeStatus(
        reg.ChangeStatusRequest(practice_id=practice_id, status="implementing"),
        metadata=wg,
        timeout=10,
    )
    api.UpdateMilestone(
        reg.UpdateMilestoneRequest(practice_id=practice_id, number=1, status="done"),
        metadata=wg,
        timeout=10,
    )
    api.UpdateMilestone(
        reg.UpdateMilestoneRequest(practice_id=practice_id, number=2, status="in_progress"),
        metadata=wg,
        timeout=10,
    )
    for month in ("2027-01", "2027-02", "2027-03"):
        api.FileProgressReport(
            reg.FileProgressReportRequest(
                practice_id=practice_id, month=month, indicators=REPORT, note=f"Month {month}"
            ),
            metadata=wg,
            timeout=10,
        )
    api.DecideOnPractice(
        reg.DecideOnPracticeRequest(
            practice_id=practice_id, decision="continue", reason="on track"
        ),
        metadata=head,
        timeout=10,
    )
    (plan,) = until(plans, lambda found: bool(found) and found[0].last_decision == "continue")

    def reports(**filters: object) -> list[reg.ProgressReportEntry]:
        def page(request):
            return api.ListProgressReports(
                reg.ListProgressReportsRequest(city_id="sarov", page=request, **filters),  # type: ignore[arg-type]  # the filters named
                metadata=portal,
                timeout=10,
            )

        return [r for answer in pages(page, 2) for r in answer.reports]

    filed = until(lambda: reports(practice_id=practice_id), lambda found: len(found) == 3)

    assert [(p.practice_id, p.status, p.plan_version) for p in planned] == [
        (practice_id, "planned", 1)
    ]
    assert (plan.title, plan.status, plan.approved_by) == (
        "Lit courtyards",
        "evaluated_continue",
        "tester",
    )
    assert (
        plan.milestones,
        plan.milestones_done,
        plan.milestones_in_progress,
        plan.milestones_missed,
        plan.next_due_date,
    ) == (3, 1, 1, 0, "2027-06-01")
    assert (plan.reports, plan.last_report_month) == (3, "2027-03")
    assert [(s.kind, s.amount) for s in plan.resource_sources] == [("own_budget", "1000")]
    assert plan.HasField("planned_at")
    assert [p.practice_id for p in plans(status="evaluated_continue")] == [practice_id]
    assert plans(status="planned") == []
    assert [p.practice_id for p in plans(practice_id=practice_id)] == [practice_id]
    assert [r.month for r in filed] == ["2027-03", "2027-02", "2027-01"]  # over two pages
    assert (filed[0].note, [(v.indicator, v.unit, v.actual) for v in filed[0].indicators]) == (
        "Month 2027-03",
        [("Lit yards", "yards", "4")],
    )
    assert [r.month for r in reports(month="2027-02")] == ["2027-02"]
    # Seversk's own lists never hold Sarov's plan, even asked for it by id
    seversk = stack.metadata("administration", cities=("seversk",))
    assert not api.ListImplementationPlans(
        reg.ListImplementationPlansRequest(city_id="seversk", practice_id=practice_id),
        metadata=seversk,
        timeout=10,
    ).plans
    assert not api.ListProgressReports(
        reg.ListProgressReportsRequest(city_id="seversk", practice_id=practice_id),
        metadata=seversk,
        timeout=10,
    ).reports
    assert invalid(
        api.ListImplementationPlans,
        portal,
        reg.ListImplementationPlansRequest(city_id="sarov", status="submitted"),
        reg.ListImplementationPlansRequest(city_id="sarov", practice_id="lit-courtyards"),
    )
    assert (
        refusal(
            lambda: api.ListProgressReports(
                reg.ListProgressReportsRequest(city_id="sarov"), metadata=seversk, timeout=10
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )


# --- the practices' read model, whatever the order of its events ---------------------------

PRACTICE = uuid5(NAMESPACE_URL, "practice/lit-courtyards")
START = datetime(2026, 11, 1, tzinfo=UTC)


def event(contract: EventContract, version: int, nid: int, aggregate: UUID = PRACTICE) -> Envelope:
    return Envelope(
        event_id=uuid5(NAMESPACE_URL, f"event/{aggregate}/{version}"),
        event_type=contract.event_type,
        schema_version=contract.schema_version,
        service="registry",
        city_id="sarov",
        aggregate_id=aggregate,
        aggregate_version=version,
        notification_id=nid,
        occurred_at=START + timedelta(minutes=nid),
        traceparent="",
        payload=contract.model_dump(mode="json"),
    )


def milestone(number: int, title: str, due: str) -> registry.Milestone:
    owner = registry.Person(person_id="p1", name="Ivanova A.")
    return registry.Milestone(
        number=number, title=title, owner=owner, due_date=date.fromisoformat(due), status="planned"
    )


def plan_set(version: int, milestones: list[registry.Milestone]) -> registry.PracticePlanSet:
    return registry.PracticePlanSet(
        plan_version=version,
        approved_by="head",
        milestones=milestones,
        resource_sources=[registry.ResourceSource(kind="own_budget", amount="1", currency="RUB")],
        regulation_proposals=[],
    )


def status(value: str) -> registry.PracticeStatusChanged:
    return registry.PracticeStatusChanged(status=value, reason=value, review_id="")


def report(month: str) -> registry.PracticeProgressReported:
    value = registry.ReportValue(indicator="Lit yards", unit="yards", planned="5", actual="4")
    return registry.PracticeProgressReported(month=month, indicators=[value], note=month)


def a_practice_planned_revised_reported_and_decided() -> list[Envelope]:
    """A practice's life as its events tell it, versions 1 to 14."""
    contracts: list[Any] = [
        registry.PracticeRegistered(
            kind="own",
            title="Lit courtyards",
            cells=[
                registry.Cell(function="infrastructure", method="own_resources", sub_methods=[])
            ],
        ),
        status("prioritized"),
        plan_set(1, [milestone(1, "Lamps bought", "2027-03-01")]),
        status("planned"),
        registry.PracticeMilestoneUpdated(
            number=1, status="in_progress", due_date=date(2027, 3, 1)
        ),
        plan_set(
            2,
            [
                milestone(1, "Lamps bought", "2027-03-01"),
                milestone(2, "Lamps installed", "2027-06-01"),
                milestone(3, "Residents asked", "2027-07-01"),
            ],
        ),
        status("implementing"),
        registry.PracticeMilestoneUpdated(number=1, status="done", due_date=date(2027, 2, 20)),
        report("2027-01"),
        registry.PracticeMilestoneUpdated(number=2, status="missed", due_date=date(2027, 6, 1)),
        registry.PracticeLifecycleMoved(step=2, name="solution_options", reason=""),
        report("2027-02"),
        registry.PracticeDecided(
            decision="change_resources",
            reason="more lamps",
            resource_sources=[registry.ResourceSource(kind="donors", amount="9", currency="RUB")],
            decided_by="head",
        ),
        status("evaluated_change_resources"),
    ]
    return [event(c, version, 100 + version) for version, c in enumerate(contracts, start=1)]


async def applied(db, projection, envelopes: list[Envelope]) -> dict[str, list[dict[str, Any]]]:
    async with db.client.start_session() as session:
        for envelope in envelopes:
            await projection.apply(envelope, db, session)
    return {
        name: [doc async for doc in db[name].find({}).sort("_id", 1)]
        for name in projection.collections
    }


async def test_the_practices_read_model_is_the_same_whatever_the_order_and_repetition(mongo):
    client, name = mongo
    in_order = a_practice_planned_revised_reported_and_decided()
    expected = await applied(client[f"{name}_0"], CityPracticeProjection(), in_order)
    shuffles = random.Random(17)  # noqa: S311  # a fixed order to shuffle by, no secret
    for attempt in range(1, 6):
        events = [*in_order, *shuffles.sample(in_order, 5)]
        shuffles.shuffle(events)
        found = await applied(client[f"{name}_{attempt}"], CityPracticeProjection(), events)
        await client.drop_database(f"{name}_{attempt}")
        assert found == expected, [e.aggregate_version for e in events]
    await client.drop_database(f"{name}_0")

    (practice,) = expected[CITY_PRACTICES]
    assert (practice["status"], practice["lifecycle_step"], practice["plan"]["plan_version"]) == (
        "evaluated_change_resources",
        2,
        2,
    )
    # milestone 1's update before plan version 2 is superseded by the one after it
    assert [(m["number"], m["status"], m["due_date"]) for m in practice["milestones"]] == [
        (1, "done", "2027-02-20"),
        (2, "missed", "2027-06-01"),
        (3, "planned", "2027-07-01"),
    ]
    assert (practice["next_due_date"], practice["reports"], practice["last_report_month"]) == (
        "2027-07-01",
        2,
        "2027-02",
    )
    assert practice["resource_sources"] == [{"kind": "donors", "amount": "9", "currency": "RUB"}]
    assert (practice["plan_seq"], practice["last_decision"]) == (103, "change_resources")
    assert [r["month"] for r in expected[PROGRESS_REPORTS]] == ["2027-01", "2027-02"]


async def test_a_judgement_that_arrives_before_its_fact_still_stands(mongo):
    client, name = mongo
    fact = uuid5(NAMESPACE_URL, "fact/permits")
    recorded = event(
        registry.ImprovementFactRecorded(
            month="2026-11", title="Permits in 3 days", description="", evidence=["https://x"]
        ),
        1,
        1,
        fact,
    )
    rejected = event(registry.ImprovementFactRejected(reason="No evidence"), 2, 2, fact)

    in_order = await applied(client[name], FactProjection(), [recorded, rejected])
    await client.drop_database(name)
    reversed_twice = await applied(client[name], FactProjection(), [rejected, recorded, rejected])

    assert reversed_twice == in_order
    (doc,) = in_order[FACTS]
    assert (doc["verdict"], doc["reason"], doc["month"]) == ("rejected", "No evidence", "2026-11")


async def test_plans_are_paged_newest_plan_first(mongo):
    client, name = mongo
    db = client[name]
    projection = CityPracticeProjection()
    await projection.prepare(db)
    practices = [uuid5(NAMESPACE_URL, f"practice/{n}") for n in range(5)]
    events = []
    for n, practice in enumerate(practices):
        registered = registry.PracticeRegistered(kind="own", title=f"Practice {n}")
        events.append(event(registered, 1, n + 1, practice))
    # plans set in another order than the registrations; practice 4 has none
    for nid, n in enumerate((2, 0, 3, 1), start=10):
        events.append(
            event(plan_set(1, [milestone(1, "Done", "2027-01-01")]), 2, nid, practices[n])
        )
    await applied(db, projection, events)

    found: list[str] = []
    token = ""
    while True:
        page = await views.list_implementation_plans(db, views.PlanQuery(city_id="sarov"), 1, token)
        found.extend(str(doc["_id"]) for doc in page.documents)
        token = page.next_token
        if not token:
            break

    assert found == [str(practices[n]) for n in (1, 3, 0, 2)]
    everything = await views.list_practices(db, views.PracticeQuery(city_id="sarov"), 0, "")
    assert [str(doc["_id"]) for doc in everything.documents] == [str(p) for p in practices[::-1]]
