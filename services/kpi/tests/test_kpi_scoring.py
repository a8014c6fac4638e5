from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType

import grpc
import pytest
from kpi.domain.policy import DEFAULT_POLICY, ScoringPolicy, check_policy, policy_for
from kpi.domain.scoring import (
    FAILED,
    PASSED,
    PENDING,
    Closure,
    Evaluation,
    Fact,
    Scorecard,
    effective_month,
    next_month,
    previous_month,
    score_month,
)
from lmp_kit.errors import InvalidArgumentError

MONTH = "2026-10"
IN_OCTOBER = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
FIVE_SPEAKERS = ["s1", "s2", "s3", "s4", "s5"]


def fact(event_id, what, ref="", month=MONTH, at=IN_OCTOBER, **data):
    return Fact(event_id=event_id, kind=what, month=month, occurred_at=at, ref=ref, data=data)


def evaluation(score="1", *, branding=True, methodology=True):
    return Evaluation(
        score=Decimal(score),
        branding_used=branding,
        methodology_followed=methodology,
        conclusion="Good month",
        curator="curator-1",
        event_id="eval-1",
    )


def perfect_month():
    facts = [fact("city", "city", "sarov", month="2026-01", voter_target=100)]
    for n in range(3):
        facts += [
            fact(f"practice-{n}", "practice", f"p{n}", month="2026-01", kind="own"),
            fact(f"passport-{n}", "passport", f"p{n}", month="2026-09", review_id=f"review-{n}"),
        ]
    facts += [
        fact("poll-closed", "poll_closed", "poll-1", kind="city_problem"),
        *(fact(f"ballot-{n}", "ballot", "poll-1", pseudonym=f"v{n}") for n in range(100)),
        fact("fact-recognized", "improvement", "f1"),
        fact("problem-solved", "problem_solved", "problem-1"),
        fact(
            "meeting",
            "activity",
            "a1",
            title="Residents' meeting",
            speakers=FIVE_SPEAKERS,
            joint_action=True,
        ),
        fact("announced", "announcement", "a1"),
        fact("released", "press_release", "a1"),
        fact("reported", "report", "a1"),
    ]
    return facts


def score(facts, closures=None, curator=None, policy=DEFAULT_POLICY):
    return score_month(
        "sarov", MONTH, facts=facts, closures=closures or {}, evaluation=curator, policy=policy
    )


def without(facts, *event_ids):
    return [f for f in facts if f.event_id not in event_ids]


def test_a_month_meeting_every_target_scores_100_and_passes():
    card = score(perfect_month(), curator=evaluation())

    assert card.total == Decimal("100.00")
    assert card.verdict == PASSED
    assert card.failed_knockouts == ()
    assert card.policy_version == "2026.1"


def test_the_default_policy_weighs_the_indicators_as_the_methodology_does():
    card = score(perfect_month(), curator=evaluation())

    assert {i.name: i.weight for i in card.indicators} == {
        "packaged": 20,
        "voting": 20,
        "improvement": 30,
        "external_resources": 10,
        "expert": 20,
    }


def test_packaged_practices_count_own_approved_passports_against_three():
    facts = without(perfect_month(), "passport-2")

    packaged = score(facts).indicator("packaged")

    assert (packaged.achieved, packaged.attainment, packaged.points) == (
        2,
        Decimal("0.6667"),
        Decimal("13.33"),
    )
    assert packaged.evidence == ("passport-0", "passport-1")


def test_an_external_practice_with_a_passport_is_not_packaged():
    facts = [
        *without(perfect_month(), "practice-2"),
        fact("practice-2", "practice", "p2", kind="external"),
    ]

    assert score(facts).indicator("packaged").achieved == 2


def test_a_passport_approved_after_the_month_does_not_count_in_it():
    facts = [
        *without(perfect_month(), "passport-2"),
        fact("passport-2", "passport", "p2", month="2026-11", review_id="review-2"),
    ]

    assert score(facts).indicator("packaged").achieved == 2


def test_a_passport_approved_without_the_councils_conclusion_is_not_packaged():
    facts = [
        *without(perfect_month(), "passport-2"),
        fact("passport-2", "passport", "p2", month="2026-09"),
    ]

    card = score(facts, curator=evaluation())

    assert card.indicator("packaged").achieved == 2
    assert card.indicator("packaged").evidence == ("passport-0", "passport-1")
    assert card.knockout("K1").outcome == "failed"
    assert card.knockout("K1").evidence == ("passport-0", "passport-1")


