"""Stage 5 on real servers (issue 18): the city's working group assesses a secondary review on
the four criteria (AssessPractice), the review and the city's list of reviews show it, and the
Council fixes a priority only after it."""

from __future__ import annotations

import uuid

import grpc
import pytest
from lmp.expertise.v1 import expertise_pb2

from .test_consistency import token_of, with_token
from .test_expertise_service import (
    GOOD,
    as_person,
    eventually,
    expertise_events,
    form_council,
    publish_practices,
    refused,
    stub,
)

AMENDED = expertise_pb2.CriterionScores(
    effectiveness=3, resource_intensity=2, time_to_implement=4, fit_to_city_needs=5
)


def to_the_millisecond(
    assessment: expertise_pb2.WorkingGroupAssessment,
) -> expertise_pb2.WorkingGroupAssessment:
    """The read model keeps times to the millisecond (MongoDB), the event store exactly."""
    copy = expertise_pb2.WorkingGroupAssessment()
    copy.CopyFrom(assessment)
    copy.assessed_at.nanos -= copy.assessed_at.nanos % 1_000_000
    return copy


@pytest.fixture
def expertise(slice_factory):
    """Expertise, and the registry's API (see test_expertise_service)."""
    made = slice_factory()
    made.start("registry", ("api",))
    made.start("expertise")
    return made


def test_the_working_group_assesses_then_the_council_fixes_the_priority(expertise):
    stack, api = expertise, stub(expertise)
    form_council(api, stack)
    practice_id = str(uuid.uuid4())
    publish_practices(stack, [(practice_id, "external", [])])
    group = as_person(stack, "wg-sarov", "working_group")
    chair = as_person(stack, "chair", "expert")
    review = eventually(
        lambda: api.OpenReview(
            expertise_pb2.OpenReviewRequest(practice_id=practice_id, round="secondary"),
            metadata=group,
            timeout=10,
        )
    )
    day = "2026-12-02"
    session = api.ScheduleSession(
        expertise_pb2.ScheduleSessionRequest(
            city_id="sarov", scheduled_on=day, agenda=[practice_id]
        ),
        metadata=chair,
        timeout=10,
    ).session_id
    api.HoldSession(
        expertise_pb2.HoldSessionRequest(
            session_id=session, held_on=day, attendees=["chair", "anna", "boris"]
        ),
        metadata=chair,
        timeout=10,
    )
    conclude = expertise_pb2.ConcludeReviewRequest(
        review_id=review.review_id,
        session_id=session,
        verdict="prioritized",
        rationale="First in the vote, cheap and quick",
        priority_rank=1,
        expected_results="20 lit yards",
        deadlines="by 2027-10",
    )

    before = refused(lambda: api.ConcludeReview(conclude, metadata=chair, timeout=10))
    first = api.AssessPractice(
        expertise_pb2.AssessPracticeRequest(
            review_id=review.review_id, scores=GOOD, rationale="Effective, cheap, quick"
        ),
        metadata=group,
        timeout=10,
    )
    amended, call = api.AssessPractice.with_call(
        expertise_pb2.AssessPracticeRequest(
            review_id=review.review_id, scores=AMENDED, rationale="Resources are scarcer"
        ),
        metadata=group,
        timeout=10,
    )
    resident = as_person(stack, "resident-1", "resident")
    listed = api.ListReviews(
        expertise_pb2.ListReviewsRequest(city_id="sarov", round="secondary"),
        metadata=with_token(resident, token_of(call)),
        timeout=10,
    ).reviews
    concluded = api.ConcludeReview(conclude, metadata=chair, timeout=10)

    assert before.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "the working group has not assessed practice" in (before.details() or "")
    assert "AssessPractice" in (before.details() or "")
    assert (first.assessment.revision, first.assessment.weighted) == (1, "4.00")
    assert amended.assessment.person_id == "wg-sarov"
    assert (amended.assessment.revision, amended.assessment.weighted) == (2, "3.50")
    assert amended.assessment.scores == AMENDED
    assert amended.assessment.rationale == "Resources are scarcer"
    assert [to_the_millisecond(r.assessment) for r in listed] == [
        to_the_millisecond(amended.assessment)
    ]
    assert concluded.assessment == amended.assessment
    assert (concluded.decision.verdict, concluded.decision.priority_rank) == ("prioritized", 1)
    assert concluded.decision.aggregate_score == ""  # no expert scored: the experts' aggregate
    assessed = [p for t, p in expertise_events(stack) if t == "Review.Assessed"]
    assert [(p["person_id"], p["revision"], p["scores"]["effectiveness"]) for p in assessed] == [
        ("wg-sarov", 1, 5),
        ("wg-sarov", 2, 3),
    ]
    after = refused(
        lambda: api.AssessPractice(
            expertise_pb2.AssessPracticeRequest(
                review_id=review.review_id, scores=GOOD, rationale="Too late"
            ),
            metadata=group,
            timeout=10,
        )
    )
    assert after.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "already concluded" in (after.details() or "")


def test_an_assessment_by_another_role_city_or_round_or_with_bad_scores_records_nothing(
    expertise,
):
    stack, api = expertise, stub(expertise)
    form_council(api, stack)
    practice_id = str(uuid.uuid4())
    publish_practices(stack, [(practice_id, "own", [])])
    group = as_person(stack, "wg-sarov", "working_group")

    def open_review(round_):
        return eventually(
            lambda: api.OpenReview(
                expertise_pb2.OpenReviewRequest(practice_id=practice_id, round=round_),
                metadata=group,
                timeout=10,
            )
        ).review_id

    primary, secondary = open_review("primary"), open_review("secondary")
    events = len(expertise_events(stack))

    def assess(review_id, metadata, scores=GOOD, rationale="Assessed"):
        request = expertise_pb2.AssessPracticeRequest(
            review_id=review_id, scores=scores, rationale=rationale
        )
        return refused(lambda: api.AssessPractice(request, metadata=metadata, timeout=10))

    zero = expertise_pb2.CriterionScores(
        effectiveness=5, resource_intensity=0, time_to_implement=3, fit_to_city_needs=4
    )
    answers = {
        "primary": assess(primary, group),
        "score 0": assess(secondary, group, scores=zero),
        "no rationale": assess(secondary, group, rationale=" "),
        "expert": assess(secondary, as_person(stack, "anna", "expert")),
        "other city": assess(
            secondary, as_person(stack, "wg-b", "working_group", cities=("ozersk",))
        ),
        "bad id": assess("not-a-review", group),
    }

    assert {k: v.code() for k, v in answers.items()} == {
        "primary": grpc.StatusCode.FAILED_PRECONDITION,
        "score 0": grpc.StatusCode.INVALID_ARGUMENT,
        "no rationale": grpc.StatusCode.INVALID_ARGUMENT,
        "expert": grpc.StatusCode.PERMISSION_DENIED,
        "other city": grpc.StatusCode.NOT_FOUND,
        "bad id": grpc.StatusCode.INVALID_ARGUMENT,
    }
    assert "only a secondary review is assessed" in (answers["primary"].details() or "")
    assert "resource_intensity" in (answers["score 0"].details() or "")
    assert "rationale" in (answers["no rationale"].details() or "")
    assert "review_id" in (answers["bad id"].details() or "")
    assert len(expertise_events(stack)) == events
