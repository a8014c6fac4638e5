"""Stage 1 records, the working group rule, the voter target's history and the stage gates
(issue 18) on real servers: RPC -> event -> read model -> dashboard / kpi scorecard."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from kpi.metrics import previous_month
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2 as reg
from lmp_kit.consistency import HEADER

from .conftest import Slice

NOW = datetime.now(UTC)
THIS_MONTH = NOW.strftime("%Y-%m")
LAST_MONTH = previous_month(NOW)
MEMBERS = [
    reg.WorkingGroupMember(person_id="p1", name="Ivanova A.", role="chair"),
    reg.WorkingGroupMember(person_id="p2", name="Petrov B.", role="gsr_community_member"),
]


def token_of(call: Any) -> str:  # a grpc call object
    return str(next(v for k, v in call.initial_metadata() if k == HEADER))


@dataclass(frozen=True)
class Refusal:
    """A refused call's code and message (grpc types the message as optional)."""

    status: grpc.StatusCode
    message: str

    def code(self) -> grpc.StatusCode:
        return self.status

    def details(self) -> str:
        return self.message


def refused(call: Any, request: Any, metadata: Any) -> Refusal:  # a stub method
    with pytest.raises(grpc.RpcError) as raised:
        call(request, metadata=metadata, timeout=10)
    error: Any = raised.value
    return Refusal(error.code(), error.details() or "")


def prepare_stage_1(stack: Slice) -> str:
    """Every result of stage 1 recorded; the last write's consistency token."""
    api = stack.registry()
    head = stack.metadata("administration", cities=("sarov",))
    api.ApproveWorkingGroup(
        reg.ApproveWorkingGroupRequest(
            city_id="sarov",
            members=MEMBERS,
            order_number="12-r",
            order_date="2026-02-01",
            tasks=["Collect the lists", "Prepare the expertise"],
        ),
        metadata=head,
        timeout=10,
    )
    api.AddRegionalRequirement(
        reg.AddRegionalRequirementRequest(city_id="sarov", title="Support SONKO"),
        metadata=head,
        timeout=10,
    )
    api.RecordStagePlan(
        reg.RecordStagePlanRequest(
            city_id="sarov",
            plan="expertise_preparation",
            items=["Working group meets weekly"],
            document="Order 13-r",
            approved_on="2026-02-03",
        ),
        metadata=head,
        timeout=10,
    )
    problem = api.RegisterProblem(
        reg.RegisterProblemRequest(city_id="sarov", title="Dark yards"),
        metadata=head,
        timeout=10,
    ).problem.problem_id
    author = [reg.Person(person_id="a1", name="Author")]
    api.RegisterPractice(
        reg.RegisterPracticeRequest(
            city_id="sarov", kind="own", title="Lit yards", authors=author, problem_ids=[problem]
        ),
        metadata=head,
        timeout=10,
    )
    _, call = api.RegisterPractice.with_call(
        reg.RegisterPracticeRequest(
            city_id="sarov",
            kind="initiative",
            title="Yard budget",
            authors=author,
            problem_ids=[problem],
        ),
        metadata=head,
        timeout=10,
    )
    return token_of(call)


def test_advancing_a_city_with_nothing_done_is_refused_naming_what_is_missing(stack: Slice):
    stack.register_city("sarov")
    api = stack.registry()
    head = stack.metadata("administration", cities=("sarov",))

    nothing = refused(api.AdvanceStage, reg.AdvanceStageRequest(city_id="sarov", to_stage=2), head)
    skipped = refused(api.AdvanceStage, reg.AdvanceStageRequest(city_id="sarov", to_stage=7), head)

    assert nothing.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert nothing.details().startswith(
        "stage 1 of city 'sarov' has not produced what the methodology asks of it; still "
        "missing: the working group approved by order (ApproveWorkingGroup);"
    )
    assert "the expertise-preparation plan (RecordStagePlan expertise_preparation)" in (
        nothing.details()
    )
    assert skipped.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "stages advance one at a time, so the next is 2, not 7" in skipped.details()
    city = api.GetCity(reg.GetCityRequest(city_id="sarov"), metadata=head, timeout=10)
    assert city.stage == 1


