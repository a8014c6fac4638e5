"""The console's composition root: the pages' routes, the session, CSRF and the error pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import grpc
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from lmp_console.csrf import CsrfMiddleware
from lmp_console.headers import SecurityHeadersMiddleware
from lmp_console.pages import (
    auth,
    city,
    curator,
    evidence,
    home,
    leaderboard,
    library,
    office,
    scorecard,
)
from lmp_console.services import Channels, rpc_status
from lmp_console.session import CityForbiddenError, SignInRequiredError, sign_out
from lmp_console.settings import ConsoleSettings
from lmp_console.templating import render

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "lmp_console_session"

PAGE_MODULES = (auth, home, curator, scorecard, evidence, leaderboard, office, city, library)

GRPC_STATUS = {
    grpc.StatusCode.NOT_FOUND: (404, "Не найдено"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "Нет доступа"),
    grpc.StatusCode.INVALID_ARGUMENT: (400, "Неверные данные"),
    grpc.StatusCode.FAILED_PRECONDITION: (400, "Действие сейчас невозможно"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "Уже существует"),
    grpc.StatusCode.ABORTED: (409, "Запись изменилась одновременно с вами"),
    grpc.StatusCode.UNAVAILABLE: (503, "Сервис временно недоступен"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (503, "Сервис не ответил вовремя"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (503, "Сервис перегружен"),
}
GRPC_HINTS = {
    grpc.StatusCode.ABORTED: "Ничего не записано: отправьте форму ещё раз.",
    grpc.StatusCode.UNAVAILABLE: "Повторите через несколько секунд.",
    grpc.StatusCode.DEADLINE_EXCEEDED: "Повторите через несколько секунд.",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "Повторите через несколько секунд.",
}
HTTP_TITLES = {
    400: "Неверный запрос",
    403: "Нет доступа",
    404: "Страница не найдена",
    405: "Метод не поддерживается",
}


def error_page(
    request: Request, status: int, title: str, message: str = "", hint: str = ""
) -> Response:
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "message": message, "hint": hint},
        status_code=status,
    )


def _signin_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse("/signin?" + urlencode({"next": next_url}), status_code=303)


async def _sign_in_required(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequiredError)  # noqa: S101  # registered for this class
    return _signin_redirect(exc.next_url)


async def _city_forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CityForbiddenError)  # noqa: S101  # registered for this class
    return error_page(
        request,
        403,
        "Нет доступа к городу",
        f"Ваш вход не даёт прав на город «{exc.city_id}».",
        "Войдите под учётной записью с этим городом или вернитесь на главную.",
    )


async def _grpc_error(request: Request, exc: Exception) -> Response:
    code, details = (
        rpc_status(exc) if isinstance(exc, grpc.RpcError) else (grpc.StatusCode.UNKNOWN, "")
    )
    if code == grpc.StatusCode.UNAUTHENTICATED:
        sign_out(request)
        path = request.url.path if request.method == "GET" else "/"
        return _signin_redirect(path)
    status, title = GRPC_STATUS.get(code, (500, "Ошибка сервиса"))
    if code == grpc.StatusCode.PERMISSION_DENIED:
        # The service's reason may name the record; the page says only what the user can do.
        details = "Ваша роль или ваши города не позволяют это действие."
    return error_page(request, status, title, details, GRPC_HINTS.get(code, ""))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101  # registered for this class
    title = HTTP_TITLES.get(exc.status_code, "Ошибка")
    detail = exc.detail if exc.detail and exc.detail != title else ""
    return error_page(request, exc.status_code, title, detail)


async def _csrf_refused(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    response = error_page(
        request, 403, "Форма отклонена", scope.get("csrf_refused", ""), "Ничего не записано."
    )
    await response(scope, receive, send)


def routes() -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for module in PAGE_MODULES:
        found += module.routes
    found.append(Mount("/static", app=StaticFiles(directory=STATIC), name="static"))
    return found


def create_app(settings: ConsoleSettings) -> Starlette:
    pool = Channels(dict(settings.targets))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await pool.close()

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(SecurityHeadersMiddleware),
            Middleware(
                SessionMiddleware,
                secret_key=settings.session_secret,
                session_cookie=SESSION_COOKIE,
                max_age=settings.session_max_age_s,
                same_site="lax",
                https_only=settings.https_only,
            ),
            Middleware(CsrfMiddleware, refuse=_csrf_refused),
        ],
        exception_handlers={
            SignInRequiredError: _sign_in_required,
            CityForbiddenError: _city_forbidden,
            grpc.RpcError: _grpc_error,
            HTTPException: _http_error,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.channels = pool
    auth.configure(app, settings)
    return app
