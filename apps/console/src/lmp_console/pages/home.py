"""The home page by role, and the probes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from lmp_console.services import unhealthy_services
from lmp_console.session import require_user
from lmp_console.templating import render


async def home(request: Request) -> Response:
    user = require_user(request)
    cities = sorted(c for c in user.cities if c != "*")
    return render(request, "home.html", {"cities": cities})


async def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    down = await unhealthy_services(request)
    if down:
        return JSONResponse({"ready": False, "unavailable": down}, status_code=503)
    return JSONResponse({"ready": True})


routes: list[BaseRoute] = [
    Route("/", home, methods=["GET"], name="home"),
    Route("/healthz", healthz, methods=["GET"], name="healthz"),
    Route("/readyz", readyz, methods=["GET"], name="readyz"),
]