def test_a_later_council_approved_passport_of_the_same_practice_counts():
    facts = [
        *without(perfect_month(), "passport-2"),
        fact("passport-2", "passport", "p2", month="2026-08"),
        fact("passport-2-confirmed", "passport", "p2", month="2026-10", review_id="review-7"),
    ]

    packaged = score(facts).indicator("packaged")

    assert packaged.achieved == 3
    assert packaged.evidence == ("passport-0", "passport-1", "passport-2-confirmed")


def test_voting_scores_distinct_voters_of_closed_city_problem_polls_against_the_target():
    facts = [f for f in perfect_month() if not f.event_id.startswith("ballot-")]
    facts += [fact(f"ballot-{n}", "ballot", "poll-1", pseudonym=f"v{n % 40}") for n in range(60)]

    voting = score(facts).indicator("voting")

    assert (voting.achieved, voting.target, voting.attainment) == (40, 100, Decimal("0.4000"))
    assert "poll-closed" in voting.evidence
    assert "city" in voting.evidence


def test_voting_scores_nothing_without_a_closed_city_problem_poll():
    facts = [
        *without(perfect_month(), "poll-closed"),
        fact("poll-closed", "poll_closed", "poll-1", kind="practice_rating"),
    ]

    voting = score(facts).indicator("voting")

    assert voting.points == Decimal("0.00")
    assert voting.note == "no city-problem poll closed in 2026-10"


def test_voting_attainment_is_capped_at_one():
    facts = [*without(perfect_month(), "city"), fact("city", "city", "sarov", voter_target=10)]

    assert score(facts).indicator("voting").attainment == Decimal("1.0000")


def test_improvement_counts_recognized_facts_of_the_month():
    facts = [*perfect_month(), fact("fact-2", "improvement", "f2")]
    none = without(perfect_month(), "fact-recognized")

    assert score(facts).indicator("improvement").evidence == ("fact-2", "fact-recognized")
    assert score(none).indicator("improvement").points == Decimal("0.00")


def test_a_case_and_the_problem_it_solved_are_one_task_solved_with_external_resources():
    facts = [
        *perfect_month(),
        fact("case-1", "external_case", "case-1", problem_id="problem-1"),
        fact("case-2", "external_case", "case-2", problem_id=None),
    ]

    external = score(facts).indicator("external_resources")

    assert external.achieved == 2
    assert external.evidence == ("case-1", "case-2", "problem-solved")


def test_the_expert_indicator_is_the_curators_score():
    card = score(perfect_month(), curator=evaluation("0.5"))

    assert card.indicator("expert").points == Decimal("10.00")
    assert card.indicator("expert").evidence == ("eval-1",)
    assert card.total == Decimal("90.00")


def test_without_the_curator_the_month_is_pending_on_k6_and_k7():
    card = score(perfect_month())

    assert card.verdict == PENDING
    assert card.knockout("K6").outcome == PENDING
    assert card.knockout("K7").outcome == PENDING
    assert card.indicator("expert").note == "awaiting the curator's evaluation"


@pytest.mark.parametrize(
    ("code", "change"),
    [
        ("K1", lambda f: without(f, "passport-0")),
        ("K2", lambda f: without(f, "released")),
        ("K2", lambda f: without(f, "announced")),
        ("K3", lambda f: without(f, "fact-recognized")),
        (
            "K4",
            lambda f: [
                *without(f, "meeting"),
                fact("meeting", "activity", "a1", speakers=["s1"], joint_action=True),
            ],
        ),
        (
            "K5",
            lambda f: [
                *without(f, "meeting"),
                fact("meeting", "activity", "a1", speakers=FIVE_SPEAKERS),
            ],
        ),
        ("K8", lambda f: without(f, "reported")),
    ],
)
def test_a_knock_out_derived_from_events_fails_the_month_whatever_the_score(code, change):
    card = score(change(perfect_month()), curator=evaluation())

    assert card.knockout(code).outcome == FAILED
    assert card.failed_knockouts == (code,)
    assert card.verdict == FAILED
    assert card.total > Decimal(60)


