"""The month's end: the KPI read models take in the month, the curators evaluate and sign,
and the federation leaderboard ranks the closed month."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from lmp.kpi.v1 import kpi_pb2

from lmp_cli.demo.clients import TIMEOUT_S, Portals, eventually
from lmp_cli.demo.output import Printer
from lmp_cli.demo.programme import CURATOR_SCORES, CityRun

# The leaderboard's largest page: the whole federation in one answer.
MAX_BOARD = 500


def close_month(api: Portals, run: CityRun, month: str) -> kpi_pb2.Scorecard:
    """The programme office ends the month's reporting (the demo's month is the current one);
    the city's curator evaluates (expert score, K6, K7, conclusion) and signs."""
    cid = run.city.city_id
    api.kpi.CloseReporting(
        kpi_pb2.CloseReportingRequest(
            city_id=cid, month=month, reason="Демонстрация: цикл программы за один запуск"
        ),
        metadata=api.office(),
        timeout=TIMEOUT_S,
    )
    run.curator_score = CURATOR_SCORES[run.position % len(CURATOR_SCORES)]
    curator = api.curator(cid)
    api.kpi.EvaluateMonth(
        kpi_pb2.EvaluateMonthRequest(
            city_id=cid,
            month=month,
            score=run.curator_score,
            branding_used=True,
            methodology_followed=True,
            conclusion=f"{run.city.name}: методология соблюдается, атрибутика ГСР использована.",
        ),
        metadata=curator,
        timeout=TIMEOUT_S,
    )
    return api.kpi.SignMonth(
        kpi_pb2.SignMonthRequest(city_id=cid, month=month), metadata=curator, timeout=TIMEOUT_S
    )


def settled(card: kpi_pb2.Scorecard, residents: int) -> bool:
    """Every fact the demo produced has reached the scorecard."""
    achieved = {i.name: i.achieved for i in card.indicators}
    outcomes = {k.code: k.outcome for k in card.knockouts}
    return (
        achieved.get("packaged") == 3  # noqa: PLR2004  # three own passports
        and achieved.get("voting") == residents
        and achieved.get("improvement") == 1
        and achieved.get("external_resources") == 1
        and outcomes.get("K2") == "passed"
        and outcomes.get("K8") == "passed"
        and outcomes.get("K5") == "passed"
    )


def close_the_month(
    api: Portals, printer: Printer, runs: Sequence[CityRun], residents: int, month: str
) -> tuple[dict[str, kpi_pb2.Scorecard], kpi_pb2.GetLeaderboardResponse]:
    printer.stage("the KPI read models take in the month")

    def scorecard(city_id: str) -> kpi_pb2.Scorecard:
        return api.kpi.GetScorecard(
            kpi_pb2.GetScorecardRequest(city_id=city_id, month=month),
            metadata=api.working_group(city_id),
            timeout=TIMEOUT_S,
        )

    for run in runs:
        eventually(
            partial(scorecard, run.city.city_id),
            lambda card: settled(card, residents),
            f"the scorecard of {run.city.city_id}",
        )
    printer.stage("the curators evaluate and close the month")
    scorecards = {}
    for run in runs:
        scorecards[run.city.city_id] = close_month(api, run, month)
        printer.city(run.city.name, f"curator's score {run.curator_score}, signed")
    ours = {run.city.city_id for run in runs}

    def ranks_ours(found: kpi_pb2.GetLeaderboardResponse) -> bool:
        """The demo's cities are on the board, closed; other cities of the stack are whatever
        their own working groups and curators made them."""
        closed = {e.scorecard.city_id for e in found.entries if e.scorecard.status == "closed"}
        return ours <= closed

    board = eventually(
        lambda: api.kpi.GetLeaderboard(
            kpi_pb2.GetLeaderboardRequest(month=month, page_size=MAX_BOARD),
            metadata=api.office(),
            timeout=TIMEOUT_S,
        ),
        ranks_ours,
        "the leaderboard of the closed month",
    )
    return scorecards, board
