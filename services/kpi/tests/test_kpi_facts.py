from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from kpi.consumers import SUBSCRIPTIONS
from kpi.projections import REGISTRY_FACTS, VOTING_FACTS
from lmp_kit.envelope import Envelope

AT = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)


def envelope(event_type, payload, service="registry", city="sarov"):
    return Envelope(
        event_id=uuid4(),
        event_type=event_type,
        schema_version=1,
        service=service,
        city_id=city,
        aggregate_id=uuid4(),
        aggregate_version=1,
        notification_id=1,
        occurred_at=AT,
        traceparent="",
        payload=payload,
    )


def fact(event_type, payload):
    given = envelope(event_type, payload)
    found = {**REGISTRY_FACTS, **VOTING_FACTS}[event_type](given)
    return given, found


def test_kpi_follows_registry_voting_and_its_own_periods():
    assert [s.upstream for s in SUBSCRIPTIONS] == ["registry", "voting", "kpi"]
    assert "Problem.Registered" in SUBSCRIPTIONS[0].projections[0].event_types


def test_a_fact_keeps_its_event_id_as_evidence_and_its_month():
    given, found = fact("ImprovementFact.Recognized", {"month": "2026-10"})

    assert found["_id"] == str(given.event_id)
    assert (found["kind"], found["month"], found["occurred_month"]) == (
        "improvement",
        "2026-10",
        "2026-11",
    )


def test_an_activity_counts_in_the_month_it_was_held_with_its_distinct_speakers():
    _, found = fact(
        "Activity.Registered",
        {
            "kind": "working_meeting",
            "title": "Meeting",
            "held_on": "2026-10-31",
            "speakers": [
                {"person_id": "b", "name": "B"},
                {"person_id": "a", "name": "A"},
                {"person_id": "a", "name": "A"},
            ],
            "joint_action": True,
            "branding_used": False,
        },
    )

    assert found["month"] == "2026-10"
    assert found["data"]["speakers"] == ["a", "b"]
    assert found["data"]["joint_action"] is True


def test_a_problem_solved_without_external_resources_is_no_fact():
    _, found = fact("Problem.Solved", {"solved_with_external_resources": False})

    assert found is None


def test_a_ballot_refers_to_its_poll_and_keeps_only_the_pseudonym():
    _, found = fact(
        "Ballot.Cast",
        {
            "poll_id": "poll-1",
            "pseudonym": "abc",
            "month": "2026-11",
            "choices": {"o1": 1},
            "nonce": "n",
            "receipt": "r",
        },
    )

    assert (found["kind"], found["ref"], found["data"]) == (
        "ballot",
        "poll-1",
        {"pseudonym": "abc"},
    )


def test_a_closed_poll_keeps_its_kind():
    given, found = fact(
        "Poll.Closed",
        {
            "kind": "city_problem",
            "closed_at": AT.isoformat(),
            "results": [],
            "ballots_counted": 3,
            "distinct_voters": 3,
            "turnout": "0.5",
            "digest": "d",
            "quorum_met": True,
        },
    )

    assert (found["kind"], found["ref"], found["data"]["kind"]) == (
        "poll_closed",
        str(given.aggregate_id),
        "city_problem",
    )


def test_a_passport_keeps_the_council_review_it_follows():
    _, found = fact(
        "Practice.PassportApproved", {"version": 9, "review_id": "review-1", "approved_by": "wg"}
    )
    _, old = fact("Practice.PassportApproved", {"version": 9})

    assert found["data"] == {"review_id": "review-1", "approved_by": "wg"}
    assert old["data"] == {"review_id": "", "approved_by": ""}