@pytest.mark.parametrize(
    ("code", "curator"),
    [("K6", evaluation(branding=False)), ("K7", evaluation(methodology=False))],
)
def test_a_curators_knock_out_fails_the_month_whatever_the_score(code, curator):
    card = score(perfect_month(), curator=curator)

    assert card.failed_knockouts == (code,)
    assert card.verdict == FAILED
    assert card.total == Decimal("100.00")


def test_a_knock_out_says_which_activities_and_why():
    facts = [*without(perfect_month(), "reported")]

    k8 = score(facts).knockout("K8")

    assert k8.reason == '1 activities without a report: "Residents\' meeting"'
    assert k8.evidence == ("meeting",)


def test_a_month_without_activities_fails_on_speakers_and_joint_action():
    facts = [f for f in perfect_month() if f.kind != "activity"]

    card = score(facts, curator=evaluation())

    assert card.failed_knockouts == ("K4", "K5")


def test_k1_evidence_lists_the_passport_events():
    assert score(perfect_month()).knockout("K1").evidence == (
        "passport-0",
        "passport-1",
        "passport-2",
    )


def test_a_fact_for_a_closed_month_counts_in_the_month_it_arrived_in():
    late = fact("late", "improvement", "f9", month="2026-09", at=IN_OCTOBER)
    closures = {"2026-09": [Closure(signed_at=datetime(2026, 10, 5, tzinfo=UTC))]}

    assert effective_month(late, closures) == "2026-10"
    assert effective_month(late, {}) == "2026-09"
    assert "late" in score([*perfect_month(), late], closures).indicator("improvement").evidence


def test_an_amendment_reopens_the_month_for_facts_arriving_after_it():
    closures = {
        "2026-09": [
            Closure(
                signed_at=datetime(2026, 10, 5, tzinfo=UTC),
                reopened_at=datetime(2026, 10, 10, tzinfo=UTC),
            )
        ]
    }
    during = fact(
        "during", "improvement", "f8", month="2026-09", at=datetime(2026, 10, 7, tzinfo=UTC)
    )
    after = fact("after", "improvement", "f9", month="2026-09", at=IN_OCTOBER)

    assert effective_month(during, closures) == "2026-10"
    assert effective_month(after, closures) == "2026-09"


def test_a_scorecard_survives_its_payload_unchanged():
    card = score(perfect_month(), curator=evaluation("0.75"))

    assert Scorecard.from_payload(card.as_payload()) == card


def test_the_same_facts_in_any_order_give_the_same_scorecard():
    facts = perfect_month()

    assert score(facts) == score(list(reversed(facts)))


def test_a_policy_for_a_programme_year_changes_weights_and_records_its_version():
    policy = check_policy(
        ScoringPolicy(
            version="2027.1",
            year=2027,
            weights=MappingProxyType(
                {
                    "packaged": 10,
                    "voting": 30,
                    "improvement": 30,
                    "external_resources": 10,
                    "expert": 20,
                }
            ),
            improvement_target=2,
        )
    )

    card = score(perfect_month(), curator=evaluation(), policy=policy)

    assert card.policy_version == "2027.1"
    assert card.indicator("improvement").points == Decimal("15.00")
    assert policy_for("2027-03", [policy]) is policy
    assert policy_for("2026-03", [policy]) is DEFAULT_POLICY


@pytest.mark.parametrize(
    ("weights", "problem"),
    [
        (
            {
                "packaged": 50,
                "voting": 20,
                "improvement": 30,
                "external_resources": 10,
                "expert": 20,
            },
            "weights must add up to 100, not 130",
        ),
        ({"packaged": 100}, "weights must name exactly the indicators"),
    ],
)
def test_a_policy_with_bad_weights_is_refused(weights, problem):
    with pytest.raises(InvalidArgumentError) as raised:
        check_policy(ScoringPolicy(version="2027.1", year=2027, weights=weights))

    assert problem in raised.value.message
    assert raised.value.status == grpc.StatusCode.INVALID_ARGUMENT


