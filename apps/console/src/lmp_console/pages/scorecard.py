"""A city's monthly scorecard: each indicator with its evidence, the knock-outs with their
reasons, the curator's evaluation, signature and amendments, and a live stream of changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import grpc
from lmp.kpi.v1 import kpi_pb2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from lmp_console import terms
from lmp_console.evidence import Activity, MonthRecords, Record, month_records
from lmp_console.services import Services, remember_write, rpc_status, services
from lmp_console.session import User, require_city
from lmp_console.templating import ENVIRONMENT, month_ru, render

MAX_CONCLUSION = 50_000
DONE = {
    "evaluated": "Оценка записана. Проверьте показатели и подпишите месяц.",
    "signed": "Месяц подписан и закрыт.",
    "amended": "Поправка записана: месяц снова открыт для оценки.",
}


@dataclass(frozen=True)
class Place:
    city_id: str
    month: str


def _place(request: Request) -> tuple[Services, Place]:
    svc = services(request)
    city_id = terms.checked_city(request.path_params["city"])
    month = terms.checked_month(request.path_params["month"])
    require_city(svc.user, city_id)
    return svc, Place(city_id, month)


def _url(place: Place) -> str:
    return f"/cities/{place.city_id}/scorecards/{place.month}"


async def load_card(svc: Services, place: Place) -> kpi_pb2.Scorecard:
    card: kpi_pb2.Scorecard = await svc.kpi.GetScorecard(
        kpi_pb2.GetScorecardRequest(city_id=place.city_id, month=place.month),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    return card


async def load_policy(svc: Services, version: str) -> kpi_pb2.ScoringPolicy | None:
    answer = await svc.kpi.ListPolicies(
        kpi_pb2.ListPoliciesRequest(), metadata=svc.metadata, timeout=svc.timeout
    )
    return next((p for p in answer.policies if p.version == version), None)


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)


def _titles(records: list[str]) -> str:
    return ", ".join(f"«{title}»" for title in records)


def unpublished(activity: Activity) -> str:
    missing = [
        name
        for present, name in (
            (activity.entry.announced, "анонса"),
            (activity.entry.press_released, "релиза"),
        )
        if not present
    ]
    return "нет " + " и ".join(missing)


def knockout_reason(  # noqa: C901, PLR0911, PLR0912  # one sentence per knock-out, each its own case
    code: str,
    outcome: str,
    card: kpi_pb2.Scorecard,
    records: MonthRecords,
    policy: kpi_pb2.ScoringPolicy | None,
) -> str:
    """The reason in Russian, from the same records the page links (the service's own
    sentence is shown beside it)."""
    month = month_ru(card.month)
    figures = {i.name: i for i in card.indicators}
    if outcome == "pending":
        return "ждёт суждения куратора в оценке месяца"
    if code == "K1":
        packaged = figures["packaged"].achieved if "packaged" in figures else 0
        least = policy.minimum_packaged if policy and policy.HasField("minimum_packaged") else None
        needed = f"; нужно не менее {least}" if least is not None else ""
        return f"практик с утверждённым паспортом: {packaged}{needed}"
    if code == "K2":
        lacking = [
            f"«{a.entry.title}» ({unpublished(a)})"
            for a in records.activities
            if not (a.entry.announced and a.entry.press_released)
        ]
        if lacking:
            return "без анонса или релиза: " + "; ".join(lacking)
        return f"мероприятий за {month}: {len(records.activities)}, у всех есть анонс и релиз"
    if code == "K3":
        recognized = figures["improvement"].achieved if "improvement" in figures else 0
        if not recognized:
            return f"нет признанных фактов улучшения за {month}"
        return f"признанных фактов улучшения: {recognized}"
    if code == "K4":
        least = policy.minimum_speakers if policy and policy.HasField("minimum_speakers") else None
        needed = f"; нужно не менее {least}" if least is not None else ""
        return f"разных спикеров за {month}: {len(records.speakers)}{needed}"
    if code == "K5":
        joint = [a for a in records.activities if a.full.joint_action]
        if not joint:
            return f"нет совместного действия Предприятия и администрации за {month}"
        return "совместные действия Предприятия и администрации: " + _titles(
            [a.entry.title for a in joint]
        )
    if code == "K6":
        used = outcome == "passed"
        return "куратор: атрибутика ГСР " + ("используется" if used else "не используется")
    if code == "K7":
        followed = outcome == "passed"
        return "куратор: методические рекомендации " + ("соблюдены" if followed else "не соблюдены")
    if code == "K8":
        unreported = [a.entry.title for a in records.activities if not a.entry.reported]
        if unreported:
            return "без отчёта (списка участников и фото): " + _titles(unreported)
        return f"мероприятий за {month}: {len(records.activities)}, по всем есть отчёт"
    return ""


@dataclass(frozen=True)
class Linked:
    records: list[Record]
    unplaced: int


def figures_context(
    card: kpi_pb2.Scorecard, records: MonthRecords, policy: kpi_pb2.ScoringPolicy | None
) -> dict[str, Any]:
    indicators = []
    for indicator in card.indicators:
        linked, unplaced = records.linked(indicator.evidence)
        if indicator.name == "expert":
            linked, unplaced = [], 0
        indicators.append(
            {
                "name": indicator.name,
                "title": terms.INDICATORS.get(indicator.name, indicator.name),
                "weight": indicator.weight,
                "achieved": indicator.achieved,
                "target": indicator.target,
                "attainment": float(_decimal(indicator.attainment)),
                "points": float(_decimal(indicator.points)),
                "note": indicator.note,
                "evidence": Linked(linked, unplaced),
                "events": len(indicator.evidence),
                "by_direction": [
                    (terms.FUNCTIONS.get(d.direction, d.direction), d.voters)
                    for d in indicator.by_direction
                ],
            }
        )
    knockouts = []
    for knockout in card.knockouts:
        linked, unplaced = records.linked(knockout.evidence)
        if knockout.code in ("K6", "K7"):
            linked, unplaced = [], 0
        knockouts.append(
            {
                "code": knockout.code,
                "title": terms.KNOCKOUTS.get(knockout.code, knockout.title),
                "outcome": knockout.outcome,
                "outcome_text": terms.OUTCOMES.get(knockout.outcome, knockout.outcome),
                "outcome_class": terms.OUTCOME_CLASS.get(knockout.outcome, "warn"),
                "reason": knockout_reason(knockout.code, knockout.outcome, card, records, policy),
                "service_reason": knockout.reason,
                "evidence": Linked(linked, unplaced),
            }
        )
    return {
        "card": card,
        "total": float(_decimal(card.total)),
        "status_text": terms.STATUSES.get(card.status, card.status),
        "verdict_text": terms.VERDICTS.get(card.verdict, card.verdict),
        "verdict_class": terms.OUTCOME_CLASS.get(card.verdict, "warn"),
        "indicators": indicators,
        "knockouts": knockouts,
        "speakers": records.speakers,
        "records": records,
        "city_base": f"/cities/{card.city_id}",
    }


def current_evaluation(card: kpi_pb2.Scorecard) -> dict[str, str]:
    """The evaluation on record as the form's values: evaluating again starts from it."""
    if not card.curator:
        return {}
    expert = next((i for i in card.indicators if i.name == "expert"), None)
    outcomes = {k.code: k.outcome for k in card.knockouts}
    score = _decimal(expert.attainment if expert else "0").normalize()
    return {
        "score": str(score).replace(".", ","),
        "branding_used": "on" if outcomes.get("K6") == "passed" else "",
        "methodology_followed": "on" if outcomes.get("K7") == "passed" else "",
        "conclusion": card.conclusion,
    }


