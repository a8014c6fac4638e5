"""CSRF protection of every unsafe request, in one middleware: a random token bound to the
session (made when a page first renders a form) that each POST must send back, as the form
field `csrf_token` or the header `X-CSRF-Token` (htmx). Starlette has no kept CSRF library
that reads form fields, hence this (docs/decisions/0017-console.md)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_KEY = "csrf"
FORM_FIELD = "csrf_token"
HEADER = b"x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
MAX_FORM_BYTES = 1024 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"


def session_token(session: MutableMapping[str, Any]) -> str:
    """The session's token, made on first use."""
    token = session.get(SESSION_KEY)
    if isinstance(token, str) and token:
        return token
    return renew_token(session)


def renew_token(session: MutableMapping[str, Any]) -> str:
    session[SESSION_KEY] = secrets.token_urlsafe(32)
    return str(session[SESSION_KEY])


class CsrfRefusedError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CsrfMiddleware:
    """Inside SessionMiddleware (it reads scope["session"]); a refusal goes to `refuse`."""

    def __init__(self, app: ASGIApp, refuse: ASGIApp) -> None:
        self.app = app
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        reason = "" if complete else "форма слишком велика"
        if not reason:
            reason = _check(scope, body)
        if reason:
            scope["csrf_refused"] = reason
            await self.refuse(scope, _replay(b""), send)
            return
        await self.app(scope, _replay(body), send)


def _check(scope: Scope, body: bytes) -> str:
    expected = scope.get("session", {}).get(SESSION_KEY)
    if not isinstance(expected, str) or not expected:
        return "сеанс истёк или не начат: откройте страницу заново и повторите"
    sent = ""
    for name, value in scope.get("headers", []):
        if name == HEADER:
            sent = value.decode("latin-1")
    if not sent and _content_type(scope) == FORM_TYPE:
        fields = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        sent = next((value for name, value in fields if name == FORM_FIELD), "")
    if not sent:
        return "в форме нет ключа защиты (csrf_token): откройте страницу заново и повторите"
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        return "ключ защиты формы не совпадает с сеансом: откройте страницу заново и повторите"
    return ""


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            text = bytes(value).decode("latin-1")
            return text.split(";", 1)[0].strip().lower()
    return ""


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
