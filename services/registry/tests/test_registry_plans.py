from __future__ import annotations

import pytest
from lmp.registry.v1 import registry_pb2 as pb
from lmp_kit.auth import Principal
from lmp_kit.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from registry.access import policy
from registry.application import RegistryApplication
from registry.domain import Problem

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def person(role: str, *cities: str) -> Principal:
    return Principal(f"{role}-1", frozenset({role}), frozenset(cities or ("sarov",)), frozenset())


WG = person("working_group")
EXPERT = person("expert")
HEAD = person("administration")
SEVERSK_HEAD = person("administration", "seversk")
OWNER = {"person_id": "p1", "name": "Ivanova A."}
PASSPORT = {
    "what": {"text": "Lit courtyards"},
    "why": {"text": "Dark yards are unsafe"},
    "how": {"text": "Residents choose lamps"},
    "with_what": {"text": "LED lamps, volunteers"},
    "cost": {"amount": "150000.00", "currency": "RUB"},
    "result": {
        "indicators": [
            {"name": "Lit yards", "unit": "yards", "baseline": "3", "target": "20"},
            {"name": "Complaints", "unit": "per month", "baseline": "40", "target": "5"},
        ]
    },
    "effects": {"social": "Safer evenings", "economic": "", "political": "Trust"},
    "sustainability": {"text": "Maintained by the municipal enterprise"},
    "scalability": {"text": "Any city with courtyards"},
}
MILESTONES = [
    {"title": "Lamps bought", "owner": OWNER, "due_date": "2027-03-01"},
    {"title": "Lamps installed", "owner": OWNER, "due_date": "2027-06-01", "status": "planned"},
]
SOURCES = [
    {"kind": "own_budget", "amount": "100000", "currency": "RUB"},
    {"kind": "residents_funds", "amount": "50000.50", "currency": "RUB"},
]
PROPOSALS = ["Amend the courtyard lighting rules"]
VALUES = [
    {"indicator": "Lit yards", "planned": "5", "actual": "4"},
    {"indicator": "complaints", "planned": "35", "actual": "38"},
]


@pytest.fixture
def app():
    application = RegistryApplication(env=MEMORY)
    yield application
    application.close()


def events_of(app):
    return [
        (n.topic.rpartition(":")[2], app.mapper.to_domain_event(n))
        for n in app.recorder.select_notifications(start=None, limit=1000)
    ]


def count(app):
    return len(events_of(app))


def prioritized(app, upstream, title="Lit courtyards"):
    practice = app.register_practice(
        WG, "sarov", "own", title, authors=[OWNER], problem_ids=[a_problem(app)]
    )
    app.change_status(WG, practice.id, "primary_review", "")
    upstream.conclude(practice.id, "approved_for_passport", review=f"primary-{title}")
    for section, content in PASSPORT.items():
        app.edit_passport(practice.id, section, content)
    app.approve_passport(WG, practice.id)
    upstream.conclude(practice.id, "prioritized", 1, review=f"secondary-{title}")
    return practice


def planned(app, upstream, **more):
    practice = prioritized(app, upstream, **more)
    app.set_implementation_plan(HEAD, practice.id, MILESTONES, SOURCES, PROPOSALS)
    return practice


def implementing(app, upstream):
    practice = planned(app, upstream)
    app.change_status(HEAD, practice.id, "implementing", "")
    return practice


def test_the_head_of_administration_sets_the_plan_and_the_practice_becomes_planned(app, upstream):
    practice = prioritized(app, upstream)

    done = app.set_implementation_plan(HEAD, practice.id, MILESTONES, SOURCES, PROPOSALS)

    assert done.status == "planned"
    (kind, plan_set), (_, status) = events_of(app)[-2:]
    assert kind == "Practice.PlanSet"
    assert plan_set.plan_version == 1
    assert plan_set.approved_by == "administration-1"
    assert plan_set.milestones == [
        {
            "number": 1,
            "title": "Lamps bought",
            "owner": OWNER,
            "due_date": "2027-03-01",
            "status": "planned",
        },
        {
            "number": 2,
            "title": "Lamps installed",
            "owner": OWNER,
            "due_date": "2027-06-01",
            "status": "planned",
        },
    ]
    assert plan_set.resource_sources == [
        {"kind": "own_budget", "amount": "100000", "currency": "RUB"},
        {"kind": "residents_funds", "amount": "50000.50", "currency": "RUB"},
    ]
    assert plan_set.regulation_proposals == PROPOSALS
    assert (status.status, status.reason) == ("planned", "implementation plan v1")


