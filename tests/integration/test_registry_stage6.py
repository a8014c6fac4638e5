"""Stage 6 (implementation) and the rules of issue 18 over the registry's real gRPC API: the plan
fixed by a normative act, regulation changes with a status, corrections after the start with a
reason, resident participants and the involvement procedure, the city's charity-event standard;
a practice always solves a problem; nothing dated in a month that has not begun; the council
sitting an Expert Council session creates, failing K2 and K8 until the working group completes
it (docs/decisions/0002-registry.md, "Stage 6 records and rules"; 0006-kpi.md)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import pytest
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2 as pb
from lmp_contracts import registry
from lmp_kit.envelope import Envelope
from registry.projections import CITY_PRACTICES, CityPracticeProjection

from .conftest import Slice, council_concludes, eventually, stamp
from .test_registry_lists import applied, event, milestone, plan_set, status
from .test_registry_plans import OWNER, prioritized_practice

TODAY = datetime.now(UTC).date()
NEXT_MONTH = (TODAY.replace(day=1) + timedelta(days=32)).replace(day=1)
RESIDENTS = [pb.Person(person_id="r1", name="Sidorova V."), pb.Person(person_id="r2", name="Orlov")]
PHOTO = pb.Photo(uri="https://photos.example/run.jpg", sha256="c" * 64)


def refused(call, request, metadata) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call(request, metadata=metadata, timeout=10)
    return raised.value


@pytest.fixture
def stack(stack):
    stack.start("expertise")
    return stack


LAMPS = pb.Milestone(title="Lamps bought", owner=OWNER, due_date="2027-03-01")
BUDGET = pb.ResourceSource(kind="own_budget", amount="100000", currency="RUB")


def planned_practice(stack: Slice) -> str:
    practice_id = prioritized_practice(stack)
    stack.registry().SetImplementationPlan(
        pb.SetImplementationPlanRequest(
            practice_id=practice_id,
            milestones=[LAMPS],
            resource_sources=[BUDGET],
            regulation_proposals=["Amend the courtyard lighting rules", "Let residents vote"],
        ),
        metadata=stack.metadata("administration", cities=("sarov",)),
        timeout=10,
    )
    return practice_id


def test_a_plan_is_fixed_by_an_act_and_each_regulation_change_has_a_status(stack: Slice) -> None:
    practice_id = planned_practice(stack)
    stub = stack.registry()
    wg = stack.metadata("working_group", cities=("sarov",))
    head = stack.metadata("administration", cities=("sarov",))
    act = pb.FixPlanByActRequest(
        practice_id=practice_id, number="45-p", date=TODAY.isoformat(), title="On the plan"
    )
    future = pb.FixPlanByActRequest()
    future.CopyFrom(act)
    future.date = (TODAY + timedelta(days=1)).isoformat()

    def regulation(number: int, status: str, note: str = "") -> pb.SetRegulationChangeStatusRequest:
        return pb.SetRegulationChangeStatusRequest(
            practice_id=practice_id, number=number, status=status, note=note
        )

    not_issued = refused(stub.FixPlanByAct, future, head)
    not_head = refused(stub.FixPlanByAct, act, wg)
    stub.FixPlanByAct(act, metadata=head, timeout=10)
    again = refused(stub.FixPlanByAct, act, head)
    stub.SetRegulationChangeStatus(regulation(1, "drafted"), metadata=wg, timeout=10)
    stub.SetRegulationChangeStatus(
        regulation(1, "adopted", "Decision 47 of the city council"), metadata=wg, timeout=10
    )
    final = refused(stub.SetRegulationChangeStatus, regulation(1, "drafted"), wg)
    no_reason = refused(stub.SetRegulationChangeStatus, regulation(2, "rejected"), wg)
    no_such = refused(stub.SetRegulationChangeStatus, regulation(3, "drafted"), wg)
    plan = stub.GetImplementationPlan(
        pb.GetImplementationPlanRequest(practice_id=practice_id), metadata=wg, timeout=10
    )

    assert not_issued.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "after today" in str(not_issued.details())
    assert not_head.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (again.code(), str(again.details())) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        f"plan v1 of practice 'Lit courtyards' is already fixed by act 45-p of {TODAY}",
    )
    assert (final.code(), str(final.details())) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "regulation change 1 is already adopted",
    )
    assert (no_reason.code(), str(no_reason.details())) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "a regulation change rejected needs a note: why",
    )
    assert no_such.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (plan.act.number, plan.act.date, plan.act.plan_version) == ("45-p", str(TODAY), 1)
    assert [(c.number, c.status, c.note) for c in plan.regulation_changes] == [
        (1, "adopted", "Decision 47 of the city council"),
        (2, "proposed", ""),
    ]

    def listed() -> pb.ImplementationPlanEntry:
        plans = stub.ListImplementationPlans(
            pb.ListImplementationPlansRequest(city_id="sarov"), metadata=wg, timeout=10
        ).plans
        assert len(plans) == 1
        (entry,) = plans
        assert entry.regulation_changes_adopted == 1
        return entry

    entry = eventually(listed)
    assert (entry.act_number, entry.act_date, entry.regulation_changes) == ("45-p", str(TODAY), 2)


def test_after_the_start_the_plan_changes_only_by_a_correction_with_a_reason(
    stack: Slice,
) -> None:
    practice_id = planned_practice(stack)
    stub = stack.registry()
    wg = stack.metadata("working_group", cities=("sarov",))
    head = stack.metadata("administration", cities=("sarov",))
    later = pb.Milestone(title="Lamps bought", owner=OWNER, due_date="2027-04-01")

    def correction(reason: str) -> pb.CorrectImplementationPlanRequest:
        return pb.CorrectImplementationPlanRequest(
            practice_id=practice_id, milestones=[later], resource_sources=[BUDGET], reason=reason
        )

    early = refused(stub.CorrectImplementationPlan, correction("x"), wg)
    stub.ChangeStatus(
        pb.ChangeStatusRequest(practice_id=practice_id, status="implementing"),
        metadata=wg,
        timeout=10,
    )
    replanned = refused(
        stub.SetImplementationPlan,
        pb.SetImplementationPlanRequest(
            practice_id=practice_id, milestones=[LAMPS], resource_sources=[BUDGET]
        ),
        head,
    )
    reasonless = refused(stub.CorrectImplementationPlan, correction(""), wg)
    stub.CorrectImplementationPlan(
        correction("The supplier delivers a month later"), metadata=wg, timeout=10
    )
    for residents in (RESIDENTS[:1], RESIDENTS):
        stub.SetResidentParticipants(
            pb.SetResidentParticipantsRequest(practice_id=practice_id, residents=residents),
            metadata=wg,
            timeout=10,
        )
    stub.SetInvolvementProcedure(
        pb.SetInvolvementProcedureRequest(
            practice_id=practice_id, text="Residents sign up at the yard meeting"
        ),
        metadata=wg,
        timeout=10,
    )
    plan = stub.GetImplementationPlan(
        pb.GetImplementationPlanRequest(practice_id=practice_id), metadata=wg, timeout=10
    )

    assert early.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "SetImplementationPlan revises the plan" in str(early.details())
    assert replanned.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "CorrectImplementationPlan" in str(replanned.details())
    assert (reasonless.code(), str(reasonless.details())) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "a correction of the implementation plan needs a reason",
    )
    assert [(c.plan_version, c.reason) for c in plan.corrections] == [
        (2, "The supplier delivers a month later")
    ]
    assert (plan.plan_version, plan.milestones[0].due_date) == (2, "2027-04-01")
    assert [r.person_id for r in plan.resident_participants] == ["r1", "r2"]
    assert plan.resident_list_version == 2
    assert plan.involvement_procedure.text == "Residents sign up at the yard meeting"

    def listed() -> pb.ImplementationPlanEntry:
        plans = stub.ListImplementationPlans(
            pb.ListImplementationPlansRequest(city_id="sarov"), metadata=wg, timeout=10
        ).plans
        assert len(plans) == 1
        (entry,) = plans
        assert entry.involvement_procedure
        return entry

    entry = eventually(listed)
    assert (entry.corrections, entry.plan_version, entry.next_due_date) == (1, 2, "2027-04-01")
    assert entry.resident_participants == 2


def test_the_charity_event_standard_is_adopted_after_a_reported_charity_event(
    stack: Slice,
) -> None:
    stub = stack.registry()
    wg = stack.metadata("working_group", cities=("sarov",))
    neighbour = stack.metadata("working_group", cities=("seversk",))

    def activity(kind: str, title: str) -> str:
        return stub.RegisterActivity(
            pb.RegisterActivityRequest(
                city_id="sarov", kind=kind, title=title, held_on=TODAY.isoformat()
            ),
            metadata=wg,
            timeout=10,
        ).activity_id

    meeting = activity("working_meeting", "Yard meeting")
    charity = activity("charity_event", "Charity run")

    def standard(
        pilots: list[str], text: str = "How a charity run is held"
    ) -> pb.AdoptCharityEventStandardRequest:
        return pb.AdoptCharityEventStandardRequest(
            city_id="sarov",
            title="Charity event standard",
            text=text,
            act_number="46-p",
            act_date=TODAY.isoformat(),
            piloted_activity_ids=pilots,
        )

    none_yet = refused(
        stub.GetCharityEventStandard, pb.GetCharityEventStandardRequest(city_id="sarov"), wg
    )
    untried = refused(stub.AdoptCharityEventStandard, standard([]), wg)
    not_charity = refused(stub.AdoptCharityEventStandard, standard([meeting]), wg)
    unreported = refused(stub.AdoptCharityEventStandard, standard([charity]), wg)
    stub.FileActivityReport(
        pb.FileActivityReportRequest(activity_id=charity, attendees=RESIDENTS, photos=[PHOTO]),
        metadata=wg,
        timeout=10,
    )
    first = stub.AdoptCharityEventStandard(standard([charity]), metadata=wg, timeout=10)
    same = refused(stub.AdoptCharityEventStandard, standard([charity]), wg)
    revised = stub.AdoptCharityEventStandard(
        standard([charity], "How a charity run is held, with volunteers"), metadata=wg, timeout=10
    )
    foreign = refused(stub.AdoptCharityEventStandard, standard([charity]), neighbour)
    found = stub.GetCharityEventStandard(
        pb.GetCharityEventStandardRequest(city_id="sarov"), metadata=wg, timeout=10
    )

    assert none_yet.code() == grpc.StatusCode.NOT_FOUND
    assert (untried.code(), unreported.code()) == (grpc.StatusCode.FAILED_PRECONDITION,) * 2
    assert "piloted_activity_ids" in str(untried.details())
    assert "FileActivityReport first" in str(unreported.details())
    assert not_charity.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "is a working_meeting, not a charity_event" in str(not_charity.details())
    assert (first.version, list(first.piloted_activity_ids)) == (1, [charity])
    assert same.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert revised.version == 2
    assert foreign.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (found.version, found.text, found.act_number) == (
        2,
        "How a charity run is held, with volunteers",
        "46-p",
    )


def test_a_practice_without_a_problem_and_records_of_a_month_not_begun_are_refused(
    stack: Slice,
) -> None:
    stub = stack.registry()
    wg = stack.metadata("working_group", cities=("sarov",))
    stack.register_city("sarov")
    before = stack.head()
    month = f"{NEXT_MONTH:%Y-%m}"

    problemless = refused(
        stub.RegisterPractice,
        pb.RegisterPracticeRequest(city_id="sarov", kind="own", title="Lit yards", authors=[OWNER]),
        wg,
    )
    fact = refused(
        stub.RecordImprovementFact,
        pb.RecordImprovementFactRequest(
            city_id="sarov", month=month, title="Faster permits", evidence=["order 5"]
        ),
        wg,
    )
    case = refused(
        stub.RecordExternalResourceCase,
        pb.RecordExternalResourceCaseRequest(
            city_id="sarov",
            month=month,
            title="Playground",
            source_kind="donors",
            amount="5",
            currency="RUB",
            partner="Fund",
        ),
        wg,
    )
    activity = refused(
        stub.RegisterActivity,
        pb.RegisterActivityRequest(
            city_id="sarov", kind="other", title="Future meeting", held_on=NEXT_MONTH.isoformat()
        ),
        wg,
    )

    assert problemless.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert str(problemless.details()).startswith(
        "a practice is always the solution of a problem (практика всегда - решение проблемы): "
        "name in problem_ids at least one problem of city 'sarov'"
    )
    for refusal, what in (
        (fact, "the improvement fact's month"),
        (case, "the external-resource case's month"),
        (activity, "the month of held_on"),
    ):
        assert refusal.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert str(refusal.details()).startswith(
            f"{what} {month} has not begun (today is {TODAY.isoformat()}, UTC)"
        )
    assert stack.head() == before
    this_month = stub.RecordImprovementFact(
        pb.RecordImprovementFactRequest(
            city_id="sarov", month=f"{TODAY:%Y-%m}", title="Faster permits", evidence=["order 5"]
        ),
        metadata=wg,
        timeout=10,
    )
    assert this_month.month == f"{TODAY:%Y-%m}"


def test_a_council_sitting_fails_k2_and_k8_until_the_working_group_completes_it(
    stack: Slice,
) -> None:
    stub = stack.registry()
    wg = stack.metadata("working_group", cities=("sarov",))
    stack.register_city("sarov")
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
    council_concludes(stack, practice_id, "approved_for_passport")  # held on 2026-12-01
    month = "2026-12"
    kpi = stack.kpi()

    def card(**outcomes: str) -> kpi_pb2.Scorecard:
        found = kpi.GetScorecard(
            kpi_pb2.GetScorecardRequest(city_id="sarov", month=month), metadata=wg, timeout=10
        )
        knockouts = {k.code: k.outcome for k in found.knockouts}
        assert {code: knockouts[code] for code in outcomes} == outcomes
        return found

    def gap() -> pb.ActivityGap:
        gaps = stub.GetCityDashboard(
            pb.GetCityDashboardRequest(city_id="sarov", month=month), metadata=wg, timeout=10
        ).activity_gaps
        assert len(gaps) == 1
        return gaps[0]

    failing = eventually(lambda: card(K2="failed", K8="failed"))
    sitting = eventually(gap)
    reasons = {k.code: k.reason for k in failing.knockouts}
    publish = pb.PublishRequest(
        activity_id=sitting.activity_id,
        text="The council sat",
        published_at=stamp(datetime.now(UTC)),
    )
    stub.PublishAnnouncement(publish, metadata=wg, timeout=10)
    stub.PublishPressRelease(publish, metadata=wg, timeout=10)
    stub.FileActivityReport(
        pb.FileActivityReportRequest(
            activity_id=sitting.activity_id, attendees=RESIDENTS[:1], photos=[PHOTO]
        ),
        metadata=wg,
        timeout=10,
    )

    assert sitting.kind == "council_sitting"
    assert sitting.held_on == "2026-12-01"
    assert list(sitting.missing) == ["announcement", "press_release", "report"]
    assert list(sitting.to_do) == [
        (
            "recorded from the Expert Council's held session with its date only: the working "
            "group completes it, or the month fails K2 and K8"
        ),
        "publish its announcement (PublishAnnouncement)",
        "publish its press release (PublishPressRelease)",
        "file its report, the attendee list and photos (FileActivityReport)",
    ]
    sitting_named = (
        "'Заседание Экспертного совета 2026-12-01' (the Expert Council's sitting: the working "
        "group publishes it)"
    )
    assert sitting_named in reasons["K2"]
    assert sitting_named in reasons["K8"]
    eventually(lambda: card(K2="passed", K8="passed"))


def a_practice_through_stage_6() -> list[Envelope]:
    """A practice's stage 6 as its events tell it: fixed by an act, its regulation changes
    moved on, corrected after the start, its residents listed twice, its procedure set."""
    person = registry.Person(person_id="r1", name="Sidorova V.")
    plan = plan_set(1, [milestone(1, "Lamps bought", "2027-03-01")]).model_copy(
        update={"regulation_proposals": ["Amend the lighting rules", "Let residents vote"]}
    )
    contracts: list[Any] = [
        registry.PracticeRegistered(kind="own", title="Lit courtyards"),
        status("prioritized"),
        plan,
        status("planned"),
        registry.PracticePlanFixedByAct(
            number="45-p",
            act_date=date(2026, 12, 1),
            title="On the plan",
            plan_version=1,
            fixed_by="head",
        ),
        registry.PracticeRegulationChangeStatusSet(
            number=1, proposal="Amend the lighting rules", status="drafted", note=""
        ),
        registry.PracticeRegulationChangeStatusSet(
            number=1, proposal="Amend the lighting rules", status="adopted", note="Decision 47"
        ),
        status("implementing"),
        registry.PracticePlanCorrected(
            plan_version=2,
            approved_by="head",
            corrected_by="wg",
            reason="later lamps",
            milestones=[milestone(1, "Lamps bought", "2027-04-01")],
            resource_sources=[registry.ResourceSource(kind="donors", amount="9", currency="RUB")],
        ),
        registry.PracticeResidentParticipantsSet(residents=[person], list_version=1),
        registry.PracticeResidentParticipantsSet(
            residents=[person, registry.Person(person_id="r2", name="Orlov")], list_version=2
        ),
        registry.PracticeInvolvementProcedureSet(text="Sign up", version=1, set_by="wg"),
        registry.PracticeRegulationChangeStatusSet(
            number=2, proposal="Let residents vote", status="rejected", note="not needed"
        ),
    ]
    return [event(c, version, 200 + version) for version, c in enumerate(contracts, start=1)]


async def test_the_stage_6_read_model_is_the_same_whatever_the_order_and_repetition(mongo):
    client, name = mongo
    in_order = a_practice_through_stage_6()
    expected = await applied(client[f"{name}_0"], CityPracticeProjection(), in_order)
    shuffles = random.Random(6)  # noqa: S311  # a fixed order to shuffle by, no secret
    for attempt in range(1, 6):
        events = [*in_order, *shuffles.sample(in_order, 5)]
        shuffles.shuffle(events)
        found = await applied(client[f"{name}_{attempt}"], CityPracticeProjection(), events)
        await client.drop_database(f"{name}_{attempt}")
        assert found == expected, [e.aggregate_version for e in events]
    await client.drop_database(f"{name}_0")

    (practice,) = expected[CITY_PRACTICES]
    assert practice["act"] == {"number": "45-p", "date": "2026-12-01", "title": "On the plan"}
    assert (practice["regulation_changes"], practice["regulation_changes_adopted"]) == (2, 1)
    assert (practice["plan"]["plan_version"], practice["correction_versions"]) == (2, [2])
    assert [m["due_date"] for m in practice["milestones"]] == ["2027-04-01"]
    assert practice["resource_sources"] == [{"kind": "donors", "amount": "9", "currency": "RUB"}]
    assert (practice["resident_participants"], practice["involvement_procedure"]) == (2, True)
