from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import grpc
import pytest
from expertise.application import ExpertiseApplication
from expertise.domain import CRITERIA, ApprovedList, Plan, PracticeFacts, Review, summarize
from lmp.expertise.v1 import expertise_pb2
from lmp_kit.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    PermissionDeniedError,
)
from lmp_kit.idempotency import Retry

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
GOOD = {"effectiveness": 5, "resource_intensity": 4, "time_to_implement": 3, "fit_to_city_needs": 4}
PLAN = Plan(priority_rank=1, expected_results="Lit yards", deadlines="2027-06")
WHY = "Effective and cheap; the yards are the residents' first complaint"


@pytest.fixture
def app():
    application = ExpertiseApplication(env=MEMORY)
    application.form_council()
    application.admit_member("chair", "Chair Person", ["*"])
    application.admit_member("anna", "Anna", ["sarov"])
    application.admit_member("boris", "Boris", ["sarov", "seversk"])
    application.admit_member("vera", "Vera", ["seversk"])
    application.appoint_chair("chair")
    yield application
    application.close()


def practice(kind="own", city="sarov", authors=(), participants=()):
    return PracticeFacts(
        practice_id=str(uuid4()),
        city_id=city,
        kind=kind,
        title="Lighting of yards",
        authors=tuple(authors),
        participants=tuple(participants),
    )


def held_session(app, city, *practices, attendees=("chair", "anna", "boris")):
    session = app.schedule_session(city, "2026-12-01", [p.practice_id for p in practices])
    return app.hold_session(session.id, "2026-12-01", list(attendees), "Minutes")


def head(app):
    return app.recorder.max_notification_id()


def events_after(app, position):
    return [
        n.topic.rpartition(":")[2] for n in app.recorder.select_notifications(position + 1, 100)
    ]


def test_a_review_is_one_per_practice_and_round_so_a_second_opening_is_already_exists(app):
    item = practice()
    review = app.open_review(item, "primary")
    before = head(app)

    with pytest.raises(AlreadyExistsError) as raised:
        app.open_review(item, "primary")

    assert raised.value.status == grpc.StatusCode.ALREADY_EXISTS
    assert str(review.id) in raised.value.message  # names the review that exists
    assert review.id == Review.create_id(item.practice_id, "primary")
    assert head(app) == before
    assert app.open_review(item, "secondary").id != review.id


def test_an_opening_sent_again_under_its_request_id_returns_the_original_review(app):
    item = practice()
    request = expertise_pb2.OpenReviewRequest(
        practice_id=item.practice_id, round="primary", request_id="portal-1"
    )
    review = app.open_review(item, "primary", Retry.of("sarov", request))
    before = head(app)

    again = app.open_review(item, "primary", Retry.of("sarov", request))

    assert again.id == review.id
    assert head(app) == before
    other = expertise_pb2.OpenReviewRequest(
        practice_id=item.practice_id, round="secondary", request_id="portal-1"
    )
    with pytest.raises(AlreadyExistsError, match=f"created review {review.id}"):
        app.open_review(item, "secondary", Retry.of("sarov", other))
    assert head(app) == before


def test_a_session_scheduled_again_under_its_request_id_is_the_original(app):
    agenda = [practice().practice_id]
    request = expertise_pb2.ScheduleSessionRequest(
        city_id="sarov", scheduled_on="2026-12-01", agenda=agenda, request_id="k1"
    )
    session = app.schedule_session("sarov", "2026-12-01", agenda, Retry.of("sarov", request))
    assert app.schedule_session("sarov", "2026-12-01", agenda, Retry.of("sarov", request)).id == (
        session.id
    )
    with pytest.raises(AlreadyExistsError, match=str(session.id)):
        app.schedule_session("sarov", "2026-12-01", agenda)


def test_an_expert_who_authored_or_took_part_in_the_practice_is_recused_when_it_is_opened(app):
    before = head(app)
    item = practice(authors=["anna", "not-a-member"], participants=["boris"])

    review = app.open_review(item, "secondary")

    assert events_after(app, before) == [
        "Review.Opened",
        "Review.ExpertRecused",
        "Review.ExpertRecused",
    ]
    assert review.recused == {
        "anna": "author or participant of the practice",
        "boris": "author or participant of the practice",
    }
    with pytest.raises(PermissionDeniedError, match="recused"):
        app.score(review.id, "anna", GOOD)


