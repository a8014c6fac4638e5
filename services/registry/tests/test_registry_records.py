from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from lmp.registry.v1 import registry_pb2 as pb
from lmp_kit.auth import Principal
from lmp_kit.envelope import envelope_of
from lmp_kit.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from lmp_kit.eventlog import read_envelopes, topics_of
from registry.access import policy
from registry.application import RegistryApplication
from registry.domain import Activity, Problem

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
PHOTO = {"uri": "https://photos.example/1.jpg", "sha256": "ab" * 32}


def person(role: str, *cities: str) -> Principal:
    return Principal(role, frozenset({role}), frozenset(cities or ("sarov",)), frozenset())


WG = person("working_group")
EXPERT = person("expert")
CURATOR = person("curator")
SEVERSK_CURATOR = person("curator", "seversk")


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


def practice_in_review(app):
    return app.register_practice(
        WG,
        "sarov",
        "own",
        "Lit courtyards",
        authors=[{"person_id": "p1", "name": "A"}],
        problem_ids=[a_problem(app)],
    )


def test_a_problem_is_described_prioritized_and_solved(app):
    problem = app.register_problem("sarov", "Dark yards", "")

    app.describe_problem(problem.id, "Courtyards on Mira St.")
    app.set_problem_priority(problem.id, "high")
    solved = app.mark_problem_solved(problem.id, with_external_resources=True)

    assert (solved.description, solved.priority, solved.solved) == (
        "Courtyards on Mira St.",
        "high",
        True,
    )
    event_type, event = events_of(app)[-1]
    assert (event_type, event.solved_with_external_resources) == ("Problem.Solved", True)
    with pytest.raises(FailedPreconditionError):
        app.mark_problem_solved(problem.id, with_external_resources=False)


async def test_bad_problem_changes_are_refused(app):
    problem = app.register_problem("sarov", "Dark yards", "")

    with pytest.raises(InvalidArgumentError) as priority:
        app.set_problem_priority(problem.id, "urgent")
    with pytest.raises(NotFoundError):
        await policy(app).admit(
            "DescribeProblem",
            pb.DescribeProblemRequest(problem_id=str(problem.id), description="mine now"),
            person("working_group", "seversk"),
        )

    assert priority.value.message == "priority 'urgent' is not one of: high, medium, low"
    assert app.recorder.max_notification_id() == 1


def test_linking_a_practice_to_a_problem_links_both_once(app):
    problem = app.register_problem("sarov", "Dark yards", "")
    practice = practice_in_review(app)

    app.link_practice(problem.id, practice.id)
    app.link_practice(problem.id, practice.id)

    assert app.get_problem(problem.id).practice_ids == [str(practice.id)]
    assert app.get_practice(practice.id).problem_ids == [a_problem(app), str(problem.id)]
    assert app.recorder.max_notification_id() == 6


def test_a_review_verdict_advances_a_practice_once(app, upstream):
    practice = practice_in_review(app)

    first = upstream.conclude(practice.id, "approved_for_vote")
    again = upstream.conclude(practice.id, "approved_for_vote")

    assert ([p.id for p in first], again) == ([practice.id], [])
    assert (
        app.get_practice(practice.id).react_to_review(
            upstream.review_id("review-1"), "approved_for_vote", None
        )
        == "duplicate"
    )
    statuses = [e.status for t, e in events_of(app) if t == "Practice.StatusChanged"]
    assert statuses == ["primary_review", "approved_for_vote"]
    head = app.recorder.max_notification_id()
    upstream.conclude(practice.id, "approved_for_vote")
    assert app.recorder.max_notification_id() == head


def test_a_vote_ranks_an_approved_practice_once(app, upstream):
    practice = practice_in_review(app)
    upstream.conclude(practice.id, "approved_for_vote")

    assert upstream.close_poll({practice.id: 2})
    head = app.recorder.max_notification_id()
    assert upstream.close_poll({practice.id: 2}) == []

    ranked = app.get_practice(practice.id)
    assert (ranked.status, ranked.rank) == ("ranked", 2)
    assert app.recorder.max_notification_id() == head


def test_a_verdict_that_no_longer_applies_records_nothing(app, upstream):
    practice = practice_in_review(app)

    outcome = upstream.close_poll({practice.id: 1})
    late = upstream.conclude(practice.id, "prioritized", 1, review="review-9")

    assert (outcome, late) == ([], [])
    submitted = app.get_practice(practice.id)
    assert submitted.react_to_vote("poll-1", 1) == "not applicable: the practice is submitted"
    assert submitted.react_to_review("review-9", "prioritized", 1).startswith("not applicable")
    assert app.recorder.max_notification_id() == 3  # problem, practice, their link


