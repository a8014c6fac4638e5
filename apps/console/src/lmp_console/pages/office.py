"""The programme office's pages: closing a month's reporting early (kpi CloseReporting, with a
confirmation), the scoring policies by programme year (kpi ListPolicies) and the classifier
matrix across the cities the user sees as a heat map (registry GetClassifierMatrix)."""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import grpc
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2
from starlette.responses import RedirectResponse
from starlette.routing import Route

from lmp_console.pages.library import FUNCTIONS, METHODS, TERMS
from lmp_console.services import services
from lmp_console.session import require_user
from lmp_console.templating import render

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from lmp_console.services import Services
    from lmp_console.session import User

INDICATORS: Mapping[str, str] = {
    "packaged": "Упакованная (описанная) городская практика",
    "voting": "Голосование по реальным городским проблемам",
    "improvement": "Ежемесячные факты улучшения работы ОМСУ",
    "external_resources": "Решение городских задач с привлечением внешних ресурсов",
    "expert": "Экспертная оценка проекта",
}
TARGETS: Mapping[str, str] = {
    "packaged_target": "Цель по упакованным практикам (утверждённые паспорта)",
    "improvement_target": "Цель по фактам улучшения работы ОМСУ за месяц",
    "external_resources_target": "Цель по задачам, решённым с внешними ресурсами, за месяц",
}
KNOCKOUT_MINIMUMS: Mapping[str, tuple[str, str]] = {
    "minimum_packaged": ("K1", "Менее стольких упакованных практик — месяц не засчитан"),
    "minimum_speakers": ("K4", "Менее стольких спикеров — месяц не засчитан"),
}
# The heat map's column heads on a phone (the full names stay for screen readers).
METHOD_SHORT: Mapping[str, str] = {
    "own_resources": "Свои ресурсы",
    "internal_mechanisms": "Внутренние механизмы",
    "external_interaction": "Внешняя среда",
    "external_resources": "Внешние ресурсы",
}
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
CITY = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
HEAT_BINS = 5
REFUSALS = (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT)
END_OF_MONTH = "the end of the month"


def closed_by(who: str) -> str:
    return "по окончании месяца" if who == END_OF_MONTH else f"закрыл {who}"


# kpi's refusals of CloseReporting (kpi/domain/periods.py, checks.py) in the programme's words.
REFUSAL_SENTENCES: tuple[tuple[re.Pattern[str], Callable[..., str]], ...] = (
    (
        re.compile(r"(\d{4}-\d{2}) has not begun; only the current month's reporting closes early"),
        lambda month: (
            f"{month} ещё не наступил: досрочно закрывается только отчётность текущего месяца."
        ),
    ),
    (
        re.compile(r"(\S+) (\d{4}-\d{2}) is already closed \(signed by (.*)\)"),
        lambda city, month, who: f"Месяц {month} города {city} уже закрыт: его подписал {who}.",
    ),
    (
        re.compile(
            r"the reporting of (\S+) (\d{4}-\d{2}) is already closed \(by (.*)\); "
            r"the month awaits the curator"
        ),
        lambda city, month, who: (
            f"Приём отчётности города {city} за {month} уже закрыт ({closed_by(who)}): "
            "месяц ожидает куратора."
        ),
    ),
    (
        re.compile(r"reason must be 1 to (\d+) characters \(got (\d+)\)"),
        lambda most, got: f"Причина должна занимать от 1 до {most} знаков (сейчас {got}).",
    ),
    (
        re.compile(r"month must be YYYY-MM \(e\.g\. 2026-11\), not '(.*)'"),
        lambda month: f"Месяц нужно указать в виде ГГГГ-ММ (например, 2026-11), а не «{month}».",
    ),
)


@dataclass(frozen=True)
class Refusal:
    text: str
    lang: str
    original: str


def refusal_in_russian(details: str) -> Refusal:
    """kpi's reason in Russian when the console knows the sentence, else as it came."""
    for pattern, russian in REFUSAL_SENTENCES:
        if found := pattern.fullmatch(details):
            return Refusal(russian(*found.groups()), "ru", details)
    return Refusal(details, "en", details)