def test_a_member_admitted_after_the_opening_who_took_part_may_not_score_either(app):
    review = app.open_review(practice(participants=["late"]), "secondary")
    app.admit_member("late", "Late Expert", ["sarov"])
    before = head(app)

    with pytest.raises(PermissionDeniedError, match="recused"):
        app.score(review.id, "late", GOOD)

    assert head(app) == before


def test_only_council_members_for_the_practice_city_score(app):
    review = app.open_review(practice(city="sarov"), "secondary")
    before = head(app)

    with pytest.raises(PermissionDeniedError, match="not a member") as outsider:
        app.score(review.id, "stranger", GOOD)
    with pytest.raises(PermissionDeniedError, match="may not review practices of city 'sarov'"):
        app.score(review.id, "vera", GOOD)

    assert outsider.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert head(app) == before


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({**GOOD, "effectiveness": 6}, "effectiveness must be an integer from 1 to 5, not 6"),
        ({**GOOD, "time_to_implement": 0}, "time_to_implement must be an integer from 1 to 5"),
        ({"effectiveness": 5}, "missing: resource_intensity, time_to_implement"),
        ({**GOOD, "beauty": 5}, "unknown: beauty"),
    ],
)
def test_a_score_out_of_range_or_incomplete_is_invalid_and_records_nothing(app, scores, message):
    review = app.open_review(practice(), "secondary")
    before = head(app)

    with pytest.raises(InvalidArgumentError) as raised:
        app.score(review.id, "anna", scores)

    assert message in raised.value.message
    assert raised.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert head(app) == before


def test_a_second_score_by_the_same_expert_in_the_round_is_already_exists(app):
    review = app.open_review(practice(), "secondary")
    app.score(review.id, "anna", GOOD)
    before = head(app)

    with pytest.raises(AlreadyExistsError) as raised:
        app.score(review.id, "anna", {**GOOD, "effectiveness": 1})

    assert "has already scored" in raised.value.message
    assert head(app) == before
    assert app.get_review(review.id).scores["anna"] == GOOD


def test_a_primary_review_is_not_scored(app):
    review = app.open_review(practice(), "primary")

    with pytest.raises(FailedPreconditionError, match="only a secondary review is scored"):
        app.score(review.id, "anna", GOOD)


def as_scores(*values):
    return dict(zip(CRITERIA, values, strict=True))


def test_the_aggregate_is_the_weighted_mean_of_the_experts_with_the_spread():
    weights = {
        "effectiveness": 2,
        "resource_intensity": 1,
        "time_to_implement": 1,
        "fit_to_city_needs": 0,
    }
    scores = {
        "a": {
            "effectiveness": 5,
            "resource_intensity": 3,
            "time_to_implement": 3,
            "fit_to_city_needs": 1,
        },
        "b": {
            "effectiveness": 2,
            "resource_intensity": 2,
            "time_to_implement": 4,
            "fit_to_city_needs": 5,
        },
    }

    summary = summarize(weights, scores)  # a: 16/4 = 4.00, b: 10/4 = 2.50

    assert summary.experts == 2
    assert summary.aggregate == Decimal("3.25")
    assert (summary.minimum, summary.maximum, summary.stdev) == (
        Decimal("2.50"),
        Decimal("4.00"),
        Decimal("0.75"),
    )
    assert summary.per_criterion["effectiveness"] == Decimal("3.50")
    assert summarize(weights, {}).aggregate is None


def test_the_weights_in_force_at_the_opening_are_recorded_with_the_review(app):
    app.set_criterion_weights({"effectiveness": 3, "fit_to_city_needs": 1})
    review = app.open_review(practice(), "secondary")
    app.set_criterion_weights({"effectiveness": 1})

    app.score(review.id, "anna", GOOD)

    assert app.get_review(review.id).weights["effectiveness"] == 3
    # (3*5 + 1*4) / 4 = 4.75
    assert app.get_review(review.id).summary().aggregate == Decimal("4.75")


def test_the_chair_concludes_a_primary_review_at_a_session_with_quorum(app):
    item = practice()
    review = app.open_review(item, "primary")
    session = held_session(app, "sarov", item)

    concluded = app.conclude_review(
        review.id,
        by="chair",
        session_id=session.id,
        verdict="approved_for_vote",
        rationale="Solves a real problem",
    )

    assert concluded.verdict == "approved_for_vote"
    assert concluded.session_id == str(session.id)
    (notification,) = [
        n
        for n in app.recorder.select_notifications(None, 100)
        if n.topic.endswith(":Review.Concluded")
    ]
    event = app.mapper.to_domain_event(notification)
    assert (event.practice_id, event.round, event.verdict, event.rationale) == (
        item.practice_id,
        "primary",
        "approved_for_vote",
        "Solves a real problem",
    )
    assert (event.priority_rank, event.aggregate_score) == (None, None)
    entries = app.get_list("sarov", "for_vote").entries
    assert [e["practice_id"] for e in entries] == [item.practice_id]