def test_a_fact_arriving_after_an_early_signature_counts_in_the_next_month():
    closures = {"2026-10": [Closure(signed_at=datetime(2026, 10, 25, tzinfo=UTC))]}
    before = fact("before", "improvement", "f7", month="2026-10", at=IN_OCTOBER)
    after = fact(
        "after", "improvement", "f8", month="2026-10", at=datetime(2026, 10, 28, tzinfo=UTC)
    )

    assert effective_month(before, closures) == "2026-10"
    assert effective_month(after, closures) == "2026-11"


@pytest.mark.parametrize(
    ("month", "after", "before"),
    [("2026-01", "2026-02", "2025-12"), ("2026-12", "2027-01", "2026-11")],
)
def test_months_follow_each_other_across_years(month, after, before):
    assert (next_month(month), previous_month(month)) == (after, before)


def test_the_thresholds_in_k1_and_k4_titles_are_the_policys_own():
    from dataclasses import replace  # noqa: PLC0415  # this test only

    stricter = replace(DEFAULT_POLICY, version="2027.1", minimum_packaged=4, minimum_speakers=7)

    card = score(perfect_month(), policy=stricter)

    assert card.knockout("K1").title == "at least 4 packaged practices"
    assert card.knockout("K4").title == "at least 7 speakers"
    assert score(perfect_month()).knockout("K4").title == "at least 5 speakers"


def test_k2_says_which_of_the_announcement_and_the_press_release_an_activity_lacks():
    facts = [
        *without(perfect_month(), "released"),
        fact("walk", "activity", "a2", title="Yard walk", speakers=FIVE_SPEAKERS),
        fact("walk-reported", "report", "a2"),
    ]

    k2 = score(facts, curator=evaluation()).knockout("K2")

    assert k2.outcome == FAILED
    assert k2.reason == (
        "2 activities lack an announcement or a press release: "
        '"Residents\' meeting" has no press release; '
        "'Yard walk' has no announcement and no press release"
    )
    assert k2.evidence == ("meeting", "walk")


def test_the_voting_base_counts_voters_per_project_direction_of_the_items_voted_on():
    january = datetime(2026, 1, 10, tzinfo=UTC)
    facts = [
        *without(perfect_month(), "poll-closed", "practice-0", "practice-1"),
        # p0 solves problem-1 (registered so), p1 is linked to problem-2 later
        fact(
            "practice-0",
            "practice",
            "p0",
            month="2026-01",
            at=january,
            kind="own",
            functions=["health"],
            problem_ids=["problem-1"],
        ),
        fact("practice-1", "practice", "p1", "2026-01", january, kind="own", functions=["safety"]),
        fact(
            "p1-classified",
            "practice_classified",
            "p1",
            month="2026-02",
            at=datetime(2026, 2, 1, tzinfo=UTC),
            functions=["ecology", "safety"],
        ),
        fact("p1-linked", "problem_link", "p1", month="2026-03", problem_id="problem-2"),
        fact(
            "poll-closed",
            "poll_closed",
            "poll-1",
            kind="city_problem",
            options=[["problem", "problem-1"], ["problem", "problem-2"], ["problem", "problem-3"]],
        ),
        fact(
            "poll-2-closed",
            "poll_closed",
            "poll-2",
            kind="city_problem",
            options=[["problem", "problem-3"]],
        ),
        *(fact(f"ballot-b{n}", "ballot", "poll-2", pseudonym=f"v{n}") for n in range(95, 110)),
    ]

    voting = score(facts).indicator("voting")

    assert voting.achieved == 110
    assert voting.by_direction == (
        ("ecology", 100),
        ("health", 100),
        ("safety", 100),
        ("unclassified", 15),
    )
    frozen = Scorecard.from_payload(score(facts).as_payload())
    assert frozen.indicator("voting").by_direction == voting.by_direction
    assert frozen.indicator("packaged").by_direction == ()


@pytest.mark.parametrize(
    "target",
    [
        "packaged_target",
        "improvement_target",
        "external_resources_target",
        "minimum_packaged",
        "minimum_speakers",
    ],
)
@pytest.mark.parametrize("value", [0, -1])
def test_a_policy_target_of_zero_or_less_is_refused_naming_it(target, value):
    policy = ScoringPolicy(
        version="2027.1", year=2027, weights=DEFAULT_POLICY.weights, **{target: value}
    )

    with pytest.raises(InvalidArgumentError, match=f"{target} must be at least 1, not {value}"):
        check_policy(policy)