def test_a_plan_can_be_revised_while_planned_but_not_repeated_or_set_after_implementation_starts(
    app, upstream
):
    practice = planned(app, upstream)

    revised = app.set_implementation_plan(HEAD, practice.id, MILESTONES[:1], SOURCES, [])
    with pytest.raises(FailedPreconditionError) as same:
        app.set_implementation_plan(HEAD, practice.id, MILESTONES[:1], SOURCES, [])
    app.change_status(HEAD, practice.id, "implementing", "")
    with pytest.raises(FailedPreconditionError) as late:
        app.set_implementation_plan(HEAD, practice.id, MILESTONES, SOURCES, [])

    assert revised.plan is not None
    assert revised.plan["plan_version"] == 2
    assert len(revised.plan["milestones"]) == 1
    assert same.value.message == (
        "the implementation plan of practice 'Lit courtyards' already says exactly this"
    )
    assert late.value.message == (
        "the implementation of practice 'Lit courtyards' has started (implementing): only its "
        "milestones and resource sources change, each change a correction with a reason "
        "(CorrectImplementationPlan)"
    )


def test_a_plan_needs_a_prioritized_practice(app):
    practice = app.register_practice(
        WG, "sarov", "own", "Early plan", authors=[OWNER], problem_ids=[a_problem(app)]
    )
    before = count(app)

    with pytest.raises(FailedPreconditionError) as early:
        app.set_implementation_plan(HEAD, practice.id, MILESTONES, SOURCES, [])

    assert early.value.message == (
        "practice 'Early plan' is submitted; an implementation plan is set only for a "
        "prioritized practice (or revised while it is planned)"
    )
    assert count(app) == before


def test_planned_is_reached_only_through_the_plan_and_evaluations_only_through_a_decision(
    app, upstream
):
    practice = prioritized(app, upstream)

    with pytest.raises(FailedPreconditionError) as by_hand:
        app.change_status(HEAD, practice.id, "planned", "")

    assert by_hand.value.message == (
        "a practice becomes planned when the administration sets its implementation plan"
    )
    app.set_implementation_plan(HEAD, practice.id, MILESTONES, SOURCES, [])
    app.change_status(HEAD, practice.id, "implementing", "")
    with pytest.raises(FailedPreconditionError) as evaluation:
        app.change_status(HEAD, practice.id, "evaluated_stop", "no effect")
    assert evaluation.value.message == (
        "a practice becomes evaluated_stop by a decision (DecideOnPractice)"
    )


@pytest.mark.parametrize(
    ("actor", "error"),
    [
        (WG, PermissionDeniedError),
        (EXPERT, PermissionDeniedError),
        # another city's practice is not found, as if it did not exist
        (SEVERSK_HEAD, NotFoundError),
    ],
)
async def test_only_the_administration_of_the_city_approves_a_plan(app, upstream, actor, error):
    practice = prioritized(app, upstream)
    before = count(app)

    with pytest.raises(error):
        await policy(app).admit(
            "SetImplementationPlan",
            pb.SetImplementationPlanRequest(practice_id=str(practice.id)),
            actor,
        )

    await policy(app).admit(
        "SetImplementationPlan", pb.SetImplementationPlanRequest(practice_id=str(practice.id)), HEAD
    )
    assert count(app) == before
    assert app.get_practice(practice.id).status == "prioritized"


