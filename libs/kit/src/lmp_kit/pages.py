"""Pages of a list RPC: the page size a caller may ask for, and the page tokens the service
gives out and takes back.

A token is opaque to clients: the list it belongs to and a position in it (an offset, a
sequence number or the last key of the previous page), as unpadded URL-safe base64 of JSON.
Any other string, a token of another list, or a position of the wrong kind or out of range is
INVALID_ARGUMENT naming `page_token`, never an error deep in a query. Tokens are not secrets:
one made by hand only moves within what the caller may read anyway, since every list filters
by the caller's cities and roles whatever the position.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from lmp_kit.errors import InvalidArgumentError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_TOKEN_CHARS = 512
# A position is stored by MongoDB as a signed 64-bit integer, and compared as one.
MAX_POSITION = 2**63 - 1
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")

Position = int | str
T = TypeVar("T")


def page_size(
    requested: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE
) -> int:
    """The page size to use: `requested`, or `default` for 0; beyond `maximum` or negative is
    INVALID_ARGUMENT naming `page_size`."""
    if not 0 <= requested <= maximum:
        msg = f"page_size must be 0 (the default, {default}) to {maximum}, not {requested}"
        raise InvalidArgumentError(msg)
    return requested or default


@dataclass(frozen=True)
class Pages:
    """The paging of one list: `list_name` (e.g. "kpi.GetLeaderboard") is written into each
    token, so a token of another list is refused."""

    list_name: str
    default_size: int = DEFAULT_PAGE_SIZE
    max_size: int = MAX_PAGE_SIZE

    def size(self, requested: int) -> int:
        """The page size to use: `requested`, or the default for 0."""
        return page_size(requested, default=self.default_size, maximum=self.max_size)

    def token(self, position: Position) -> str:
        """The token of the page that starts at `position`."""
        text = json.dumps([self.list_name, position], ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode("ascii")

    def cut(
        self, found: Sequence[T], size: int, position: Callable[[T], Position]
    ) -> tuple[list[T], str]:
        """A page from the `size + 1` items a list read: the first `size`, and the token of the
        next page (its position taken from the last item kept), or "" when there is none."""
        page = list(found[:size])
        return page, self.token(position(page[-1])) if len(found) > size else ""

    def number(self, token: str) -> int | None:
        """The numeric position (an offset, a sequence number) of a token; None for none."""
        position = self._position(token)
        if position is None:
            return None
        if not isinstance(position, int) or isinstance(position, bool):
            raise self._refusal(token)
        if not 0 <= position <= MAX_POSITION:
            raise self._refusal(token)
        return position

    def offset(self, token: str) -> int:
        """The offset a token starts at; 0 for none (the first page)."""
        return self.number(token) or 0

    def key(self, token: str) -> str | None:
        """The key position (the last key of the previous page) of a token; None for none."""
        position = self._position(token)
        if position is None:
            return None
        if not isinstance(position, str):
            raise self._refusal(token)
        return position

    def _position(self, token: str) -> object:
        if not token:
            return None
        if len(token) > MAX_TOKEN_CHARS or not _TOKEN.fullmatch(token):
            raise self._refusal(token)
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            decoded = json.loads(text)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise self._refusal(token) from None
        if not isinstance(decoded, list) or len(decoded) != 2 or decoded[0] != self.list_name:  # noqa: PLR2004  # [list, position]
            raise self._refusal(token)
        return decoded[1]

    def _refusal(self, token: str) -> InvalidArgumentError:
        shown = token if len(token) <= 40 else f"{token[:40]}... ({len(token):,} characters)"  # noqa: PLR2004  # enough to recognise it
        return InvalidArgumentError(
            f"page_token {shown!r} is not one this list ({self.list_name}) gave out: send the "
            "next_page_token of the previous page, or none for the first page"
        )
