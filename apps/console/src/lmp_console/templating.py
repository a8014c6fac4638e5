"""Jinja2 templates: every page extends base.html; `user`, `csrf_input()` and the filters
`month_ru`, `ts`, `percent`, `points` are there in every template."""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from google.protobuf.timestamp_pb2 import Timestamp
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from lmp_console.csrf import FORM_FIELD, session_token
from lmp_console.session import current_user

TEMPLATES = Path(__file__).parent / "templates"

MONTHS_RU = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
MONTHS_RU_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
# Shown in Moscow time, the programme's; the services keep UTC.
DISPLAY_TZ_NAME = "Europe/Moscow"


def month_ru(month: str) -> str:
    """ "2026-11" -> "ноябрь 2026"; anything else unchanged."""
    try:
        year, number = month.split("-")
        return f"{MONTHS_RU[int(number) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return month


def _display_tz() -> tzinfo:
    try:
        return ZoneInfo(DISPLAY_TZ_NAME)
    except ZoneInfoNotFoundError:  # no tz database in the image: UTC, as the services keep it
        return UTC


def ts(value: Timestamp | datetime | None) -> str:
    """A protobuf Timestamp (or datetime) as "3 ноября 2026, 14:05"; "—" when unset."""
    if value is None:
        return "—"
    if isinstance(value, Timestamp):
        if value.seconds == 0 and value.nanos == 0:
            return "—"
        moment = value.ToDatetime(tzinfo=UTC)
    else:
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    local = moment.astimezone(_display_tz())
    return f"{local.day} {MONTHS_RU_GENITIVE[local.month - 1]} {local.year}, {local:%H:%M}"


def percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def points(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def chart_json(config: object) -> str:
    """A chart's config for `<canvas data-chart='...'>` (autoescaped in the attribute)."""
    return json.dumps(config, ensure_ascii=False)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["month_ru"] = month_ru
    env.filters["ts"] = ts
    env.filters["percent"] = percent
    env.filters["points"] = points
    env.filters["chart_json"] = chart_json
    return env


ENVIRONMENT = _environment()


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    def csrf_input() -> Markup:
        token = session_token(request.session)
        return Markup('<input type="hidden" name="{}" value="{}">').format(
            FORM_FIELD, escape(token)
        )

    def csrf_token() -> str:
        return session_token(request.session)

    values: dict[str, Any] = {
        "request": request,
        "user": current_user(request),
        "csrf_input": csrf_input,
        "csrf_token": csrf_token,
        "settings": getattr(request.app.state, "settings", None),
    }
    values.update(context or {})
    html = ENVIRONMENT.get_template(name).render(values)
    return HTMLResponse(html, status_code=status_code)