@pytest.mark.parametrize(
    ("milestones", "sources", "message"),
    [
        (
            MILESTONES,
            [{"kind": "own_budget", "amount": "-5", "currency": "RUB"}],
            "resource source #1 amount must be more than zero, not '-5'",
        ),
        (
            MILESTONES,
            [{"kind": "lottery", "amount": "5", "currency": "RUB"}],
            (
                "resource source #1 kind 'lottery' is not one of: own_budget, "
                "co_financing_programme, donors, public_private_partnership, residents_funds"
            ),
        ),
        (
            MILESTONES,
            [{"kind": "donors", "amount": "5", "currency": "rub"}],
            (
                "resource source #1 currency must be an ISO 4217 code of 3 capital letters "
                "(e.g. RUB), not 'rub'"
            ),
        ),
        (MILESTONES, [], "an implementation plan needs at least one resource source"),
        (
            MILESTONES,
            [SOURCES[0], SOURCES[0]],
            "each resource source kind is listed at most once per currency",
        ),
        (
            [{"title": "Lamps bought", "owner": OWNER, "due_date": "2101-01-01"}],
            SOURCES,
            "milestone #1 due_date 2101-01-01 is out of range 2000-01-01 to 2100-12-31",
        ),
        (
            [{"title": "Lamps bought", "owner": OWNER, "due_date": "1 March"}],
            SOURCES,
            "milestone #1 due_date must be a date YYYY-MM-DD, not '1 March'",
        ),
        (
            [{"title": "Lamps bought", "owner": {}, "due_date": "2027-03-01"}],
            SOURCES,
            "milestone #1 owner #1 needs a person_id (1-200 characters, no spaces)",
        ),
        (
            [{"title": "x", "owner": OWNER, "due_date": "2027-03-01", "status": "late"}],
            SOURCES,
            "milestone #1 status 'late' is not one of: planned, in_progress, done, missed",
        ),
        ([], SOURCES, "an implementation plan needs at least one milestone"),
        ([MILESTONES[0], MILESTONES[0]], SOURCES, "milestones must have distinct titles"),
    ],
)
def test_bad_plan_input_is_invalid_and_records_nothing(app, upstream, milestones, sources, message):
    practice = prioritized(app, upstream)
    before = count(app)

    with pytest.raises(InvalidArgumentError) as refused:
        app.set_implementation_plan(HEAD, practice.id, milestones, sources, [])

    assert refused.value.message == message
    assert count(app) == before
    assert app.get_practice(practice.id).plan is None


def test_a_milestone_changes_status_and_due_date(app, upstream):
    practice = implementing(app, upstream)

    updated = app.update_milestone(practice.id, 2, "in_progress", "2027-07-01")

    assert updated.plan is not None
    assert updated.plan["milestones"][1]["status"] == "in_progress"
    assert updated.plan["milestones"][1]["due_date"] == "2027-07-01"
    (kind, event) = events_of(app)[-1]
    assert kind == "Practice.MilestoneUpdated"
    assert (event.number, event.status, event.due_date) == (2, "in_progress", "2027-07-01")
    kept = app.update_milestone(practice.id, 2, "done", "")
    assert kept.plan is not None
    assert kept.plan["milestones"][1]["due_date"] == "2027-07-01"


@pytest.mark.parametrize(
    ("number", "status", "due_date", "refusal"),
    [
        (3, "done", "", (InvalidArgumentError, "the plan has milestones 1 to 2, not 3")),
        (
            1,
            "finished",
            "",
            (
                InvalidArgumentError,
                "milestone status 'finished' is not one of: planned, in_progress, done, missed",
            ),
        ),
        (
            1,
            "done",
            "1999-12-31",
            (
                InvalidArgumentError,
                "milestone due_date 1999-12-31 is out of range 2000-01-01 to 2100-12-31",
            ),
        ),
        (
            1,
            "planned",
            "",
            (FailedPreconditionError, "milestone 1 is already planned, due 2027-03-01"),
        ),
    ],
)
def test_a_bad_milestone_update_is_refused_and_records_nothing(
    upstream, number, status, due_date, refusal
):
    app = upstream.app
    (error, message) = refusal
    practice = implementing(app, upstream)
    before = count(app)

    with pytest.raises(error) as refused:
        app.update_milestone(practice.id, number, status, due_date)

    assert refused.value.message == message
    assert count(app) == before