def test_only_the_chair_concludes_and_nothing_is_recorded_otherwise(app):
    item = practice()
    review = app.open_review(item, "primary")
    session = held_session(app, "sarov", item)
    before = head(app)

    with pytest.raises(PermissionDeniedError, match="only the chair"):
        app.conclude_review(
            review.id, by="anna", session_id=session.id, verdict="rejected", rationale="No"
        )

    assert head(app) == before


def test_a_review_is_not_concluded_at_a_session_without_quorum(app):
    item = practice()
    review = app.open_review(item, "primary")
    session = held_session(app, "sarov", item, attendees=("chair", "anna"))
    before = head(app)

    with pytest.raises(FailedPreconditionError) as raised:
        app.conclude_review(
            review.id, by="chair", session_id=session.id, verdict="rejected", rationale="No"
        )

    assert raised.value.status == grpc.StatusCode.FAILED_PRECONDITION
    assert "had no quorum (2 of 3 required members present)" in raised.value.message
    assert not session.quorum_met
    assert head(app) == before


def test_a_review_is_concluded_only_at_a_held_session_with_the_practice_on_its_agenda(app):
    item, other = practice(), practice()
    review = app.open_review(item, "primary")
    scheduled = app.schedule_session("sarov", "2026-12-05", [item.practice_id])
    held_elsewhere = held_session(app, "sarov", other)

    with pytest.raises(FailedPreconditionError, match="has not been held yet"):
        app.conclude_review(
            review.id, by="chair", session_id=scheduled.id, verdict="rejected", rationale="No"
        )
    with pytest.raises(FailedPreconditionError, match="is not on the agenda"):
        app.conclude_review(
            review.id, by="chair", session_id=held_elsewhere.id, verdict="rejected", rationale="No"
        )


def test_only_own_practices_are_approved_for_passport(app):
    item = practice(kind="initiative")
    review = app.open_review(item, "primary")
    session = held_session(app, "sarov", item)

    with pytest.raises(FailedPreconditionError, match="only own realized practices"):
        app.conclude_review(
            review.id,
            by="chair",
            session_id=session.id,
            verdict="approved_for_passport",
            rationale="Good",
        )


@pytest.mark.parametrize(
    ("verdict", "rationale", "message"),
    [
        ("prioritized", "Good", "a primary review's verdict is one of"),
        ("approved_for_vote", "  ", "a rationale of 1 to 10000 characters is required"),
    ],
)
def test_a_wrong_verdict_or_missing_rationale_is_invalid(app, verdict, rationale, message):
    item = practice()
    review = app.open_review(item, "primary")
    session = held_session(app, "sarov", item)

    with pytest.raises(InvalidArgumentError) as raised:
        app.conclude_review(
            review.id, by="chair", session_id=session.id, verdict=verdict, rationale=rationale
        )

    assert message in raised.value.message


def test_a_concluded_review_cannot_be_concluded_or_scored_again(app):
    item = practice()
    review = app.open_review(item, "secondary")
    app.score(review.id, "anna", GOOD)
    app.assess(review.id, "wg-1", GOOD, WHY)
    session = held_session(app, "sarov", item)
    app.conclude_review(
        review.id,
        by="chair",
        session_id=session.id,
        verdict="prioritized",
        rationale="Yes",
        plan=PLAN,
    )

    with pytest.raises(FailedPreconditionError, match="already concluded"):
        app.conclude_review(
            review.id, by="chair", session_id=session.id, verdict="rejected", rationale="No"
        )
    with pytest.raises(FailedPreconditionError, match="already concluded"):
        app.score(review.id, "boris", GOOD)


