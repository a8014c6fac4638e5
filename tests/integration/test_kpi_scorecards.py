"""The KPI service on real servers: registry and kpi as `lmp serve` processes, real MongoDB."""

from __future__ import annotations

import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from kpi import views
from kpi.consumers import SUBSCRIPTIONS
from kpi.metrics import previous_month
from kpi.projections import PERIODS, REGISTRY_FACTS_COLLECTION
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2 as reg
from lmp.voting.v1 import voting_pb2, voting_pb2_grpc
from lmp_kit.consumer import TrackedConsumer
from lmp_kit.runtime import service_token
from lmp_kit.settings import Settings
from pymongo import AsyncMongoClient

NOW = datetime.now(UTC)
LAST_MONTH = previous_month(NOW)
THIS_MONTH = NOW.strftime("%Y-%m")
SPEAKERS = [reg.Person(person_id=f"s{n}", name=f"Speaker {n}") for n in range(5)]
PHOTO = reg.Photo(uri="https://photos.example/1.jpg", sha256="a" * 64)


def stamp():
    moment = Timestamp()
    moment.FromDatetime(datetime.now(UTC))
    return moment


def wait_for(read, done, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def indicator(card, name):
    return next(i for i in card.indicators if i.name == name)


def knockout(card, code):
    return next(k for k in card.knockouts if k.code == code)


def scorecard(stack, city, month, *roles):
    return stack.kpi().GetScorecard(
        kpi_pb2.GetScorecardRequest(city_id=city, month=month),
        metadata=stack.metadata(*(roles or ("working_group",))),
        timeout=30,
    )


def activity(stack, city, title, *, reported=True):
    registry = stack.registry()
    writer = stack.metadata("working_group")
    found = registry.RegisterActivity(
        reg.RegisterActivityRequest(
            city_id=city,
            kind="working_meeting",
            title=title,
            held_on=f"{LAST_MONTH}-10",
            speakers=SPEAKERS,
            joint_action=True,
            branding_used=True,
        ),
        metadata=writer,
        timeout=10,
    )
    publish = reg.PublishRequest(activity_id=found.activity_id, text="Text", published_at=stamp())
    registry.PublishAnnouncement(publish, metadata=writer, timeout=10)
    registry.PublishPressRelease(publish, metadata=writer, timeout=10)
    if reported:
        registry.FileActivityReport(
            reg.FileActivityReportRequest(
                activity_id=found.activity_id, attendees=SPEAKERS[:1], photos=[PHOTO]
            ),
            metadata=writer,
            timeout=10,
        )


def recognized_fact(stack, city, month, title):
    registry = stack.registry()
    fact = registry.RecordImprovementFact(
        reg.RecordImprovementFactRequest(
            city_id=city,
            month=month,
            title=title,
            description="Permits now take 5 days instead of 30",
            evidence=["https://city.example/order-12"],
        ),
        metadata=stack.metadata("working_group"),
        timeout=10,
    )
    registry.JudgeImprovementFact(
        reg.JudgeImprovementFactRequest(fact_id=fact.fact_id, recognized=True),
        metadata=stack.metadata("curator"),
        timeout=10,
    )


def seed(stack):
    registry = stack.registry()
    office = stack.metadata("programme_office", cities=("*",))
    for city, target in (("sarov", 100), ("seversk", 50)):
        registry.RegisterCity(
            reg.RegisterCityRequest(
                city_id=city,
                name=city.title(),
                region="Region",
                kind="zato",
                population=90_000,
                voter_target=target,
            ),
            metadata=office,
            timeout=10,
        )
    activity(stack, "sarov", "Residents' meeting")
    activity(stack, "seversk", "Unreported meeting", reported=False)
    recognized_fact(stack, "sarov", LAST_MONTH, "Faster permits")
    problem = registry.RegisterProblem(
        reg.RegisterProblemRequest(city_id="sarov", title="Unlit yards", description="Dark"),
        metadata=stack.metadata("working_group"),
        timeout=10,
    )
    registry.MarkProblemSolved(
        reg.MarkProblemSolvedRequest(
            problem_id=problem.problem.problem_id, solved_with_external_resources=True
        ),
        metadata=stack.metadata("working_group"),
        timeout=10,
    )
    return wait_for(
        lambda: scorecard(stack, "sarov", LAST_MONTH),
        lambda c: (
            indicator(c, "improvement").achieved == 1 and knockout(c, "K8").outcome == "passed"
        ),
    )


def evaluate(stack, month=LAST_MONTH, score="0.75", *roles, city="sarov"):
    return stack.kpi().EvaluateMonth(
        kpi_pb2.EvaluateMonthRequest(
            city_id=city,
            month=month,
            score=score,
            branding_used=True,
            methodology_followed=True,
            conclusion="Meetings held properly; packaging is late.",
        ),
        metadata=stack.metadata(*(roles or ("curator",)), cities=("sarov",)),
        timeout=30,
    )


def sign(stack, month=LAST_MONTH):
    return stack.kpi().SignMonth(
        kpi_pb2.SignMonthRequest(city_id="sarov", month=month),
        metadata=stack.metadata("curator", cities=("sarov",)),
        timeout=30,
    )


def refused(call):
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value.code()


def test_the_scorecard_shows_indicators_and_knock_outs_with_their_evidence(stack):
    card = seed(stack)

    assert card.status == "awaiting_curator"
    assert card.policy_version == "2026.1"
    assert indicator(card, "improvement").points == "30.00"
    assert len(indicator(card, "improvement").evidence) == 1
    assert knockout(card, "K1").outcome == "failed"
    assert knockout(card, "K1").reason == "only 0 packaged practices; at least 3 needed"
    assert [knockout(card, k).outcome for k in ("K2", "K3", "K4", "K5", "K8")] == ["passed"] * 5
    assert knockout(card, "K6").outcome == "pending"
    assert card.verdict == "failed"
    assert list(card.failed_knockouts) == ["K1"]
    seversk = scorecard(stack, "seversk", LAST_MONTH)
    assert knockout(seversk, "K8").reason == "1 activities without a report: 'Unreported meeting'"
    this_month = scorecard(stack, "sarov", THIS_MONTH)
    assert this_month.status == "open"
    assert indicator(this_month, "external_resources").achieved == 1


def test_the_curator_evaluates_signs_and_amends_a_month(stack):  # one workflow
    seed(stack)

    assert refused(lambda: evaluate(stack, LAST_MONTH, "1.5")) == grpc.StatusCode.INVALID_ARGUMENT
    assert refused(lambda: evaluate(stack, THIS_MONTH)) == grpc.StatusCode.FAILED_PRECONDITION
    assert (
        refused(lambda: evaluate(stack, LAST_MONTH, "0.5", "working_group"))
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        refused(lambda: evaluate(stack, LAST_MONTH, "0.5", "curator", city="seversk"))
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert refused(lambda: sign(stack)) == grpc.StatusCode.FAILED_PRECONDITION

    evaluated = evaluate(stack)
    assert indicator(evaluated, "expert").points == "15.00"
    assert evaluated.total == "45.00"
    assert knockout(evaluated, "K6").outcome == "passed"

    signed = sign(stack)
    assert (signed.status, signed.total, signed.verdict) == ("closed", "45.00", "failed")
    frozen = wait_for(lambda: scorecard(stack, "sarov", LAST_MONTH), lambda c: c.status == "closed")
    assert frozen.total == "45.00"
    assert frozen.conclusion == "Meetings held properly; packaging is late."
    assert refused(lambda: evaluate(stack)) == grpc.StatusCode.FAILED_PRECONDITION

    recognized_fact(stack, "sarov", LAST_MONTH, "Late fact for the closed month")
    this_month = wait_for(
        lambda: scorecard(stack, "sarov", THIS_MONTH),
        lambda c: indicator(c, "improvement").achieved == 1,
    )
    assert indicator(this_month, "improvement").achieved == 1
    assert scorecard(stack, "sarov", LAST_MONTH) == frozen

    amend = kpi_pb2.AmendMonthRequest(city_id="sarov", month=LAST_MONTH, reason=" ")
    curator = stack.metadata("curator", cities=("sarov",))
    assert (
        refused(lambda: stack.kpi().AmendMonth(amend, metadata=curator, timeout=10))
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    amend.reason = "The late fact belongs to this month's evaluation"
    reopened = stack.kpi().AmendMonth(amend, metadata=curator, timeout=30)
    assert reopened.status == "awaiting_curator"
    assert [a.reason for a in reopened.amendments] == [amend.reason]

    board = wait_for(
        lambda: stack.kpi().GetLeaderboard(
            kpi_pb2.GetLeaderboardRequest(month=LAST_MONTH), metadata=curator, timeout=30
        ),
        lambda b: b.entries and b.entries[0].scorecard.status == "awaiting_curator",
    )
    assert [(e.rank, e.scorecard.city_id, e.scorecard.total) for e in board.entries] == [
        (1, "sarov", "45.00"),
        (2, "seversk", "0.00"),
    ]
    # The curator of sarov sees seversk's figures, not its evidence, reasons or curator's words.
    ours, theirs = (e.scorecard for e in board.entries)
    assert ours.conclusion == "Meetings held properly; packaging is late."
    assert knockout(ours, "K8").reason
    assert (theirs.verdict, knockout(theirs, "K8").outcome) == ("failed", "failed")
    assert [(k.reason, list(k.evidence)) for k in theirs.knockouts] == [("", [])] * len(
        theirs.knockouts
    )
    assert all(not i.evidence and not i.note for i in theirs.indicators)
    html = stack.kpi().ExportMonth(
        kpi_pb2.ExportMonthRequest(month=LAST_MONTH, format="html"), metadata=curator, timeout=30
    )
    assert "Meetings held properly" in html.content.decode()
    assert "Unreported meeting" not in html.content.decode()


def test_the_office_closes_reporting_early_and_later_facts_count_next_month(stack):
    stack.register_city("sarov")
    recognized_fact(stack, "sarov", THIS_MONTH, "Faster permits")
    wait_for(
        lambda: scorecard(stack, "sarov", THIS_MONTH),
        lambda c: indicator(c, "improvement").achieved == 1,
    )
    close = kpi_pb2.CloseReportingRequest(
        city_id="sarov", month=THIS_MONTH, reason="Reporting ends before the holidays"
    )
    office = stack.metadata("programme_office", cities=("*",))
    curator = stack.metadata("curator", cities=("sarov",))

    not_office = refused(lambda: stack.kpi().CloseReporting(close, metadata=curator, timeout=10))
    closed_early = stack.kpi().CloseReporting(close, metadata=office, timeout=30)
    twice = refused(lambda: stack.kpi().CloseReporting(close, metadata=office, timeout=10))
    evaluate(stack, THIS_MONTH)
    signed = sign(stack, THIS_MONTH)
    recognized_fact(stack, "sarov", THIS_MONTH, "Arrived after the signature")
    next_month = (NOW.replace(day=1) + timedelta(days=32)).strftime("%Y-%m")
    later = wait_for(
        lambda: scorecard(stack, "sarov", next_month),
        lambda c: indicator(c, "improvement").achieved == 1,
    )

    assert not_office == grpc.StatusCode.PERMISSION_DENIED
    assert twice == grpc.StatusCode.FAILED_PRECONDITION
    assert closed_early.status == "awaiting_curator"
    assert (signed.status, indicator(signed, "improvement").achieved) == ("closed", 1)
    assert indicator(later, "improvement").achieved == 1
    assert indicator(scorecard(stack, "sarov", THIS_MONTH), "improvement").achieved == 1


def test_only_an_all_cities_programme_office_introduces_a_scoring_policy(slice_factory):
    # issue 15: a programme office scoped to one city changed the policy of every city
    kpi = slice_factory()
    kpi.start("kpi")
    policy = kpi_pb2.ScoringPolicy(
        version="2030.1",
        year=2030,
        weights={
            "packaged": 20,
            "voting": 20,
            "improvement": 30,
            "external_resources": 10,
            "expert": 20,
        },
    )
    one_city = kpi.metadata("programme_office", cities=("sarov",))
    every_city = kpi.metadata("programme_office", cities=("*",))

    refusal = refused(lambda: kpi.kpi().IntroducePolicy(policy, metadata=one_city, timeout=10))
    introduced = kpi.kpi().IntroducePolicy(policy, metadata=every_city, timeout=30)
    listed = kpi.kpi().ListPolicies(
        kpi_pb2.ListPoliciesRequest(), metadata=kpi.metadata("resident"), timeout=10
    )

    assert refusal == grpc.StatusCode.PERMISSION_DENIED
    assert introduced.version == "2030.1"
    assert [p.version for p in listed.policies] == ["2026.1", "2030.1"]


def test_history_exports_stream_and_gauges_follow_the_scorecards(stack):
    seed(stack)
    reader = stack.metadata("working_group")
    kpi = stack.kpi()

    history = kpi.GetIndicatorHistory(
        kpi_pb2.GetIndicatorHistoryRequest(
            city_id="sarov", indicator="improvement", from_month=LAST_MONTH, to_month=THIS_MONTH
        ),
        metadata=reader,
        timeout=30,
    )
    assert [(p.month, p.points) for p in history.points] == [
        (LAST_MONTH, "30.00"),
        (THIS_MONTH, "0.00"),
    ]
    bad = kpi_pb2.GetIndicatorHistoryRequest(
        city_id="sarov", indicator="fame", from_month=LAST_MONTH, to_month=THIS_MONTH
    )
    assert (
        refused(lambda: kpi.GetIndicatorHistory(bad, metadata=reader, timeout=10))
        == grpc.StatusCode.INVALID_ARGUMENT
    )

    csv = kpi.ExportMonth(
        kpi_pb2.ExportMonthRequest(month=LAST_MONTH, format="csv"), metadata=reader, timeout=30
    )
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("month,rank,city_id,status,verdict,total,packaged_points")
    assert lines[1].startswith(f"{LAST_MONTH},1,sarov,awaiting_curator,failed,30.00")
    html = kpi.ExportMonth(
        kpi_pb2.ExportMonthRequest(month=LAST_MONTH, format="html"), metadata=reader, timeout=30
    )
    assert html.content.decode().count("<svg") == 2
    pdf = kpi_pb2.ExportMonthRequest(month=LAST_MONTH, format="pdf")
    assert (
        refused(lambda: kpi.ExportMonth(pdf, metadata=reader, timeout=10))
        == grpc.StatusCode.INVALID_ARGUMENT
    )

    stream = kpi.WatchScorecards(
        kpi_pb2.WatchScorecardsRequest(city_id="sarov", month=LAST_MONTH),
        metadata=stack.metadata("curator", cities=("sarov",)),
        timeout=60,
    )
    assert next(stream).total == "30.00"
    evaluate(stack)
    assert next(stream).total == "45.00"
    stream.cancel()

    port = Settings.from_env("kpi", stack.env).endpoint.metrics_port

    def scraped():
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/metrics", timeout=5
        ) as page:  # our own server
            return page.read().decode()

    metrics = wait_for(scraped, lambda text: 'lmp_kpi_month_score{city="sarov"} 45.0' in text)
    assert 'lmp_kpi_month_score{city="sarov"} 45.0' in metrics
    assert 'lmp_kpi_knockouts_failed{city="sarov"} 1.0' in metrics
    assert 'lmp_kpi_months_awaiting_curator_seconds{city="sarov"}' in metrics


async def test_recomputing_every_month_from_the_event_logs_gives_the_same_scorecards(stack):
    seed(stack)
    evaluate(stack)
    sign(stack)
    recognized_fact(stack, "sarov", LAST_MONTH, "Late fact for the closed month")
    wait_for(
        lambda: scorecard(stack, "sarov", THIS_MONTH),
        lambda c: indicator(c, "improvement").achieved == 1,
    )
    settings = Settings.from_env("kpi", stack.env)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, tz_aware=True)
    live = client[settings.mongodb_database]
    rebuilt_name = f"{settings.mongodb_database}_replayed"
    try:
        for subscription in SUBSCRIPTIONS:
            if subscription.upstream == "voting":
                continue
            consumer = TrackedConsumer(
                upstream=subscription.upstream,
                projections=subscription.projections,
                client=client,
                database=rebuilt_name,
                upstream_target=stack.target(subscription.upstream),
                topic="unused",
                token=service_token(settings),
            )
            await consumer.prepare()
            await consumer.catch_up()
        rebuilt = client[rebuilt_name]

        async def documents(db, collection):
            return sorted(
                [doc async for doc in db[collection].find({}, {"updated_at": 0})],
                key=lambda d: d["_id"],
            )

        for collection in (REGISTRY_FACTS_COLLECTION, PERIODS):
            assert await documents(rebuilt, collection) == await documents(live, collection)
        for city in ("sarov", "seversk"):
            for month in (LAST_MONTH, THIS_MONTH):
                cards = [
                    await views.compute_scorecard(
                        db,
                        city,
                        month,
                        evaluation=views.evaluation_from(
                            await db[PERIODS].find_one({"_id": f"{city}:{month}"})
                        ),
                        introduced=[],
                    )
                    for db in (live, rebuilt)
                ]
                assert cards[0] == cards[1]
                replayed = await views.month_card(rebuilt, city, month, NOW)
                assert replayed == await views.month_card(live, city, month, NOW)
    finally:
        await client.drop_database(rebuilt_name)
        await client.close()


def test_residents_voting_on_city_problems_scores_against_the_voter_target(slice_factory):
    stack = slice_factory()
    stack.start("registry")
    stack.start("voting")
    stack.start("kpi")
    registry = stack.registry()
    registry.RegisterCity(
        reg.RegisterCityRequest(
            city_id="sarov",
            name="Sarov",
            region="Region",
            kind="zato",
            population=90_000,
            voter_target=4,
        ),
        metadata=stack.metadata("programme_office", cities=("*",)),
        timeout=10,
    )
    problems = [
        registry.RegisterProblem(
            reg.RegisterProblemRequest(city_id="sarov", title=f"Vote problem {n}"),
            metadata=stack.metadata(),
            timeout=10,
        ).problem.problem_id
        for n in range(2)
    ]
    voting = voting_pb2_grpc.VotingServiceStub(grpc.insecure_channel(stack.target("voting")))
    now = datetime.now(UTC)
    opens_at, closes_at = Timestamp(), Timestamp()
    opens_at.FromDatetime(now - timedelta(minutes=1))
    closes_at.FromDatetime(now + timedelta(days=1))
    poll = voting.CreatePoll(
        voting_pb2.CreatePollRequest(
            city_id="sarov",
            kind="city_problem",
            title="Which problem first?",
            method="single_choice",
            options=[voting_pb2.OptionRef(ref_kind="problem", ref_id=p) for p in problems],
            opens_at=opens_at,
            closes_at=closes_at,
        ),
        metadata=stack.metadata(),
        timeout=10,
    )
    for resident in ("r1", "r2", "r3"):
        voting.CastBallot(
            voting_pb2.CastBallotRequest(
                poll_id=poll.poll_id,
                voter_id=resident,
                voter_role="resident",
                choices=[voting_pb2.Choice(option_id="o1", value=1)],
            ),
            metadata=stack.metadata("portal", cities=("sarov",)),
            timeout=10,
        )
    before = scorecard(stack, "sarov", THIS_MONTH)
    assert indicator(before, "voting").note == f"no city-problem poll closed in {THIS_MONTH}"
    voting.ClosePoll(
        voting_pb2.ClosePollRequest(poll_id=poll.poll_id), metadata=stack.metadata(), timeout=30
    )

    card = wait_for(
        lambda: scorecard(stack, "sarov", THIS_MONTH),
        # the ballots and the city's voter target come from two upstreams, in any order
        lambda c: (indicator(c, "voting").achieved, indicator(c, "voting").target) == (3, 4),
    )

    figure = indicator(card, "voting")
    assert (figure.achieved, figure.target, figure.attainment, figure.points) == (
        3,
        4,
        "0.7500",
        "15.00",
    )
    assert len(figure.evidence) == 5  # the closed poll, three ballots, the city
