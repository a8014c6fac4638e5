from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TypeVar

from lmp.kpi.v1 import kpi_pb2, kpi_pb2_grpc
from lmp_kit.auth import principal
from lmp_kit.changes import HUB, ChangeHub
from lmp_kit.commands import run_command
from lmp_kit.domain import check_city_id
from lmp_kit.errors import InvalidArgumentError
from lmp_kit.grpc_server import Registration
from lmp_kit.pages import Pages
from lmp_kit.rpc import Context, timestamp
from pymongo.asynchronous.database import AsyncDatabase

from kpi import access, reports, views
from kpi.application import KpiApplication, evaluation_of
from kpi.domain.checks import check_month
from kpi.domain.periods import KpiPeriod
from kpi.domain.policy import DEFAULT_POLICY, INDICATORS, ScoringPolicy
from kpi.domain.scoring import Scorecard

T = TypeVar("T")
pb = kpi_pb2
LEADERBOARD_PAGES = Pages("kpi.GetLeaderboard", default_size=500, max_size=500)
WATCH_INTERVAL_S = 1.0
WATCH_RECHECK_S = 60.0
EXPORTS = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}


class KpiServicer(kpi_pb2_grpc.KpiServiceServicer):
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        app: KpiApplication,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        hub: ChangeHub = HUB,
    ) -> None:
        self.db = db
        self.app = app
        self.clock = clock
        self.hub = hub

    async def GetProblemStats(  # noqa: N802  # gRPC method name
        self, request: pb.GetProblemStatsRequest, context: Context
    ) -> pb.ProblemStats:
        del context
        check_city_id(request.city_id)
        stats = await views.problem_stats(self.db, request.city_id, request.month)
        return stats_message(stats)

    async def ListProblemStats(  # noqa: N802  # gRPC method name
        self, request: pb.ListProblemStatsRequest, context: Context
    ) -> pb.ListProblemStatsResponse:
        del context
        check_city_id(request.city_id)
        months = await views.problem_stats_by_month(self.db, request.city_id)
        return pb.ListProblemStatsResponse(months=[stats_message(m) for m in months])

    async def GetScorecard(  # noqa: N802  # gRPC method name
        self, request: pb.GetScorecardRequest, context: Context
    ) -> pb.Scorecard:
        del context
        check_city_id(request.city_id)
        card = await views.month_card(
            self.db, request.city_id, check_month(request.month), self.clock()
        )
        return scorecard_message(card)

    async def EvaluateMonth(  # noqa: N802  # gRPC method name
        self, request: pb.EvaluateMonthRequest, context: Context
    ) -> pb.Scorecard:
        del context
        period = await run_command(
            self.app.evaluate,
            principal(),
            request.city_id,
            request.month,
            score=request.score,
            branding_used=request.branding_used,
            methodology_followed=request.methodology_followed,
            conclusion=request.conclusion,
        )
        return scorecard_message(await self.live_card(period))

    async def SignMonth(  # noqa: N802  # gRPC method name
        self, request: pb.SignMonthRequest, context: Context
    ) -> pb.Scorecard:
        del context
        actor = principal()
        basis = await run_command(self.app.signing_basis, request.city_id, request.month)
        card = await views.compute_scorecard(
            self.db,
            request.city_id,
            request.month,
            evaluation=basis.evaluation,
            introduced=await run_command(self.app.policies),
        )
        period = await run_command(
            self.app.sign, actor, request.city_id, request.month, card.as_payload(), basis.version
        )
        return scorecard_message(self.period_card(period, card))

    async def CloseReporting(  # noqa: N802  # gRPC method name
        self, request: pb.CloseReportingRequest, context: Context
    ) -> pb.Scorecard:
        del context
        period = await run_command(
            self.app.close_reporting, principal(), request.city_id, request.month, request.reason
        )
        return scorecard_message(await self.live_card(period))

    async def AmendMonth(  # noqa: N802  # gRPC method name
        self, request: pb.AmendMonthRequest, context: Context
    ) -> pb.Scorecard:
        del context
        period = await run_command(
            self.app.amend, principal(), request.city_id, request.month, request.reason
        )
        return scorecard_message(await self.live_card(period))

    async def live_card(self, period: KpiPeriod) -> views.MonthCard:
        card = await views.compute_scorecard(
            self.db,
            period.city_id,
            period.month,
            evaluation=evaluation_of(period) if period.evaluation else None,
            introduced=await run_command(self.app.policies),
        )
        return self.period_card(period, card)

    def period_card(self, period: KpiPeriod, card: Scorecard) -> views.MonthCard:
        given = period.evaluation or {}
        return views.MonthCard(
            scorecard=card,
            status=period.status(self.clock()),
            conclusion=str(given.get("conclusion", "")),
            curator=str(given.get("curator", "")),
            signed_by=period.signed_by,
            amendments=tuple(period.amendments),
        )

    async def GetLeaderboard(  # noqa: N802  # gRPC method name
        self, request: pb.GetLeaderboardRequest, context: Context
    ) -> pb.GetLeaderboardResponse:
        del context
        caller = principal()
        size = LEADERBOARD_PAGES.size(request.page_size)
        start = LEADERBOARD_PAGES.offset(request.page_token)
        rows = await views.leaderboard(self.db, check_month(request.month), self.clock())
        page = rows[start : start + size]
        more = start + size < len(rows)
        return pb.GetLeaderboardResponse(
            month=request.month,
            entries=[
                pb.LeaderboardEntry(
                    rank=r.rank, scorecard=scorecard_message(views.seen_by(caller, r.card))
                )
                for r in page
            ],
            next_page_token=LEADERBOARD_PAGES.token(start + size) if more else "",
        )

    async def GetIndicatorHistory(  # noqa: N802  # gRPC method name
        self, request: pb.GetIndicatorHistoryRequest, context: Context
    ) -> pb.GetIndicatorHistoryResponse:
        del context
        check_city_id(request.city_id)
        if request.indicator and request.indicator not in INDICATORS:
            names = ", ".join(INDICATORS)
            msg = f"indicator must be one of {names} or empty, not {request.indicator!r}"
            raise InvalidArgumentError(msg)
        check_month(request.from_month)
        check_month(request.to_month)
        if request.from_month > request.to_month:
            msg = f"from_month {request.from_month} is after to_month {request.to_month}"
            raise InvalidArgumentError(msg)
        cards = await views.history(
            self.db,
            request.city_id,
            request.from_month,
            request.to_month,
            self.clock(),
        )
        return pb.GetIndicatorHistoryResponse(
            city_id=request.city_id,
            indicator=request.indicator,
            points=[point_message(c, request.indicator) for c in cards],
        )

    async def WatchScorecards(  # noqa: N802  # gRPC method name
        self, request: pb.WatchScorecardsRequest, context: Context
    ) -> AsyncIterator[pb.Scorecard]:
        check_city_id(request.city_id)
        check_month(request.month)
        last: pb.Scorecard | None = None
        watched = [self.db[c] for c in views.SCORECARD_SOURCES]
        async with self.hub.watch(watched, key=request.city_id, key_field="city_id") as watch:
            while not watch.closed and not context.done():
                watch.arm()
                card = await views.month_card(self.db, request.city_id, request.month, self.clock())
                message = scorecard_message(card)
                if message != last:
                    last = message
                    yield message
                # A month's status also changes with time alone: read again now and then.
                await watch.wait(WATCH_RECHECK_S)
                await watch.pause(WATCH_INTERVAL_S)  # a burst of facts costs one read

    async def IntroducePolicy(  # noqa: N802  # gRPC method name
        self, request: pb.ScoringPolicy, context: Context
    ) -> pb.ScoringPolicy:
        del context
        policy = await run_command(self.app.introduce_policy, policy_of(request))
        return policy_message(policy)

    async def ListPolicies(  # noqa: N802  # gRPC method name
        self, request: pb.ListPoliciesRequest, context: Context
    ) -> pb.ListPoliciesResponse:
        del request, context
        policies = [DEFAULT_POLICY, *await run_command(self.app.policies)]
        return pb.ListPoliciesResponse(policies=[policy_message(p) for p in policies])

    async def ExportMonth(  # noqa: N802  # gRPC method name
        self, request: pb.ExportMonthRequest, context: Context
    ) -> pb.ExportMonthResponse:
        del context
        caller = principal()
        if request.format not in EXPORTS:
            msg = f"format must be one of {', '.join(EXPORTS)}, not {request.format!r}"
            raise InvalidArgumentError(msg)
        rows = [
            views.Ranked(r.rank, views.seen_by(caller, r.card))
            for r in await views.leaderboard(self.db, check_month(request.month), self.clock())
        ]
        render = reports.month_csv if request.format == "csv" else reports.month_html
        return pb.ExportMonthResponse(
            content_type=EXPORTS[request.format],
            filename=f"kpi-{request.month}.{request.format}",
            content=render(request.month, rows),
        )


