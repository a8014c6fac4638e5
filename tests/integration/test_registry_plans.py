"""Implementation plan, monthly progress reports and decisions over the registry's real gRPC API."""

from __future__ import annotations

import grpc
import pytest
from lmp.registry.v1 import registry_pb2 as pb

from .conftest import council_concludes

PASSPORT = {
    "what": pb.SectionContent(text="Lit courtyards"),
    "why": pb.SectionContent(text="Dark yards are unsafe"),
    "how": pb.SectionContent(text="Residents choose lamps"),
    "with_what": pb.SectionContent(text="LED lamps and volunteers"),
    "cost": pb.SectionContent(cost=pb.Cost(amount="150000", currency="RUB")),
    "result": pb.SectionContent(
        indicators=[pb.Indicator(name="Lit yards", unit="yards", baseline="3", target="20")]
    ),
    "effects": pb.SectionContent(effects=pb.Effects(social="Safer evenings")),
    "sustainability": pb.SectionContent(text="Maintained by the municipal enterprise"),
    "scalability": pb.SectionContent(text="Any city with courtyards"),
}
OWNER = pb.Person(person_id="p1", name="Ivanova A.")
REPORT = [pb.IndicatorProgress(indicator="Lit yards", planned="5", actual="4")]


def refused(call, request, metadata) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call(request, metadata=metadata, timeout=10)
    return raised.value


@pytest.fixture
def stack(stack):
    stack.start("expertise")
    return stack


def prioritized_practice(stack) -> str:
    stub = stack.registry()
    wg = stack.metadata("working_group", cities=("sarov",))
    stub.RegisterCity(
        pb.RegisterCityRequest(
            city_id="sarov",
            name="Саров",
            region="Нижегородская область",
            kind="zato",
            population=92000,
            voter_target=5000,
        ),
        metadata=stack.metadata("programme_office", cities=("*",)),
        timeout=10,
    )
    practice_id = stub.RegisterPractice(
        pb.RegisterPracticeRequest(
            city_id="sarov",
            kind="own",
            title="Lit courtyards",
            authors=[OWNER],
            problem_ids=[stack.problem()],
        ),
        metadata=wg,
        timeout=10,
    ).practice_id
    council_concludes(stack, practice_id, "approved_for_passport")
    for section, content in PASSPORT.items():
        stub.EditPassportSection(
            pb.EditPassportSectionRequest(
                practice_id=practice_id, section=section, content=content
            ),
            metadata=wg,
            timeout=10,
        )
    stub.ApprovePassport(pb.ApprovePassportRequest(practice_id=practice_id), metadata=wg)
    council_concludes(
        stack,
        practice_id,
        "prioritized",
        priority_rank=1,
        expected_results="20 lit yards",
        deadlines="by 2027-10",
    )
    return str(practice_id)


def test_a_practice_is_planned_reported_on_monthly_and_stopped_over_grpc(stack):
    practice_id = prioritized_practice(stack)
    stub = stack.registry()
    wg = stack.metadata("working_group", cities=("sarov",))
    head = stack.metadata("administration", cities=("sarov",))
    plan_request = pb.SetImplementationPlanRequest(
        practice_id=practice_id,
        milestones=[pb.Milestone(title="Lamps bought", owner=OWNER, due_date="2027-03-01")],
        resource_sources=[
            pb.ResourceSource(kind="own_budget", amount="100000", currency="RUB"),
            pb.ResourceSource(kind="residents_funds", amount="50000", currency="RUB"),
        ],
        regulation_proposals=["Amend the courtyard lighting rules"],
    )

    negative = pb.SetImplementationPlanRequest()
    negative.CopyFrom(plan_request)
    negative.resource_sources[0].amount = "-1"
    bad_amount = refused(stub.SetImplementationPlan, negative, head)
    not_head = refused(stub.SetImplementationPlan, plan_request, wg)
    plan = stub.SetImplementationPlan(plan_request, metadata=head, timeout=10)
    early = refused(
        stub.DecideOnPractice,
        pb.DecideOnPracticeRequest(practice_id=practice_id, decision="stop", reason="no effect"),
        head,
    )
    stub.ChangeStatus(
        pb.ChangeStatusRequest(practice_id=practice_id, status="implementing"),
        metadata=wg,
        timeout=10,
    )
    stub.UpdateMilestone(
        pb.UpdateMilestoneRequest(practice_id=practice_id, number=1, status="done"),
        metadata=wg,
        timeout=10,
    )
    report = pb.FileProgressReportRequest(
        practice_id=practice_id, month="2027-02", indicators=REPORT
    )
    stub.FileProgressReport(report, metadata=wg, timeout=10)
    twice = refused(stub.FileProgressReport, report, wg)
    unknown = refused(
        stub.FileProgressReport,
        pb.FileProgressReportRequest(
            practice_id=practice_id,
            month="2027-03",
            indicators=[pb.IndicatorProgress(indicator="Happiness", planned="1", actual="1")],
        ),
        wg,
    )
    stub.DecideOnPractice(
        pb.DecideOnPracticeRequest(practice_id=practice_id, decision="stop", reason="no effect"),
        metadata=head,
        timeout=10,
    )
    after_stop = refused(
        stub.FileProgressReport,
        pb.FileProgressReportRequest(practice_id=practice_id, month="2027-03", indicators=REPORT),
        wg,
    )
    final = stub.GetImplementationPlan(
        pb.GetImplementationPlanRequest(practice_id=practice_id), metadata=wg, timeout=10
    )

    assert bad_amount.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "amount must be more than zero" in (bad_amount.details() or "")
    assert not_head.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (plan.status, plan.plan_version, plan.approved_by) == ("planned", 1, "tester")
    assert early.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert twice.code() == grpc.StatusCode.ALREADY_EXISTS
    assert unknown.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert after_stop.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "a stopped practice accepts no reports" in (after_stop.details() or "")
    assert final.status == "evaluated_stop"
    assert [(m.number, m.status) for m in final.milestones] == [(1, "done")]
    assert [(s.kind, s.amount) for s in final.resource_sources] == [
        ("own_budget", "100000"),
        ("residents_funds", "50000"),
    ]
    assert list(final.regulation_proposals) == ["Amend the courtyard lighting rules"]
    ((month, values),) = [(r.month, list(r.indicators)) for r in final.reports]
    assert month == "2027-02"
    assert [(v.indicator, v.unit, v.planned, v.actual) for v in values] == [
        ("Lit yards", "yards", "5", "4")
    ]
    assert [(d.decision, d.reason) for d in final.decisions] == [("stop", "no effect")]