def test_stage_1_records_are_on_the_city_and_the_dashboard_shows_what_each_stage_lacks(
    stack: Slice,
):
    stack.register_city("sarov")
    api = stack.registry()
    head = stack.metadata("administration", cities=("sarov",))
    token = prepare_stage_1(stack)
    with_token = (*head, (HEADER, token))

    city = api.GetCity(reg.GetCityRequest(city_id="sarov"), metadata=head, timeout=10)
    board = api.GetCityDashboard(
        reg.GetCityDashboardRequest(city_id="sarov"), metadata=with_token, timeout=10
    )

    assert list(city.working_group_tasks) == ["Collect the lists", "Prepare the expertise"]
    ((plan),) = city.stage_plans
    assert (plan.plan, plan.stage, list(plan.items), plan.document, plan.approved_on) == (
        "expertise_preparation",
        1,
        ["Working group meets weekly"],
        "Order 13-r",
        "2026-02-03",
    )
    assert board.stage == 1
    gaps = {g.stage: list(g.missing) for g in board.stage_gaps}
    assert gaps[1] == []
    assert gaps[2][0] == "the strategic session's plan (RecordStagePlan strategic_session)"
    assert [g.name for g in board.stage_gaps][:2] == ["preparation", "primary expertise"]

    advanced = api.AdvanceStage(
        reg.AdvanceStageRequest(city_id="sarov", to_stage=2), metadata=with_token, timeout=10
    )
    assert advanced.stage == 2
    lacking = refused(api.AdvanceStage, reg.AdvanceStageRequest(city_id="sarov", to_stage=3), head)
    assert lacking.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "at least 3 own practices put on the Expert Council's list" in lacking.details()


def test_a_working_group_without_a_gsr_community_member_is_refused(stack: Slice):
    stack.register_city("sarov")
    api = stack.registry()
    head = stack.metadata("administration", cities=("sarov",))
    before = stack.head()

    error = refused(
        api.ApproveWorkingGroup,
        reg.ApproveWorkingGroupRequest(
            city_id="sarov", members=MEMBERS[:1], order_number="1", order_date="2026-02-01"
        ),
        head,
    )

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "includes no member of the «Гражданин страны Росатом» community" in error.details()
    assert stack.head() == before


def test_a_bad_stage_plan_is_invalid_naming_the_field(stack: Slice):
    stack.register_city("sarov")
    head = stack.metadata("administration", cities=("sarov",))

    error = refused(
        stack.registry().RecordStagePlan,
        reg.RecordStagePlanRequest(city_id="sarov", plan="budget", items=["x"]),
        head,
    )

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("plan 'budget' is not one of: expertise_preparation")


def voting_target(stack: Slice, month: str) -> int:
    card = stack.kpi().GetScorecard(
        kpi_pb2.GetScorecardRequest(city_id="sarov", month=month),
        metadata=stack.metadata("working_group", cities=("sarov",)),
        timeout=30,
    )
    return next(i for i in card.indicators if i.name == "voting").target


def test_a_changed_voter_target_is_kept_with_history_and_kpi_scores_against_it_from_its_month(
    stack: Slice,
):
    office = stack.metadata("programme_office", cities=("*",))
    stack.registry().RegisterCity(
        reg.RegisterCityRequest(
            city_id="sarov",
            name="Sarov",
            region="Region",
            kind="zato",
            population=90_000,
            voter_target=4,
        ),
        metadata=office,
        timeout=10,
    )
    deadline = time.monotonic() + 60
    while voting_target(stack, THIS_MONTH) != 4 and time.monotonic() < deadline:
        time.sleep(0.3)

    city = stack.registry().ChangeVoterTarget(
        reg.ChangeVoterTargetRequest(city_id="sarov", voter_target=8, reason="population grew"),
        metadata=office,
        timeout=10,
    )

    assert city.voter_target == 8
    ((change),) = city.voter_target_history
    assert (change.voter_target, change.previous, change.reason, change.effective_month) == (
        8,
        4,
        "population grew",
        THIS_MONTH,
    )
    while voting_target(stack, THIS_MONTH) != 8 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert voting_target(stack, THIS_MONTH) == 8
    assert voting_target(stack, LAST_MONTH) == 4