POLICY_TARGETS = (
    "packaged_target",
    "improvement_target",
    "external_resources_target",
    "minimum_packaged",
    "minimum_speakers",
)


def policy_of(request: pb.ScoringPolicy) -> ScoringPolicy:
    """An unset target is the default policy's; one set to 0 or less is refused by
    check_policy, naming it."""
    return ScoringPolicy(
        version=request.version.strip(),
        year=request.year,
        weights=MappingProxyType(dict(request.weights)),
        **{
            name: getattr(request if request.HasField(name) else DEFAULT_POLICY, name)
            for name in POLICY_TARGETS
        },
    )


def policy_message(policy: ScoringPolicy) -> pb.ScoringPolicy:
    return pb.ScoringPolicy(
        version=policy.version,
        year=policy.year,
        weights=dict(policy.weights),
        packaged_target=policy.packaged_target,
        improvement_target=policy.improvement_target,
        external_resources_target=policy.external_resources_target,
        minimum_packaged=policy.minimum_packaged,
        minimum_speakers=policy.minimum_speakers,
    )


def scorecard_message(month_card: views.MonthCard) -> pb.Scorecard:
    card = month_card.scorecard
    return pb.Scorecard(
        city_id=card.city_id,
        month=card.month,
        status=month_card.status,
        policy_version=card.policy_version,
        total=str(card.total),
        verdict=card.verdict,
        indicators=[
            pb.Indicator(
                name=i.name,
                weight=i.weight,
                achieved=i.achieved,
                target=i.target,
                attainment=str(i.attainment),
                points=str(i.points),
                evidence=list(i.evidence),
                note=i.note,
                by_direction=[pb.DirectionVoters(direction=d, voters=n) for d, n in i.by_direction],
            )
            for i in card.indicators
        ],
        knockouts=[
            pb.KnockOut(
                code=k.code,
                title=k.title,
                outcome=k.outcome,
                reason=k.reason,
                evidence=list(k.evidence),
            )
            for k in card.knockouts
        ],
        failed_knockouts=list(card.failed_knockouts),
        conclusion=month_card.conclusion,
        curator=month_card.curator,
        signed_by=month_card.signed_by,
        amendments=[amendment_message(a) for a in month_card.amendments],
    )


