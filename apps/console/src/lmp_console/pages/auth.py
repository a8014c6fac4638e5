"""Sign-in and sign-out: OpenID Connect (authorization code with PKCE) against any standard
provider, and on the embedded stack a development sign-in that picks a role and cities."""

from __future__ import annotations

import re
from typing import Any

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth
from joserfc.errors import JoseError
from lmp_kit.auth import ALL_CITIES, ROLES
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from lmp_console.services import console_settings
from lmp_console.session import User, parse_cities, sign_in, sign_out
from lmp_console.settings import ConsoleSettings, OidcSettings
from lmp_console.templating import render

# The people who use the console; `portal` and `service` are systems, not people.
PERSON_ROLES = ROLES - {"portal", "service"}
ROLE_NAMES = {
    "curator": "Куратор территории",
    "programme_office": "Офис программы",
    "working_group": "Рабочая группа",
    "administration": "Администрация (ОМСУ)",
    "enterprise": "Предприятие",
    "expert": "Экспертный совет",
    "initiative_group": "Инициативная группа",
    "resident": "Житель",
}
CITY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
OIDC_CLIENT = "oidc"


def configure(app: Starlette, settings: ConsoleSettings) -> None:
    if settings.oidc is None:
        app.state.oauth = None
        return
    oauth = OAuth()
    oauth.register(
        name=OIDC_CLIENT,
        client_id=settings.oidc.client_id,
        client_secret=settings.oidc.client_secret or None,
        server_metadata_url=settings.oidc.metadata_url,
        client_kwargs={
            "scope": settings.oidc.scope,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": (
                "client_secret_basic" if settings.oidc.client_secret else "none"
            ),
        },
    )
    app.state.oauth = oauth


def _safe_next(value: str | None) -> str:
    """Only a path of this site (never `//host` or a scheme): no open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _signin_page(
    request: Request, *, error: str = "", status: int = 200, role: str = "", cities: str = ""
) -> Response:
    settings = console_settings(request)
    return render(
        request,
        "signin.html",
        {
            "next": _safe_next(request.query_params.get("next")),
            "dev_signin": settings.dev_signin,
            "oidc": settings.oidc is not None,
            "roles": [(r, ROLE_NAMES[r]) for r in ROLE_NAMES if r in PERSON_ROLES],
            "error": error,
            "role": role or "curator",
            "cities": cities,
        },
        status_code=status,
    )


async def signin(request: Request) -> Response:
    return _signin_page(request)


def _checked_cities(cities: frozenset[str]) -> str:
    """ "" when every city is well formed, else what is wrong."""
    if not cities:
        return "Укажите хотя бы один город (например: sarov) или * для всех городов."
    wrong = sorted(c for c in cities if c != ALL_CITIES and not CITY_ID.match(c))
    if wrong:
        return (
            f"Неверные коды городов: {', '.join(wrong)}. Код города — латинские строчные буквы, "
            "цифры, дефис (например: sarov, seversk)."
        )
    return ""


async def signin_dev(request: Request) -> Response:
    settings = console_settings(request)
    if not settings.dev_signin:
        return render(
            request,
            "error.html",
            {
                "status": 403,
                "title": "Вход для разработки выключен",
                "message": "Здесь вход только через OpenID Connect.",
                "hint": "LMP_CONSOLE_DEV_SIGNIN=true включает его (только для стенда разработки).",
            },
            status_code=403,
        )
    form = await request.form()
    role = str(form.get("role", "")).strip()
    cities_text = str(form.get("cities", ""))
    if role not in PERSON_ROLES:
        return _signin_page(
            request,
            error=f"Неизвестная роль «{role}»: выберите роль из списка.",
            status=400,
            cities=cities_text,
        )
    cities = parse_cities(cities_text)
    problem = _checked_cities(cities)
    if problem:
        return _signin_page(request, error=problem, status=400, role=role, cities=cities_text)
    user = User(subject=f"dev-{role}", roles=frozenset({role}), cities=cities)
    sign_in(request, user)
    return RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)


def _oauth_client(request: Request) -> Any:  # noqa: ANN401  # authlib's client is untyped
    oauth = request.app.state.oauth
    if oauth is None:
        return None
    return oauth.create_client(OIDC_CLIENT)


async def signin_oidc(request: Request) -> Response:
    client = _oauth_client(request)
    if client is None:
        return render(
            request,
            "error.html",
            {
                "status": 404,
                "title": "Вход через OpenID Connect не настроен",
                "message": "Задайте LMP_CONSOLE_OIDC_ISSUER и LMP_CONSOLE_OIDC_CLIENT_ID.",
            },
            status_code=404,
        )
    request.session["next"] = _safe_next(request.query_params.get("next"))
    redirect_uri = str(request.url_for("oidc_callback"))
    try:
        response: Response = await client.authorize_redirect(request, redirect_uri)
    except httpx2.HTTPError as failure:
        return _provider_unavailable(request, failure)
    return response


def _provider_unavailable(request: Request, failure: Exception) -> Response:
    return render(
        request,
        "error.html",
        {
            "status": 503,
            "title": "Поставщик входа недоступен",
            "message": f"Консоль не получила ответа от поставщика входа: {failure}",
            "hint": "Повторите вход через минуту; если не получится, сообщите администратору.",
            "signin_link": True,
        },
        status_code=503,
    )


def _claim(claims: dict[str, Any], path: str) -> object:
    """A claim by name, or by a dotted path into nested objects (`realm_access.roles`)."""
    if path in claims:
        return claims[path]
    found: object = claims
    for part in path.split("."):
        if not isinstance(found, dict) or part not in found:
            return None
        found = found[part]
    return found


def _claim_strings(claims: dict[str, Any], path: str) -> list[str] | None:
    value = _claim(claims, path)
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,]+", value) if v]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def user_from_claims(claims: dict[str, Any], oidc: OidcSettings) -> User | str:
    """The user the ID token's claims describe, or why they cannot sign in (in Russian)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        return "Поставщик входа не передал идентификатор пользователя (sub)."
    roles = _claim_strings(claims, oidc.roles_claim)
    if not roles:
        return (
            f"В учётной записи нет ролей платформы (утверждение «{oidc.roles_claim}»). "
            f"Попросите администратора назначить одну из ролей: {', '.join(sorted(PERSON_ROLES))}."
        )
    unknown = sorted(set(roles) - PERSON_ROLES)
    if unknown:
        return (
            f"Роли {', '.join(unknown)} платформе неизвестны (утверждение «{oidc.roles_claim}»). "
            f"Допустимые роли: {', '.join(sorted(PERSON_ROLES))}."
        )
    cities = frozenset(_claim_strings(claims, oidc.cities_claim) or [])
    problem = _checked_cities(cities)
    if problem:
        return f"Города учётной записи (утверждение «{oidc.cities_claim}»): {problem}"
    name = next(
        (str(claims[k]) for k in ("name", "preferred_username", "email") if claims.get(k)), ""
    )
    return User(subject=subject, roles=frozenset(roles), cities=cities, name=name)