def current_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


async def visible_cities(svc: Services, user: User) -> list[str]:
    """The cities the user's token allows; for a federation-wide token, every city kpi knows
    (its leaderboard lists each city with any record), as the registry has no list of cities."""
    if not user.all_cities:
        return sorted(user.cities)
    board = await svc.kpi.GetLeaderboard(
        kpi_pb2.GetLeaderboardRequest(month=current_month()),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    return sorted({entry.scorecard.city_id for entry in board.entries})


async def city_names(svc: Services, cities: Iterable[str]) -> dict[str, str]:
    """Each city's name as the registry has it; a city it has not registered keeps its id."""

    async def name(city: str) -> str:
        try:
            found = await svc.registry.GetCity(
                registry_pb2.GetCityRequest(city_id=city),
                metadata=svc.metadata,
                timeout=svc.timeout,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                raise
            return city
        return found.name or city

    listed = list(cities)
    return dict(zip(listed, await asyncio.gather(*(name(c) for c in listed)), strict=True))


async def office_form_page(
    request: Request,
    form: CloseForm | None = None,
    *,
    error: str = "",
    refusal: Refusal | None = None,
) -> Response:
    """The office's page with its close-reporting form, as sent back when refused."""
    svc = services(request)
    cities = await visible_cities(svc, svc.user)
    return render(
        request,
        "office/index.html",
        {
            "cities": cities,
            "names": await city_names(svc, cities),
            "form": form or CloseForm(city="", month=current_month(), reason="", confirmed=False),
            "error": error,
            "refusal": refusal,
            "current_month": current_month(),
        },
        status_code=400 if error or refusal else 200,
    )


async def office_page(request: Request) -> Response:
    require_user(request)
    return await office_form_page(request)


@dataclass(frozen=True)
class CloseForm:
    city: str
    month: str
    reason: str
    confirmed: bool

    def problems(self) -> list[str]:
        found = []
        if not CITY.fullmatch(self.city):
            found.append("Выберите город в поле «Город».")
        if not MONTH.fullmatch(self.month):
            found.append("Укажите месяц в поле «Месяц» в виде ГГГГ-ММ, например 2026-12.")
        if not self.reason.strip():
            found.append("Напишите причину в поле «Причина»: она остаётся в истории месяца.")
        return found


async def close_form(request: Request) -> CloseForm:
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    return CloseForm(
        city=text("city"),
        month=text("month"),
        reason=text("reason"),
        confirmed=text("confirm") == "yes",
    )


async def close_reporting(request: Request) -> Response:
    require_user(request)
    form = await close_form(request)
    if problems := form.problems():
        return await office_form_page(request, form, error=" ".join(problems))
    if not form.confirmed:
        return render(request, "office/close_confirm.html", {"form": form})
    svc = services(request)
    try:
        card = await svc.kpi.CloseReporting(
            kpi_pb2.CloseReportingRequest(city_id=form.city, month=form.month, reason=form.reason),
            metadata=svc.metadata,
            timeout=svc.timeout,
        )
    except grpc.aio.AioRpcError as error:
        if error.code() not in REFUSALS:
            raise
        return await office_form_page(
            request, form, refusal=refusal_in_russian(error.details() or "")
        )
    return render(request, "office/close_done.html", {"form": form, "card": card})


async def close_reporting_get(_request: Request) -> Response:
    return RedirectResponse("/office", status_code=303)


@dataclass(frozen=True)
class PolicyView:
    policy: kpi_pb2.ScoringPolicy
    weights: list[tuple[str, str, int]]
    targets: list[tuple[str, int]]
    knockouts: list[tuple[str, str, int]]


def policy_view(policy: kpi_pb2.ScoringPolicy) -> PolicyView:
    order = [*INDICATORS, *sorted(set(policy.weights) - set(INDICATORS))]
    return PolicyView(
        policy=policy,
        weights=[
            (name, INDICATORS.get(name, name), policy.weights[name])
            for name in order
            if name in policy.weights
        ],
        targets=[(title, getattr(policy, name)) for name, title in TARGETS.items()],
        knockouts=[
            (code, title, getattr(policy, name))
            for name, (code, title) in KNOCKOUT_MINIMUMS.items()
        ],
    )


def policies_by_year(
    policies: Iterable[kpi_pb2.ScoringPolicy],
) -> list[tuple[int, list[PolicyView]]]:
    years: dict[int, list[PolicyView]] = {}
    for policy in policies:
        years.setdefault(policy.year, []).append(policy_view(policy))
    return sorted(years.items(), reverse=True)


async def policies_page(request: Request) -> Response:
    require_user(request)
    svc = services(request)
    answer = await svc.kpi.ListPolicies(
        kpi_pb2.ListPoliciesRequest(), metadata=svc.metadata, timeout=svc.timeout
    )
    return render(request, "office/policies.html", {"years": policies_by_year(answer.policies)})


def heat_bin(count: int, top: int) -> int:
    """0 for an empty cell, else 1..HEAT_BINS by the count's share of the largest one."""
    if count <= 0 or top <= 0:
        return 0
    return max(1, math.ceil(count * HEAT_BINS / top))


@dataclass(frozen=True)
class LegendStep:
    level: int
    low: int
    high: int


def heat_legend(top: int) -> list[LegendStep]:
    """The counts each colour stands for (a colour no whole count falls into is left out)."""
    steps = [LegendStep(0, 0, 0)]
    for level in range(1, HEAT_BINS + 1):
        low = math.floor((level - 1) * top / HEAT_BINS) + 1
        high = math.floor(level * top / HEAT_BINS)
        if top > 0 and low <= high:
            steps.append(LegendStep(level, low, high))
    return steps


@dataclass(frozen=True)
class HeatCell:
    function: str
    method: str
    practices: int
    level: int


@dataclass(frozen=True)
class HeatMap:
    title: str
    city_id: str
    total: int
    rows: list[tuple[str, list[HeatCell]]]


def heat_map(title: str, matrix: registry_pb2.ClassifierMatrix, top: int) -> HeatMap:
    counts = {(c.function, c.method): c.practices for c in matrix.cells}
    return HeatMap(
        title=title,
        city_id=matrix.city_id,
        total=matrix.total,
        rows=[
            (
                function,
                [
                    HeatCell(
                        function, method, n := counts.get((function, method), 0), heat_bin(n, top)
                    )
                    for method in METHODS
                ],
            )
            for function in FUNCTIONS
        ],
    )


def largest(matrices: Sequence[registry_pb2.ClassifierMatrix]) -> int:
    return max((c.practices for m in matrices for c in m.cells), default=0)


async def classifier_page(request: Request) -> Response:
    user = require_user(request)
    svc = services(request)
    cities = await visible_cities(svc, user)
    requests = [
        registry_pb2.GetClassifierMatrixRequest(),
        *(registry_pb2.GetClassifierMatrixRequest(city_id=city) for city in cities),
    ]
    matrices = await asyncio.gather(
        *(
            svc.registry.GetClassifierMatrix(r, metadata=svc.metadata, timeout=svc.timeout)
            for r in requests
        )
    )
    top = largest(matrices)
    federation, *of_cities = matrices
    names = await city_names(svc, cities)
    maps = [
        heat_map("Библиотека федерации: утверждённые паспорта всех городов", federation, top),
        *(
            heat_map(f"{names[city]}: все практики города", matrix, top)
            for city, matrix in zip(cities, of_cities, strict=True)
        ),
    ]
    return render(
        request,
        "office/classifier.html",
        {
            "maps": maps,
            "legend": heat_legend(top),
            "top": top,
            "functions": FUNCTIONS,
            "methods": METHODS,
            "method_short": METHOD_SHORT,
            "terms": TERMS,
        },
    )


routes: list[BaseRoute] = [
    Route("/office", office_page, methods=["GET"]),
    Route("/office/close-reporting", close_reporting, methods=["POST"]),
    Route("/office/close-reporting", close_reporting_get, methods=["GET"]),
    Route("/office/policies", policies_page, methods=["GET"]),
    Route("/office/classifier", classifier_page, methods=["GET"]),
]
