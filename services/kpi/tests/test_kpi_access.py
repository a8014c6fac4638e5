"""kpi's access table (kpi.access), as the gRPC guard applies it before a handler."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from kpi import views
from kpi.access import RULES, SERVICE_NAME, policy
from kpi.domain.scoring import Indicator, KnockOut, Scorecard
from lmp.kpi.v1 import kpi_pb2
from lmp_kit.access import missing_rules
from lmp_kit.auth import Principal
from lmp_kit.errors import InvalidArgumentError, PermissionDeniedError

pb = kpi_pb2
POLICY = policy()


def caller(*roles: str, cities: tuple[str, ...] = ("sarov",)) -> Principal:
    return Principal(
        f"{'+'.join(roles)}@{'+'.join(cities)}", frozenset(roles), frozenset(cities), frozenset()
    )


def test_every_rpc_of_the_kpi_service_has_a_rule() -> None:
    methods = pb.DESCRIPTOR.services_by_name["KpiService"].methods_by_name

    assert SERVICE_NAME == "lmp.kpi.v1.KpiService"
    assert missing_rules(POLICY, methods) == []
    assert len(RULES) == 13  # the RPCs of kpi.proto


async def test_a_city_scoped_programme_office_cannot_introduce_every_citys_policy() -> None:
    # issue 15: the scoring policy applies to every city's months
    introduce = pb.ScoringPolicy(version="2027.1", year=2027)

    with pytest.raises(PermissionDeniedError, match="federation-wide command"):
        await POLICY.admit("IntroducePolicy", introduce, caller("programme_office"))
    with pytest.raises(PermissionDeniedError, match="needs one of the roles programme_office"):
        await POLICY.admit("IntroducePolicy", introduce, caller("curator", cities=("*",)))
    await POLICY.admit("IntroducePolicy", introduce, caller("programme_office", cities=("*",)))


@pytest.mark.parametrize(
    ("method", "request_type"),
    [("EvaluateMonth", pb.EvaluateMonthRequest), ("SignMonth", pb.SignMonthRequest)],
)
async def test_only_a_curator_of_the_city_evaluates_and_signs(method, request_type) -> None:
    request = request_type(city_id="sarov", month="2026-11")

    await POLICY.admit(method, request, caller("curator"))
    with pytest.raises(PermissionDeniedError, match="not for city 'sarov'"):
        await POLICY.admit(method, request, caller("curator", cities=("seversk",)))
    for role in ("working_group", "programme_office", "resident"):
        with pytest.raises(PermissionDeniedError, match="needs one of the roles curator"):
            await POLICY.admit(method, request, caller(role, cities=("*",)))


async def test_the_programme_office_closes_reporting_and_it_or_the_curator_amends() -> None:
    close = pb.CloseReportingRequest(city_id="sarov", month="2026-12", reason="Holidays")
    amend = pb.AmendMonthRequest(city_id="sarov", month="2026-11", reason="A late fact")

    await POLICY.admit("CloseReporting", close, caller("programme_office"))
    with pytest.raises(PermissionDeniedError, match="needs one of the roles programme_office"):
        await POLICY.admit("CloseReporting", close, caller("curator"))
    await POLICY.admit("AmendMonth", amend, caller("curator"))
    await POLICY.admit("AmendMonth", amend, caller("programme_office"))
    with pytest.raises(PermissionDeniedError, match="not for city 'sarov'"):
        await POLICY.admit("AmendMonth", amend, caller("curator", cities=("seversk",)))
    with pytest.raises(PermissionDeniedError, match="needs one of the roles"):
        await POLICY.admit("AmendMonth", amend, caller("working_group"))


@pytest.mark.parametrize(
    ("method", "request_type"),
    [
        ("GetProblemStats", pb.GetProblemStatsRequest),
        ("ListProblemStats", pb.ListProblemStatsRequest),
        ("GetScorecard", pb.GetScorecardRequest),
        ("GetIndicatorHistory", pb.GetIndicatorHistoryRequest),
        ("WatchScorecards", pb.WatchScorecardsRequest),
    ],
)
async def test_a_citys_figures_are_read_by_any_role_of_that_city_only(method, request_type) -> None:
    await POLICY.admit(method, request_type(city_id="sarov"), caller("resident"))
    with pytest.raises(PermissionDeniedError, match="not for city 'sarov'"):
        await POLICY.admit(
            method, request_type(city_id="sarov"), caller("curator", cities=("seversk",))
        )
    with pytest.raises(InvalidArgumentError, match="city_id is required"):
        await POLICY.admit(method, request_type(), caller("resident"))


async def test_the_leaderboard_export_and_policies_are_read_by_every_city() -> None:
    for method, request in (
        ("GetLeaderboard", pb.GetLeaderboardRequest(month="2026-11")),
        ("ExportMonth", pb.ExportMonthRequest(month="2026-11", format="csv")),
        ("ListPolicies", pb.ListPoliciesRequest()),
    ):
        await POLICY.admit(method, request, caller("resident", cities=("seversk",)))


def card_of(city: str) -> views.MonthCard:
    return views.MonthCard(
        scorecard=Scorecard(
            city_id=city,
            month="2026-11",
            policy_version="2026.1",
            indicators=(
                Indicator(
                    "expert", 20, 0, 1, Decimal("0.5"), Decimal("10.00"), ("ev-1",), "curator c-1"
                ),
            ),
            knockouts=(
                KnockOut(
                    "K8",
                    "an activity without a report",
                    "failed",
                    "1 activities without a report: 'Closed meeting'",
                    ("ev-2",),
                ),
            ),
            total=Decimal("10.00"),
            verdict="failed",
        ),
        status="closed",
        conclusion="Unpublished judgement of the city",
        curator="c-1",
        signed_by="c-1",
        amendments=({"requested_by": "c-1", "reason": "late", "event_id": "ev-3"},),
        awaiting_since=datetime(2026, 12, 1, tzinfo=UTC),
    )


def test_another_citys_card_in_the_leaderboard_shows_its_figures_only() -> None:
    card = card_of("sarov")

    own = views.seen_by(caller("resident"), card)
    other = views.seen_by(caller("curator", cities=("seversk",)), card)

    assert own == card
    assert views.seen_by(caller("programme_office", cities=("*",)), card) == card
    figures = other.scorecard
    assert (figures.city_id, figures.total, figures.verdict, other.status) == (
        "sarov",
        Decimal("10.00"),
        "failed",
        "closed",
    )
    assert [(i.name, i.points, i.evidence, i.note) for i in figures.indicators] == [
        ("expert", Decimal("10.00"), (), "")
    ]
    assert [(k.code, k.outcome, k.reason, k.evidence) for k in figures.knockouts] == [
        ("K8", "failed", "", ())
    ]
    assert figures.failed_knockouts == ("K8",)
    assert (other.conclusion, other.curator, other.signed_by, other.amendments) == ("", "", "", ())