async def test_a_milestone_needs_a_plan_and_a_writer_role(app, upstream):
    practice = prioritized(app, upstream)
    with pytest.raises(FailedPreconditionError) as no_plan:
        app.update_milestone(practice.id, 1, "done", "")
    with pytest.raises(PermissionDeniedError):
        await policy(app).admit(
            "UpdateMilestone", pb.UpdateMilestoneRequest(practice_id=str(practice.id)), EXPERT
        )
    assert no_plan.value.message == "practice 'Lit courtyards' has no implementation plan"


def test_a_monthly_report_records_planned_and_actual_per_passport_indicator(app, upstream):
    practice = implementing(app, upstream)

    reported = app.file_progress_report(practice.id, "2027-02", VALUES, "cold month")

    (kind, event) = events_of(app)[-1]
    assert kind == "Practice.ProgressReported"
    assert event.month == "2027-02"
    assert event.note == "cold month"
    assert event.indicators == [
        {"indicator": "Lit yards", "unit": "yards", "planned": "5", "actual": "4"},
        {"indicator": "Complaints", "unit": "per month", "planned": "35", "actual": "38"},
    ]
    assert list(reported.reports) == ["2027-02"]


def test_a_report_is_accepted_while_planned(app, upstream):
    practice = planned(app, upstream)

    reported = app.file_progress_report(practice.id, "2027-01", VALUES, "")

    assert "2027-01" in reported.reports


def test_a_second_report_for_the_same_month_is_already_exists(app, upstream):
    practice = implementing(app, upstream)
    app.file_progress_report(practice.id, "2027-02", VALUES, "")
    before = count(app)

    with pytest.raises(AlreadyExistsError) as twice:
        app.file_progress_report(practice.id, "2027-02", VALUES, "again")

    assert (
        twice.value.message == "practice 'Lit courtyards' already has a progress report for 2027-02"
    )
    assert count(app) == before


@pytest.mark.parametrize(
    ("month", "values", "message"),
    [
        (
            "2027-02",
            [*VALUES, {"indicator": "Happiness", "planned": "1", "actual": "1"}],
            (
                "value #3: 'Happiness' is not a result indicator of the passport "
                "(known: Lit yards, Complaints)"
            ),
        ),
        (
            "2027-02",
            VALUES[:1],
            "a progress report covers every result indicator; missing: Complaints",
        ),
        ("2027-02", [VALUES[0], VALUES[0], VALUES[1]], "indicator 'Lit yards' is reported twice"),
        (
            "2027-02",
            [{"indicator": "Lit yards", "planned": "five", "actual": "4"}, VALUES[1]],
            "Lit yards planned must be a decimal number, not 'five'",
        ),
        (
            "2027-13",
            VALUES,
            "month must be YYYY-MM between 2000-01 and 2100-12 (e.g. 2026-11), not '2027-13'",
        ),
    ],
)
def test_a_bad_report_is_invalid_and_records_nothing(app, upstream, month, values, message):
    practice = implementing(app, upstream)
    before = count(app)

    with pytest.raises(InvalidArgumentError) as refused:
        app.file_progress_report(practice.id, month, values, "")

    assert refused.value.message == message
    assert count(app) == before


async def test_reports_are_refused_before_the_plan_and_for_other_roles(app, upstream):
    practice = prioritized(app, upstream)
    before = count(app)

    with pytest.raises(FailedPreconditionError) as early:
        app.file_progress_report(practice.id, "2027-02", VALUES, "")
    with pytest.raises(PermissionDeniedError):
        await policy(app).admit(
            "FileProgressReport", pb.FileProgressReportRequest(practice_id=str(practice.id)), EXPERT
        )

    assert early.value.message == (
        "practice 'Lit courtyards' is prioritized; progress reports are filed only while it is "
        "planned or implementing"
    )
    assert count(app) == before


def test_a_stopped_practice_accepts_no_more_reports(app, upstream):
    practice = implementing(app, upstream)
    app.file_progress_report(practice.id, "2027-02", VALUES, "")

    stopped = app.decide_on_practice(HEAD, practice.id, "stop", "no effect after a year", [])
    before = count(app)
    with pytest.raises(FailedPreconditionError) as refused:
        app.file_progress_report(practice.id, "2027-03", VALUES, "")
    with pytest.raises(FailedPreconditionError):
        app.update_milestone(practice.id, 1, "done", "")

    assert stopped.status == "evaluated_stop"
    assert refused.value.message == (
        "practice 'Lit courtyards' is stopped; a stopped practice accepts no reports"
    )
    assert count(app) == before


