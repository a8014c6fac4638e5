"""The federation leaderboard of a month (a bar chart and its table) and its history across
months (a line chart per city, from the leaderboards of the last year: every city's figures
are the federation's to see, decision 0006)."""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation

from lmp.kpi.v1 import kpi_pb2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lmp_console import terms
from lmp_console.services import Services, every_page, services
from lmp_console.templating import month_ru, render

HISTORY_MONTHS = 12


def _number(text: str) -> float:
    try:
        return float(Decimal(text or "0"))
    except InvalidOperation:
        return 0.0


def points_of(card: kpi_pb2.Scorecard) -> dict[str, float]:
    found = {i.name: _number(i.points) for i in card.indicators}
    return {name: found.get(name, 0.0) for name in terms.INDICATORS}


async def leaderboard_of(svc: Services, month: str) -> list[kpi_pb2.LeaderboardEntry]:
    async def page(token: str) -> tuple[list[kpi_pb2.LeaderboardEntry], str]:
        answer = await svc.kpi.GetLeaderboard(
            kpi_pb2.GetLeaderboardRequest(month=month, page_token=token),
            metadata=svc.metadata,
            timeout=svc.timeout,
        )
        return list(answer.entries), answer.next_page_token

    return await every_page(page)


async def leaderboard(request: Request) -> Response:
    svc = services(request)
    month = terms.checked_month(request.query_params.get("month") or terms.current_month())
    entries = await leaderboard_of(svc, month)
    rows = [
        {
            "rank": e.rank,
            "city_id": e.scorecard.city_id,
            "total": _number(e.scorecard.total),
            "status": terms.STATUSES.get(e.scorecard.status, e.scorecard.status),
            "status_code": e.scorecard.status,
            "verdict": terms.VERDICTS.get(e.scorecard.verdict, e.scorecard.verdict),
            "verdict_class": terms.OUTCOME_CLASS.get(e.scorecard.verdict, "warn"),
            "failed": [k.replace("K", "К") for k in e.scorecard.failed_knockouts],
            "mine": svc.user.may_see(e.scorecard.city_id),
            "points": points_of(e.scorecard),
        }
        for e in entries
    ]
    figures = [points_of(e.scorecard) for e in entries]
    chart = {
        "type": "bar",
        "data": {
            "labels": [r["city_id"] for r in rows],
            "datasets": [
                {"label": terms.INDICATORS[name], "data": [points[name] for points in figures]}
                for name in terms.INDICATORS
            ],
        },
        "options": {
            "plugins": {"title": {"display": True, "text": f"Баллы городов, {month_ru(month)}"}},
            "scales": {"x": {"stacked": True}, "y": {"stacked": True, "max": 100, "min": 0}},
        },
    }
    return render(
        request,
        "leaderboard/month.html",
        {
            "month": month,
            "rows": rows,
            "chart": chart,
            "indicators": terms.INDICATORS,
            "previous": terms.months_back(month, 2)[0],
        },
    )


async def history(request: Request) -> Response:
    svc = services(request)
    to_month = terms.checked_month(request.query_params.get("to") or terms.current_month(), "to")
    indicator = request.query_params.get("indicator", "")
    if indicator and indicator not in terms.INDICATORS:
        names = ", ".join(terms.INDICATORS)
        raise HTTPException(400, f"Показатель (indicator) — один из: {names}; или пусто для итога.")
    months = terms.months_back(to_month, HISTORY_MONTHS)
    boards = await asyncio.gather(*(leaderboard_of(svc, m) for m in months))
    # The months before the federation's first figures are no history.
    while len(months) > 1 and not any(_number(e.scorecard.total) for e in boards[0]):
        months, boards = months[1:], boards[1:]
    cities = sorted({e.scorecard.city_id for board in boards for e in board})

    def figure(entry: kpi_pb2.LeaderboardEntry) -> float:
        if not indicator:
            return _number(entry.scorecard.total)
        found = next((i for i in entry.scorecard.indicators if i.name == indicator), None)
        return _number(found.points) if found else 0.0

    table = {
        city: [
            next((figure(e) for e in board if e.scorecard.city_id == city), None)
            for board in boards
        ]
        for city in cities
    }
    title = terms.INDICATORS.get(indicator, "Итого баллов")
    chart = {
        # one month is no line: its bars
        "type": "line" if len(months) > 1 else "bar",
        "data": {
            "labels": [month_ru(m) for m in months],
            "datasets": [
                {"label": city, "data": values, "spanGaps": True} for city, values in table.items()
            ],
        },
        "options": {
            "plugins": {"title": {"display": True, "text": title}},
            "scales": {"y": {"min": 0}},
        },
    }
    return render(
        request,
        "leaderboard/history.html",
        {
            "months": months,
            "table": table,
            "chart": chart,
            "title": title,
            "indicator": indicator,
            "indicators": terms.INDICATORS,
            "to_month": to_month,
        },
    )


routes: list[BaseRoute] = [
    Route("/leaderboard", leaderboard, methods=["GET"], name="leaderboard"),
    Route("/leaderboard/history", history, methods=["GET"], name="leaderboard_history"),
]
