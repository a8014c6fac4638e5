"""The curator's months: for each of the user's cities, the months of the last year, and
which of them await the curator's evaluation or signature (kpi GetIndicatorHistory)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lmp_console import terms
from lmp_console.services import Services, rpc_status, services
from lmp_console.templating import render

MONTHS_SHOWN = 12


@dataclass(frozen=True)
class Month:
    city_id: str
    month: str
    status: str
    verdict: str
    total: str

    @property
    def stage(self) -> str:
        """Where the month stands for the curator."""
        if self.status == "closed":
            return "signed"
        if self.status == "awaiting_curator":
            return "to_evaluate" if self.verdict == "pending" else "to_sign"
        return "open"

    @property
    def url(self) -> str:
        return f"/cities/{self.city_id}/scorecards/{self.month}"


STAGES = (
    ("to_evaluate", "Ждут оценки куратора"),
    ("to_sign", "Оценены, ждут подписи"),
    ("open", "Месяц идёт"),
    ("signed", "Подписаны"),
)


async def federation_cities(svc: Services, month: str) -> list[str]:
    """Every city with a scorecard in this month or the one before (for an all-cities user)."""
    found: set[str] = set()
    for wanted in terms.months_back(month, 2):
        answer = await svc.kpi.GetLeaderboard(
            kpi_pb2.GetLeaderboardRequest(month=wanted),
            metadata=svc.metadata,
            timeout=svc.timeout,
        )
        found.update(e.scorecard.city_id for e in answer.entries)
    return sorted(found)


async def user_cities(svc: Services, month: str) -> list[str]:
    if svc.user.all_cities:
        return await federation_cities(svc, month)
    return sorted(svc.user.cities)


async def first_month(svc: Services, city_id: str) -> str | None:
    """The month the city joined the programme (its first voter target), "" when it does not
    say; None for a city the registry does not know."""
    try:
        city = await svc.registry.GetCity(
            registry_pb2.GetCityRequest(city_id=city_id),
            metadata=svc.metadata,
            timeout=svc.timeout,
        )
    except grpc.RpcError as error:
        if rpc_status(error)[0] == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    return min((c.effective_month for c in city.voter_target_history), default="")


async def city_months(svc: Services, city_id: str, months: list[str]) -> list[Month] | None:
    """The city's months, or None when the registry knows no such city."""
    joined, answer = await asyncio.gather(
        first_month(svc, city_id),
        svc.kpi.GetIndicatorHistory(
            kpi_pb2.GetIndicatorHistoryRequest(
                city_id=city_id, from_month=months[0], to_month=months[-1]
            ),
            metadata=svc.metadata,
            timeout=svc.timeout,
        ),
    )
    if joined is None:
        return None
    return [
        Month(city_id, p.month, p.status, p.verdict, p.total)
        for p in answer.points
        if p.month >= joined
    ]


async def curator(request: Request) -> Response:
    svc = services(request)
    month = terms.current_month()
    months = terms.months_back(month, MONTHS_SHOWN)
    cities = await user_cities(svc, month)
    found = await asyncio.gather(*(city_months(svc, c, months) for c in cities))
    unknown = [c for c, ms in zip(cities, found, strict=True) if ms is None]
    every = sorted(
        (m for ms in found if ms for m in ms), key=lambda m: (m.month, m.city_id), reverse=True
    )
    groups = [(key, title, [m for m in every if m.stage == key]) for key, title in STAGES]
    return render(
        request,
        "curator/months.html",
        {
            "groups": groups,
            "cities": [c for c in cities if c not in unknown],
            "unknown": unknown,
            "statuses": terms.STATUSES,
            "verdicts": terms.VERDICTS,
            "month": month,
        },
    )


routes: list[BaseRoute] = [Route("/curator", curator, methods=["GET"], name="curator")]