def test_the_secondary_decision_fixes_rank_results_deadlines_resources_and_regulations(app):
    item = practice()
    review = app.open_review(item, "secondary")
    app.score(review.id, "anna", GOOD)
    app.score(review.id, "boris", {**GOOD, "effectiveness": 3})
    app.assess(review.id, "wg-1", {**GOOD, "fit_to_city_needs": 1}, WHY)
    session = held_session(app, "sarov", item)
    plan = Plan(
        priority_rank=2,
        expected_results="All yards lit",
        deadlines="2027-09-01",
        resource_sources="Municipal budget; enterprise",
        regulation_proposals="Amend the improvement rules",
    )

    concluded = app.conclude_review(
        review.id,
        by="chair",
        session_id=session.id,
        verdict="prioritized",
        rationale="Top",
        plan=plan,
    )

    assert concluded.aggregate_score == "3.75"
    assert concluded.plan == {
        "priority_rank": 2,
        "expected_results": "All yards lit",
        "deadlines": "2027-09-01",
        "resource_sources": "Municipal budget; enterprise",
        "regulation_proposals": "Amend the improvement rules",
    }
    assert app.get_list("sarov", "priority").entries[0]["priority_rank"] == 2


def test_a_secondary_review_without_the_working_groups_assessment_is_not_concluded(app):
    item = practice()
    review = app.open_review(item, "secondary")
    app.score(review.id, "anna", GOOD)
    session = held_session(app, "sarov", item)
    before = head(app)

    with pytest.raises(FailedPreconditionError) as refused:
        app.conclude_review(
            review.id,
            by="chair",
            session_id=session.id,
            verdict="prioritized",
            rationale="Y",
            plan=PLAN,
        )

    assert "the working group has not assessed practice" in str(refused.value)
    assert "AssessPractice" in str(refused.value)
    assert head(app) == before
    assert not app.get_review(review.id).concluded


def test_the_council_fixes_priority_on_the_working_groups_assessment_without_its_own_scores(app):
    item = practice()
    review = app.open_review(item, "secondary")
    app.assess(review.id, "wg-1", GOOD, WHY)
    session = held_session(app, "sarov", item)

    with pytest.raises(InvalidArgumentError, match="needs a priority_rank"):
        app.conclude_review(
            review.id, by="chair", session_id=session.id, verdict="prioritized", rationale="Y"
        )
    concluded = app.conclude_review(
        review.id,
        by="chair",
        session_id=session.id,
        verdict="prioritized",
        rationale="Y",
        plan=PLAN,
    )

    assert concluded.verdict == "prioritized"
    assert concluded.aggregate_score is None  # no expert scored: the aggregate is the experts'
    assert concluded.assessment_score() == Decimal("4.00")


def test_the_working_group_amends_its_assessment_until_the_review_is_concluded(app):
    item = practice()
    review = app.open_review(item, "secondary")
    first = app.assess(review.id, "wg-1", GOOD, WHY)
    version = first.version
    again = app.assess(review.id, "wg-1", GOOD, WHY)  # a retry changes nothing
    assert again.version == version
    amended = app.assess(review.id, "wg-2", {**GOOD, "effectiveness": 2}, "Costlier than we said")
    session = held_session(app, "sarov", item)
    app.conclude_review(
        review.id, by="chair", session_id=session.id, verdict="rejected", rationale="No"
    )

    assert amended.assessment is not None
    assert {k: amended.assessment[k] for k in ("person_id", "rationale", "revision")} == {
        "person_id": "wg-2",
        "rationale": "Costlier than we said",
        "revision": 2,
    }
    assert amended.assessment["scores"]["effectiveness"] == 2
    assert amended.assessment_score() == Decimal("3.25")
    with pytest.raises(FailedPreconditionError, match="already concluded"):
        app.assess(review.id, "wg-1", GOOD, WHY)


def test_bad_assessments_and_primary_reviews_record_nothing(app):
    item = practice()
    primary = app.open_review(item, "primary")
    secondary = app.open_review(item, "secondary")
    before = head(app)

    with pytest.raises(FailedPreconditionError, match="only a secondary review is assessed"):
        app.assess(primary.id, "wg-1", GOOD, WHY)
    with pytest.raises(InvalidArgumentError, match="effectiveness must be an integer from 1 to 5"):
        app.assess(secondary.id, "wg-1", {**GOOD, "effectiveness": 0}, WHY)
    with pytest.raises(InvalidArgumentError, match="missing: fit_to_city_needs"):
        app.assess(
            secondary.id, "wg-1", {k: v for k, v in GOOD.items() if k != "fit_to_city_needs"}, WHY
        )
    with pytest.raises(InvalidArgumentError, match="rationale"):
        app.assess(secondary.id, "wg-1", GOOD, "  ")

    assert head(app) == before
    assert app.get_review(secondary.id).assessment is None