def _may(user: User, card: kpi_pb2.Scorecard) -> dict[str, bool]:
    curator = user.has_role("curator") and user.may_see(card.city_id)
    return {
        "may_evaluate": curator and card.status == "awaiting_curator",
        "may_sign": curator and card.status == "awaiting_curator" and bool(card.curator),
        "may_amend": card.status == "closed"
        and user.has_role("curator", "programme_office")
        and user.may_see(card.city_id),
    }


async def _page(  # noqa: PLR0913  # the page, and what a refused form brings back to it
    request: Request,
    svc: Services,
    place: Place,
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    card = await load_card(svc, place)
    records, policy = await asyncio.gather(
        month_records(svc, place.city_id, place.month), load_policy(svc, card.policy_version)
    )
    done = DONE.get(request.query_params.get("done", ""), "")
    context = figures_context(card, records, policy) | _may(svc.user, card)
    context |= {
        "place": place,
        "url": _url(place),
        "live": card.status != "closed",
        "errors": errors or [],
        "form": form or current_evaluation(card),
        "done": done,
        "amendments": list(card.amendments),
    }
    return render(request, "scorecard/page.html", context, status_code=status_code)


async def scorecard_page(request: Request) -> Response:
    svc, place = _place(request)
    return await _page(request, svc, place)


def _checked_evaluation(form: dict[str, str]) -> tuple[str, list[str]]:
    errors = []
    raw = form.get("score", "").strip().replace(",", ".")
    score = ""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors.append("Оценка куратора — число от 0 до 1, например 0,85.")
    else:
        if not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
            errors.append(f"Оценка куратора должна быть от 0 до 1, а не {raw}.")
        else:
            score = str(value.quantize(Decimal("0.0001")).normalize())
    if len(form.get("conclusion", "")) > MAX_CONCLUSION:
        errors.append(f"Заключение длиннее {MAX_CONCLUSION} знаков.")
    if not form.get("conclusion", "").strip():
        errors.append("Напишите заключение куратора.")
    return score, errors


async def _form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {key: str(value) for key, value in data.items() if isinstance(value, str)}


async def evaluate(request: Request) -> Response:
    svc, place = _place(request)
    form = await _form(request)
    score, errors = _checked_evaluation(form)
    if errors:
        return await _page(request, svc, place, errors=errors, form=form, status_code=400)
    call = svc.kpi.EvaluateMonth(
        kpi_pb2.EvaluateMonthRequest(
            city_id=place.city_id,
            month=place.month,
            score=score,
            branding_used=form.get("branding_used") == "on",
            methodology_followed=form.get("methodology_followed") == "on",
            conclusion=form.get("conclusion", "").strip(),
        ),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    await call
    await remember_write(request, call)
    return RedirectResponse(f"{_url(place)}?done=evaluated", status_code=303)


async def sign(request: Request) -> Response:
    svc, place = _place(request)
    call = svc.kpi.SignMonth(
        kpi_pb2.SignMonthRequest(city_id=place.city_id, month=place.month),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    await call
    await remember_write(request, call)
    return RedirectResponse(f"{_url(place)}?done=signed", status_code=303)


async def amend(request: Request) -> Response:
    svc, place = _place(request)
    form = await _form(request)
    reason = form.get("reason", "").strip()
    if not reason:
        return await _page(
            request,
            svc,
            place,
            errors=["Напишите причину поправки: она остаётся в истории месяца."],
            form=form,
            status_code=400,
        )
    call = svc.kpi.AmendMonth(
        kpi_pb2.AmendMonthRequest(city_id=place.city_id, month=place.month, reason=reason),
        metadata=svc.metadata,
        timeout=svc.timeout,
    )
    await call
    await remember_write(request, call)
    return RedirectResponse(f"{_url(place)}?done=amended", status_code=303)


def sse(event: str, data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n".encode()


async def events(request: Request) -> Response:
    """Server-sent events: `update` with the figures' HTML each time kpi's WatchScorecards
    sends a changed card; `reload` when the month's status changed (the forms differ)."""
    svc, place = _place(request)
    shown_status = request.query_params.get("status", "")
    template = ENVIRONMENT.get_template("scorecard/_figures.html")

    async def stream() -> AsyncIterator[bytes]:
        call = svc.kpi.WatchScorecards(
            kpi_pb2.WatchScorecardsRequest(city_id=place.city_id, month=place.month),
            metadata=svc.metadata,
        )
        try:
            yield b"retry: 3000\n\n"
            async for card in call:
                if shown_status and card.status != shown_status:
                    yield sse("reload", card.status)
                    return
                records, policy = await asyncio.gather(
                    month_records(svc, place.city_id, place.month),
                    load_policy(svc, card.policy_version),
                )
                html = template.render(figures_context(card, records, policy))
                yield sse("update", html)
        except grpc.RpcError as error:
            yield sse("failed", rpc_status(error)[0].name)
        finally:
            call.cancel()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


routes: list[BaseRoute] = [
    Route("/cities/{city}/scorecards/{month}", scorecard_page, methods=["GET"], name="scorecard"),
    Route("/cities/{city}/scorecards/{month}/evaluate", evaluate, methods=["POST"]),
    Route("/cities/{city}/scorecards/{month}/sign", sign, methods=["POST"]),
    Route("/cities/{city}/scorecards/{month}/amend", amend, methods=["POST"]),
    Route("/cities/{city}/scorecards/{month}/events", events, methods=["GET"]),
]