def test_an_activity_with_announcement_release_and_report(app):
    activity = app.register_activity(
        "sarov",
        "charity_event",
        "Yard clean-up",
        "2026-11-14",
        speakers=[{"person_id": "s1", "name": "Speaker"}],
        joint_action=True,
        branding_used=True,
    )
    moment = datetime(2026, 11, 10, 9, tzinfo=UTC)
    app.publish_announcement(activity.id, "Come on Saturday", moment)
    app.publish_press_release(activity.id, "We cleaned 5 yards", moment)
    reported = app.file_activity_report(
        activity.id, [{"person_id": "r1", "name": "Resident"}], [PHOTO]
    )

    (event_type, event) = events_of(app)[0]
    assert event_type == "Activity.Registered"
    # joint_action=True is the enterprise and the administration (Activity.Registered v2)
    assert (event.kind, event.title, event.held_on, event.participant_categories) == (
        "charity_event",
        "Yard clean-up",
        "2026-11-14",
        ["administration", "enterprise"],
    )
    assert activity.joint_action
    assert reported.report == {
        "attendees": [{"person_id": "r1", "name": "Resident"}],
        "photos": [PHOTO],
    }
    with pytest.raises(FailedPreconditionError):
        app.publish_announcement(activity.id, "Again", moment)


@pytest.mark.parametrize(
    ("kind", "held_on", "message"),
    [
        (
            "party",
            "2026-11-14",
            (
                "kind 'party' is not one of: working_meeting, strategic_session, "
                "council_sitting, charity_event, other"
            ),
        ),
        ("other", "2200-01-01", "held_on 2200-01-01 is out of range 2000-01-01 to 2100-12-31"),
    ],
)
def test_bad_activities_are_invalid(app, kind, held_on, message):
    with pytest.raises(InvalidArgumentError) as refused:
        app.register_activity("sarov", kind, "Yard clean-up", held_on)

    assert refused.value.message == message
    assert app.recorder.max_notification_id() is None


def test_a_report_needs_photos_with_a_content_hash(app):
    activity = app.register_activity("sarov", "other", "Meeting", "2026-11-14")

    with pytest.raises(InvalidArgumentError) as refused:
        app.file_activity_report(
            activity.id,
            [{"person_id": "r1", "name": "R"}],
            [{"uri": "https://x/1.jpg", "sha256": "nope"}],
        )

    assert refused.value.message == "photo #1 needs its content hash: sha256 as 64 hex digits"


async def test_an_improvement_fact_is_recognized_by_the_curator_of_its_city(app):
    fact = app.record_improvement_fact(
        "sarov",
        month="2026-11",
        title="Permits in 3 days",
        description="",
        evidence=["https://sarov.example/order-5"],
    )
    judged = pb.JudgeImprovementFactRequest(fact_id=str(fact.id), recognized=True)

    with pytest.raises(PermissionDeniedError):
        await policy(app).admit("JudgeImprovementFact", judged, WG)
    with pytest.raises(NotFoundError):
        await policy(app).admit("JudgeImprovementFact", judged, SEVERSK_CURATOR)
    await policy(app).admit("JudgeImprovementFact", judged, CURATOR)
    app.judge_improvement_fact(fact.id, recognized=True)

    event_type, event = events_of(app)[-1]
    assert (event_type, event.month) == ("ImprovementFact.Recognized", "2026-11")
    with pytest.raises(FailedPreconditionError):
        app.judge_improvement_fact(fact.id, recognized=False, reason="changed my mind")


def test_an_improvement_fact_needs_evidence_and_a_rejection_a_reason(app):
    with pytest.raises(InvalidArgumentError):
        app.record_improvement_fact(
            "sarov", month="2026-11", title="Faster", description="", evidence=[]
        )
    fact = app.record_improvement_fact(
        "sarov", month="2026-11", title="Faster", description="", evidence=["doc 1"]
    )
    with pytest.raises(InvalidArgumentError):
        app.judge_improvement_fact(fact.id, recognized=False, reason="")
    assert (
        app.judge_improvement_fact(fact.id, recognized=False, reason="no proof").verdict
        == "rejected"
    )