def amendment_message(amendment: dict[str, Any]) -> pb.Amendment:
    message = pb.Amendment(
        event_id=str(amendment.get("event_id", "")),
        requested_by=str(amendment["requested_by"]),
        reason=str(amendment["reason"]),
    )
    if isinstance(amendment.get("amended_at"), datetime):
        message.amended_at.CopyFrom(timestamp(amendment["amended_at"]))
    return message


def point_message(month_card: views.MonthCard, indicator: str) -> pb.IndicatorPoint:
    card = month_card.scorecard
    point = pb.IndicatorPoint(
        month=card.month,
        status=month_card.status,
        total=str(card.total),
        verdict=card.verdict,
        policy_version=card.policy_version,
    )
    if indicator:
        figure = card.indicator(indicator)
        point.attainment = str(figure.attainment)
        point.points = str(figure.points)
        point.evidence.extend(figure.evidence)
    return point


def stats_message(stats: views.ProblemStats) -> pb.ProblemStats:
    message = pb.ProblemStats(
        city_id=stats.city_id, month=stats.month, problems_registered=stats.problems_registered
    )
    if stats.updated_at is not None:
        message.updated_at.CopyFrom(timestamp(stats.updated_at))
    return message


def registrations(db: AsyncDatabase[dict[str, Any]], app: KpiApplication) -> list[Registration]:
    return [
        Registration(
            add=kpi_pb2_grpc.add_KpiServiceServicer_to_server,
            servicer=KpiServicer(db, app),
            service_name=access.SERVICE_NAME,
            access=access.policy(),
        )
    ]