def test_two_practices_cannot_share_a_priority_rank_in_a_city(app):
    first, second = practice(), practice()
    reviews = [app.open_review(p, "secondary") for p in (first, second)]
    for review in reviews:
        app.score(review.id, "anna", GOOD)
        app.assess(review.id, "wg-1", GOOD, WHY)
    session = held_session(app, "sarov", first, second)
    app.conclude_review(
        reviews[0].id,
        by="chair",
        session_id=session.id,
        verdict="prioritized",
        rationale="Y",
        plan=PLAN,
    )
    before = head(app)

    with pytest.raises(FailedPreconditionError, match="priority rank 1 is already taken"):
        app.conclude_review(
            reviews[1].id,
            by="chair",
            session_id=session.id,
            verdict="prioritized",
            rationale="Y",
            plan=PLAN,
        )

    assert head(app) == before
    assert not app.get_review(reviews[1].id).concluded


def approve_for_passport(app, count, city="sarov"):
    items = [practice(city=city) for _ in range(count)]
    reviews = [app.open_review(p, "primary") for p in items]
    session = held_session(app, city, *items)
    for review in reviews:
        app.conclude_review(
            review.id,
            by="chair",
            session_id=session.id,
            verdict="approved_for_passport",
            rationale="Realized and measurable",
        )
    return items


def test_closing_the_passport_list_with_fewer_than_3_own_practices_names_the_minimum(app):
    approve_for_passport(app, 2)
    before = head(app)

    with pytest.raises(FailedPreconditionError) as raised:
        app.close_list("sarov", "for_passport", by="chair")

    assert raised.value.message == (
        "the methodology requires at least 3 own realized practices approved for passport "
        "before the stage-3 list closes; 'sarov' has 2"
    )
    assert head(app) == before


def test_the_passport_list_with_3_own_practices_closes_and_then_takes_no_more(app):
    items = approve_for_passport(app, 3)

    closed = app.close_list("sarov", "for_passport", by="chair")

    assert closed.closed
    assert [e["practice_id"] for e in closed.entries] == [p.practice_id for p in items]
    assert closed.id == ApprovedList.create_id("sarov", "for_passport")
    late = practice()
    review = app.open_review(late, "primary")
    session = app.hold_session(
        app.schedule_session("sarov", "2026-12-20", [late.practice_id]).id,
        "2026-12-20",
        ["chair", "anna", "boris"],
        "",
    )
    with pytest.raises(FailedPreconditionError, match="list of 'sarov' is already closed"):
        app.conclude_review(
            review.id,
            by="chair",
            session_id=session.id,
            verdict="approved_for_passport",
            rationale="Y",
        )
    assert not app.get_review(review.id).concluded


def test_only_the_chair_closes_a_list(app):
    approve_for_passport(app, 3)

    with pytest.raises(PermissionDeniedError, match="only the chair"):
        app.close_list("sarov", "for_passport", by="anna")


def test_a_session_is_held_once_with_its_members_attending(app):
    item = practice()
    session = held_session(app, "sarov", item)

    assert (session.held_on, session.attendees, session.quorum_met, session.quorum_required) == (
        "2026-12-01",
        ["anna", "boris", "chair"],
        True,
        3,
    )
    with pytest.raises(AlreadyExistsError, match="already held"):
        app.hold_session(session.id, "2026-12-02", ["chair"], "")
    other = app.schedule_session("sarov", "2026-12-10", [item.practice_id])
    with pytest.raises(InvalidArgumentError, match="not members: stranger"):
        app.hold_session(other.id, "2026-12-10", ["chair", "stranger"], "")
    with pytest.raises(InvalidArgumentError, match="a date must be YYYY-MM-DD"):
        app.hold_session(other.id, "10.12.2026", ["chair"], "")
    with pytest.raises(InvalidArgumentError, match="cannot be held on 2026-12-09"):
        app.hold_session(other.id, "2026-12-09", ["chair"], "")


def test_the_same_city_and_date_cannot_be_scheduled_twice_and_agendas_hold_practice_ids(app):
    app.schedule_session("sarov", "2026-12-01", [str(uuid4())])

    with pytest.raises(AlreadyExistsError):
        app.schedule_session("sarov", "2026-12-01", [str(uuid4())])
    with pytest.raises(InvalidArgumentError, match="agenda items are practice ids"):
        app.schedule_session("sarov", "2026-12-02", ["lighting"])
    with pytest.raises(InvalidArgumentError, match="an agenda lists 1 to 200"):
        app.schedule_session("sarov", "2026-12-02", [])
