"""JWT principals: who calls, with which roles, for which cities and scopes."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import jwt

from lmp_kit.errors import PermissionDeniedError, UnauthenticatedError

if TYPE_CHECKING:
    from lmp_kit.settings import Settings

ROLES = frozenset(
    {
        "resident",
        "initiative_group",
        "working_group",
        "administration",
        "enterprise",
        "expert",
        "curator",
        "programme_office",
        "portal",
        "service",
    }
)
ALL_CITIES = "*"
READ_EVENTS_SCOPE = "events:read"
# Every city's events, for an operator (docs/decisions/0010-event-log-access.md).
READ_ALL_EVENTS_SCOPE = "events:read:all"
# The longest a token may live (LMP_JWT_MAX_TTL_S); service tokens are minted for 300 s.
DEFAULT_MAX_TTL_S = 24 * 3600
NUMERIC_DATES = ("exp", "nbf", "iat")


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    cities: frozenset[str]
    scopes: frozenset[str]

    def may_act_in(self, city_id: str) -> bool:
        return ALL_CITIES in self.cities or city_id in self.cities

    def require_city(self, city_id: str) -> None:
        if not self.may_act_in(city_id):
            msg = f"{self.subject} is not authorized for city {city_id!r}"
            raise PermissionDeniedError(msg)

    def require_role(self, *roles: str) -> None:
        if not self.roles.intersection(roles):
            msg = f"{self.subject} needs one of the roles {', '.join(sorted(roles))}"
            raise PermissionDeniedError(msg)

    def require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            msg = f"{self.subject} lacks the scope {scope!r}"
            raise PermissionDeniedError(msg)


current_principal: ContextVar[Principal | None] = ContextVar("current_principal", default=None)


def principal() -> Principal:
    found = current_principal.get()
    if found is None:
        msg = "no authenticated caller"
        raise UnauthenticatedError(msg)
    return found


VERIFIED_CACHE_SIZE = 4096


@dataclass(frozen=True)
class TokenVerifier:
    """Verifies a token's signature and claims once; until it expires the same token string
    gives the same principal from a bounded cache (a portal sends one token with every call,
    and checking its signature was a tenth of a ballot's CPU)."""

    key: str
    algorithm: str
    issuer: str
    audience: str
    max_ttl_s: float = DEFAULT_MAX_TTL_S
    verified: dict[str, tuple[Principal, float]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def verify(self, token: str) -> Principal:
        cached = self.verified.get(token)
        if cached is not None:
            found, expires = cached
            if time.time() < expires:
                return found
            del self.verified[token]
        found, expires = self._verify(token)
        if len(self.verified) >= VERIFIED_CACHE_SIZE:
            del self.verified[next(iter(self.verified))]
        self.verified[token] = (found, expires)
        return found

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[self.algorithm],
                issuer=self.issuer,
                audience=self.audience,
                options={
                    "require": ["sub", "exp", "iss", "aud"],
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iat": True,
                },
            )
        except jwt.ExpiredSignatureError:
            msg = "the token has expired; ask for a new one"
            raise UnauthenticatedError(msg) from None
        except jwt.InvalidTokenError as error:
            msg = f"the token is not valid: {error}"
            raise UnauthenticatedError(msg) from None
        for name in NUMERIC_DATES:
            _require_numeric_date(claims, name)
        found = Principal(
            subject=str(claims["sub"]),
            roles=_strings(claims, "roles"),
            cities=_strings(claims, "cities"),
            scopes=_strings(claims, "scopes"),
        )
        expires = float(claims["exp"])
        lifetime = expires - float(claims.get("iat", time.time()))
        if lifetime > self.max_ttl_s:
            msg = (
                f"the token lives {lifetime:.0f} s, longer than the {self.max_ttl_s:.0f} s "
                "allowed (LMP_JWT_MAX_TTL_S); ask for a shorter-lived one"
            )
            raise UnauthenticatedError(msg)
        return found, expires


@dataclass(frozen=True)
class TokenIssuer:
    key: str
    algorithm: str
    issuer: str
    audience: str

    def issue(  # the claims of a token, each named
        self,
        subject: str,
        *,
        roles: Iterable[str],
        cities: Iterable[str] = (),
        scopes: Iterable[str] = (),
        ttl_seconds: int = 3600,
    ) -> str:
        role_list = sorted(set(roles))
        unknown = [r for r in role_list if r not in ROLES]
        if unknown:
            msg = f"unknown roles {unknown}; known roles: {', '.join(sorted(ROLES))}"
            raise ValueError(msg)
        now = int(time.time())
        claims = {
            "sub": subject,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + ttl_seconds,
            "roles": role_list,
            "cities": sorted(set(cities)),
            "scopes": sorted(set(scopes)),
        }
        return jwt.encode(claims, self.key, algorithm=self.algorithm)


def _require_numeric_date(claims: dict[str, object], name: str) -> None:
    """RFC 7519 NumericDate is a JSON number; PyJWT also takes "1700000000" and true."""
    if name not in claims:
        return
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        shown = str(value)[:40]
        msg = f"the token's {name!r} claim must be a number of seconds since 1970, not {shown!r}"
        raise UnauthenticatedError(msg)


def _strings(claims: dict[str, object], name: str) -> frozenset[str]:
    value = claims.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        msg = f"the token's {name!r} claim must be a list of strings"
        raise UnauthenticatedError(msg)
    return frozenset(value)


def verifier_of(settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        key=settings.jwt_verify_key,
        algorithm=settings.jwt_algorithm,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        max_ttl_s=settings.jwt_max_ttl_s,
    )


def issuer_of(settings: Settings) -> TokenIssuer:
    return TokenIssuer(
        key=settings.jwt_signing_key,
        algorithm=settings.jwt_algorithm,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