async def _id_token_claims(request: Request, client: Any) -> dict[str, Any] | Response:  # noqa: ANN401
    """The verified ID token's claims (authlib checks state, nonce, signature, issuer,
    audience and expiry), or the page that says why there are none."""
    error = request.query_params.get("error")
    if error:
        description = request.query_params.get("error_description", "")
        return _refused(request, f"Поставщик входа отказал: {error} {description}".strip())
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as failure:
        return _refused(request, f"Вход не подтверждён: {failure.error} {failure.description}")
    except JoseError as failure:
        return _refused(request, f"ID-токен поставщика не прошёл проверку: {failure}")
    except httpx2.HTTPError as failure:
        return _provider_unavailable(request, failure)
    claims = dict(token.get("userinfo") or {})
    if not claims:
        return _refused(request, "Поставщик входа не вернул ID-токен (нужна область openid).")
    return claims


async def oidc_callback(request: Request) -> Response:
    client = _oauth_client(request)
    oidc = console_settings(request).oidc
    if client is None or oidc is None:
        return RedirectResponse("/signin", status_code=303)
    claims = await _id_token_claims(request, client)
    if isinstance(claims, Response):
        return claims
    found = user_from_claims(claims, oidc)
    if isinstance(found, str):
        return _refused(request, found)
    next_url = _safe_next(request.session.get("next"))
    sign_in(request, found)
    return RedirectResponse(next_url, status_code=303)


def _refused(request: Request, message: str) -> Response:
    sign_out(request)
    return render(
        request,
        "error.html",
        {
            "status": 403,
            "title": "Вход не выполнен",
            "message": message,
            "hint": "Обратитесь к администратору платформы или попробуйте войти снова.",
            "signin_link": True,
        },
        status_code=403,
    )


async def signout(request: Request) -> Response:
    sign_out(request)
    return RedirectResponse("/signin", status_code=303)


routes: list[BaseRoute] = [
    Route("/signin", signin, methods=["GET"], name="signin"),
    Route("/signin/dev", signin_dev, methods=["POST"], name="signin_dev"),
    Route("/signin/oidc", signin_oidc, methods=["GET"], name="signin_oidc"),
    Route("/signin/callback", oidc_callback, methods=["GET"], name="oidc_callback"),
    Route("/signout", signout, methods=["POST"], name="signout"),
]
