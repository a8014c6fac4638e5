"""KPI rules as the seed has them (issue 18), on real servers: the voting indicator's base by
project direction, K2's reason naming what an activity lacks, and a policy's targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2 as reg
from lmp.voting.v1 import voting_pb2

from .test_kpi_scorecards import (
    LAST_MONTH,
    SPEAKERS,
    THIS_MONTH,
    indicator,
    knockout,
    scorecard,
    stamp,
    wait_for,
)


def refused(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value


WEIGHTS = {"packaged": 20, "voting": 20, "improvement": 30, "external_resources": 10, "expert": 20}


def test_the_voting_indicator_shows_its_voters_by_project_direction(slice_factory):
    stack = slice_factory()
    stack.start("registry")
    stack.start("voting")
    stack.start("kpi")
    stack.register_city("sarov", voter_target=4)
    registry, group = stack.registry(), stack.metadata("working_group", cities=("sarov",))
    problems = [
        registry.RegisterProblem(
            reg.RegisterProblemRequest(city_id="sarov", title=f"Direction problem {n}"),
            metadata=group,
            timeout=10,
        ).problem.problem_id
        for n in range(4)
    ]
    for title, function, problem_id in (
        ("Clinic queues online", "health", problems[0]),
        ("Lit crossings", "safety", problems[1]),
    ):
        registry.RegisterPractice(
            reg.RegisterPracticeRequest(
                city_id="sarov",
                kind="external",
                title=title,
                problem_ids=[problem_id],
                cells=[reg.Cell(function=function, method="external_interaction")],
            ),
            metadata=group,
            timeout=10,
        )
    voting = stack.voting()
    now = datetime.now(UTC)
    opens_at, closes_at = Timestamp(), Timestamp()
    opens_at.FromDatetime(now - timedelta(minutes=1))
    closes_at.FromDatetime(now + timedelta(days=1))

    def poll(options, voters):
        created = voting.CreatePoll(
            voting_pb2.CreatePollRequest(
                city_id="sarov",
                kind="city_problem",
                title=f"Which problem first? {len(options)}",
                method="single_choice",
                options=[voting_pb2.OptionRef(ref_kind="problem", ref_id=p) for p in options],
                opens_at=opens_at,
                closes_at=closes_at,
            ),
            metadata=group,
            timeout=10,
        )
        for resident in voters:
            voting.CastBallot(
                voting_pb2.CastBallotRequest(
                    poll_id=created.poll_id,
                    voter_id=resident,
                    voter_role="resident",
                    choices=[voting_pb2.Choice(option_id="o1", value=1)],
                ),
                metadata=stack.metadata("portal", cities=("sarov",)),
                timeout=10,
            )
        voting.ClosePoll(
            voting_pb2.ClosePollRequest(poll_id=created.poll_id), metadata=group, timeout=30
        )

    poll(problems[:2], ("r1", "r2", "r3"))  # health and safety
    poll(problems[2:], ("r3", "r4"))  # problems no practice solves yet

    card = wait_for(
        lambda: scorecard(stack, "sarov", THIS_MONTH),
        lambda c: len(indicator(c, "voting").by_direction) == 3,  # three directions
    )

    voters = indicator(card, "voting")
    assert (voters.achieved, voters.target) == (4, 4)
    assert [(d.direction, d.voters) for d in voters.by_direction] == [
        ("health", 3),
        ("safety", 3),
        ("unclassified", 2),
    ]
    assert not indicator(card, "packaged").by_direction


def test_k2_names_the_missing_press_release_of_an_announced_activity(stack):
    stack.register_city("sarov")
    registry, group = stack.registry(), stack.metadata("working_group", cities=("sarov",))
    found = registry.RegisterActivity(
        reg.RegisterActivityRequest(
            city_id="sarov",
            kind="working_meeting",
            title="Announced meeting",
            held_on=f"{LAST_MONTH}-10",
            speakers=SPEAKERS,
            participant_categories=["administration", "enterprise"],
            branding_used=True,
        ),
        metadata=group,
        timeout=10,
    )
    registry.PublishAnnouncement(
        reg.PublishRequest(activity_id=found.activity_id, text="Come", published_at=stamp()),
        metadata=group,
        timeout=10,
    )

    card = wait_for(
        lambda: scorecard(stack, "sarov", LAST_MONTH),
        lambda c: "has no press release" in knockout(c, "K2").reason,
    )

    k2 = knockout(card, "K2")
    assert k2.outcome == "failed"
    assert k2.reason == (
        "1 activities lack an announcement or a press release: "
        "'Announced meeting' has no press release"
    )


def test_a_policy_target_of_zero_or_less_is_refused_naming_it_and_an_unset_one_is_the_default(
    slice_factory,
):
    stack = slice_factory()
    stack.start("kpi")
    office = stack.metadata("programme_office", cities=("*",))
    kpi = stack.kpi()

    zero = refused(
        lambda: kpi.IntroducePolicy(
            kpi_pb2.ScoringPolicy(
                version="2031.1", year=2031, weights=WEIGHTS, improvement_target=0
            ),
            metadata=office,
            timeout=10,
        )
    )
    negative = refused(
        lambda: kpi.IntroducePolicy(
            kpi_pb2.ScoringPolicy(
                version="2031.1", year=2031, weights=WEIGHTS, minimum_speakers=-2
            ),
            metadata=office,
            timeout=10,
        )
    )
    introduced = kpi.IntroducePolicy(
        kpi_pb2.ScoringPolicy(version="2031.1", year=2031, weights=WEIGHTS, packaged_target=4),
        metadata=office,
        timeout=30,
    )

    assert zero.code() == negative.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "improvement_target must be at least 1, not 0" in (zero.details() or "")
    assert "minimum_speakers must be at least 1, not -2" in (negative.details() or "")
    assert (introduced.packaged_target, introduced.improvement_target) == (4, 1)
    assert introduced.minimum_speakers == 5  # the default policy's