def test_a_decision_records_its_reason_and_moves_the_status(app, upstream):
    practice = implementing(app, upstream)

    decided = app.decide_on_practice(HEAD, practice.id, "continue", "on track", [])

    (kind, event), (_, status) = events_of(app)[-2:]
    assert kind == "Practice.Decided"
    assert (event.decision, event.reason, event.resource_sources, event.decided_by) == (
        "continue",
        "on track",
        [],
        "administration-1",
    )
    assert (status.status, status.reason) == ("evaluated_continue", "on track")
    assert decided.status == "evaluated_continue"
    back = app.change_status(WG, practice.id, "implementing", "")
    assert back.status == "implementing"


def test_changing_resources_replaces_the_plan_sources(app, upstream):
    practice = implementing(app, upstream)
    new_sources = [{"kind": "co_financing_programme", "amount": "300000", "currency": "RUB"}]

    decided = app.decide_on_practice(
        HEAD, practice.id, "change_resources", "the budget was cut", new_sources
    )

    assert decided.status == "evaluated_change_resources"
    assert decided.plan is not None
    assert decided.plan["resource_sources"] == new_sources
    assert decided.decisions[-1]["resource_sources"] == new_sources


@pytest.mark.parametrize(
    ("decision", "reason", "sources", "message"),
    [
        ("continue", "", [], "a decision to continue needs a reason"),
        (
            "pause",
            "why not",
            [],
            "decision 'pause' is not one of: continue, change_resources, stop",
        ),
        (
            "change_resources",
            "budget cut",
            [],
            "an implementation plan needs at least one resource source",
        ),
        (
            "change_resources",
            "budget cut",
            [{"kind": "donors", "amount": "0", "currency": "RUB"}],
            "resource source #1 amount must be more than zero, not '0'",
        ),
        (
            "stop",
            "no effect",
            SOURCES,
            "only a change_resources decision carries resource sources, not stop",
        ),
    ],
)
def test_a_bad_decision_is_invalid_and_records_nothing(
    upstream, decision, reason, sources, message
):
    app = upstream.app
    practice = implementing(app, upstream)
    before = count(app)

    with pytest.raises(InvalidArgumentError) as refused:
        app.decide_on_practice(HEAD, practice.id, decision, reason, sources)

    assert refused.value.message == message
    assert count(app) == before
    assert app.get_practice(practice.id).status == "implementing"


async def test_a_decision_needs_an_implementing_practice_and_the_administration(app, upstream):
    practice = planned(app, upstream)
    before = count(app)

    with pytest.raises(FailedPreconditionError) as early:
        app.decide_on_practice(HEAD, practice.id, "stop", "no effect", [])
    with pytest.raises(PermissionDeniedError):
        await policy(app).admit(
            "DecideOnPractice", pb.DecideOnPracticeRequest(practice_id=str(practice.id)), WG
        )

    assert early.value.message == (
        "practice 'Lit courtyards' is planned; a decision is taken only on an implementing practice"
    )
    assert count(app) == before


async def test_the_plan_is_read_by_its_own_city_only(app, upstream):
    practice = planned(app, upstream)
    request = pb.GetImplementationPlanRequest(practice_id=str(practice.id))

    await policy(app).admit("GetImplementationPlan", request, HEAD)
    assert app.get_practice(practice.id).plan is not None
    with pytest.raises(NotFoundError) as hidden:
        await policy(app).admit("GetImplementationPlan", request, SEVERSK_HEAD)
    assert hidden.value.message == f"no practice {str(practice.id)!r} in your cities"


SOLVED_PROBLEM = "Problem the practice solves"


def a_problem(app, city_id: str = "sarov") -> str:
    """A problem of the city, registered on first use: a practice always solves one."""
    problem_id = Problem.create_id(city_id, SOLVED_PROBLEM)
    if not app._exists(problem_id):  # noqa: SLF001  # the test's shortcut to "registered yet?"
        app.register_problem(city_id, SOLVED_PROBLEM, "")
    return str(problem_id)