def test_an_external_resource_case_is_recorded_with_the_contract_payload(app):
    app.record_external_resource_case(
        "sarov",
        month="2026-11",
        title="Playground",
        source_kind="donors",
        amount="250000",
        currency="RUB",
        partner="Fund X",
    )

    event_type, event = events_of(app)[-1]
    assert (event_type, event.month, event.source_kind, event.amount, event.currency) == (
        "ExternalResourceCase.Recorded",
        "2026-11",
        "donors",
        "250000",
        "RUB",
    )
    with pytest.raises(AlreadyExistsError):
        app.record_external_resource_case(
            "sarov",
            month="2026-11",
            title="playground",
            source_kind="donors",
            amount="1",
            currency="RUB",
            partner="Fund X",
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "-5", "amount must be more than zero, not '-5'"),
        (
            "month",
            "2026-13",
            "month must be YYYY-MM between 2000-01 and 2100-12 (e.g. 2026-11), not '2026-13'",
        ),
        (
            "source_kind",
            "own_budget",
            (
                "source_kind 'own_budget' is not one of: "
                "co_financing_programme, donors, public_private_partnership, residents_funds"
            ),
        ),
    ],
)
def test_bad_external_resource_cases_are_invalid(app, field, value, message):
    attributes = {
        "month": "2026-11",
        "title": "Playground",
        "source_kind": "donors",
        "amount": "100",
        "currency": "RUB",
        "partner": "Fund",
    } | {field: value}

    with pytest.raises(InvalidArgumentError) as refused:
        app.record_external_resource_case("sarov", **attributes)

    assert refused.value.message == message
    assert app.recorder.max_notification_id() is None


@pytest.mark.parametrize(
    ("joint_action", "categories"), [(True, ["administration", "enterprise"]), (False, [])]
)
def test_an_activity_stored_in_version_1_reads_its_joint_action_flag_as_participant_categories(
    app, joint_action, categories
):
    """Activity.Registered v1 (a bare `joint_action` flag) as stored before v2: eventsourcing's
    upcast_v1_v2 turns it into the participant categories it meant."""
    current = Activity.register(
        "sarov", "working_meeting", "Совет жителей", "2026-11-14", joint_action=joint_action
    )
    (event,) = current.collect_events()
    stored = app.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    del state["participant_categories"], state["class_version"]
    state["joint_action"] = joint_action
    app.recorder.insert_events([replace(stored, state=json.dumps(state).encode())])

    activity = app.repository.get(current.id)

    assert (activity.participant_categories, activity.joint_action) == (categories, joint_action)
    (notification,) = app.recorder.select_notifications(start=None, limit=10)
    envelope = envelope_of("registry", app.mapper, notification)
    assert envelope.schema_version == 2  # what the relay publishes is the current version
    assert envelope.payload["participant_categories"] == categories


def test_an_activity_names_who_took_part_and_an_unknown_category_is_refused(app):
    activity = app.register_activity(
        "sarov",
        "working_meeting",
        "Business breakfast",
        "2026-11-14",
        participant_categories=["business", "administration", "business"],
    )

    assert activity.participant_categories == ["administration", "business"]
    assert not activity.joint_action  # the enterprise was not there: K5 is not met by it
    with pytest.raises(InvalidArgumentError, match="participant_categories"):
        app.register_activity(
            "sarov", "other", "Meeting", "2026-11-15", participant_categories=["aliens"]
        )


def test_a_filtered_read_of_the_log_finds_activities_whose_created_event_is_an_explicit_class(app):
    """eventsourcing derives a second `Activity.Registered` class from the explicit one: a
    ReadEvents filter by event type still names the one topic (it refused it before)."""
    app.register_activity("sarov", "working_meeting", "Совет жителей", "2026-11-14")

    assert topics_of(frozenset({"Activity.Registered"})) == [
        "registry.domain.activities:Activity.Registered"
    ]
    envelopes, _, _ = read_envelopes(
        "registry", app, after=0, limit=10, event_types=frozenset({"Activity.Registered"})
    )
    assert [e.event_type for e in envelopes] == ["Activity.Registered"]


SOLVED_PROBLEM = "Problem the practice solves"


def a_problem(app, city_id: str = "sarov") -> str:
    """A problem of the city, registered on first use: a practice always solves one."""
    problem_id = Problem.create_id(city_id, SOLVED_PROBLEM)
    if not app._exists(problem_id):  # noqa: SLF001  # the test's shortcut to "registered yet?"
        app.register_problem(city_id, SOLVED_PROBLEM, "")
    return str(problem_id)
