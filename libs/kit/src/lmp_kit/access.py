"""Who may call what: one declared table per service, enforced by the gRPC guard before any
handler runs (docs/decisions/0011-access-policy.md).

Each service declares, in `services/<name>/src/<name>/access.py`, a `Rule` for every RPC it
serves: the roles that may call it and where the call's city comes from. The guard checks
both before the handler, so handlers and aggregates hold only the domain's own rules (a
practice's author does not approve its passport, only the chair concludes a review).

A city comes from the record the request names whenever it names one (`OfRecord`: the
service's locator finds the record's city), else from the request (`InRequest`), or the call
is federation-wide (`Federation`: with `all_cities`, only a token for every city may call it),
or the handler shows only what the caller may see (`Filtered`: lists, streams, the library).
A record of another city and a record that does not exist get the same NOT_FOUND, so a
refusal never tells whether a guessed id exists.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lmp_kit.auth import ALL_CITIES, ROLES, Principal
from lmp_kit.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError
from lmp_kit.logs import current_city

# Every role the platform knows: a call any role may make (its city still checked).
ANY_ROLE = ROLES
CITY_CACHE_SIZE = 100_000


@dataclass(frozen=True)
class InRequest:
    """The city is the request's field (e.g. `city_id`); it must be given."""

    field: str = "city_id"

    def describe(self) -> str:
        return f"`{self.field}` of the request"


@dataclass(frozen=True)
class OfRecord:
    """The city is the city of the record whose id is the request's `field`."""

    kind: str
    field: str

    def describe(self) -> str:
        return f"the {self.kind} named by `{self.field}`"


@dataclass(frozen=True)
class Federation:
    """A federation-wide call: with `all_cities`, only a token for every city ('*')."""

    all_cities: bool

    def describe(self) -> str:
        return "federation-wide: a token for all cities" if self.all_cities else "federation-wide"


@dataclass(frozen=True)
class Filtered:
    """The handler serves only what the caller may see: its cities' records (and what is
    public); `what` says how, for the reference."""

    what: str

    def describe(self) -> str:
        return self.what


CitySource = InRequest | OfRecord | Federation | Filtered


@dataclass(frozen=True)
class Rule:
    """One RPC's access: `roles` that may call it (one of them is enough) and its cities."""

    roles: frozenset[str]
    cities: tuple[CitySource, ...]
    note: str = ""

    def describe_roles(self) -> str:
        if self.roles == ANY_ROLE:
            return "any role"
        return ", ".join(f"`{r}`" for r in sorted(self.roles))

    def describe_cities(self) -> str:
        return "; ".join(c.describe() for c in self.cities)


def rule(roles: Iterable[str], *cities: CitySource, note: str = "") -> Rule:
    """A rule; `cities` defaults to the request's `city_id`."""
    chosen = frozenset(roles)
    unknown = chosen - ROLES
    if unknown:
        msg = f"unknown roles {sorted(unknown)} in an access rule"
        raise ValueError(msg)
    if not chosen:
        msg = "an access rule needs at least one role"
        raise ValueError(msg)
    return Rule(roles=chosen, cities=cities or (InRequest(),), note=note)


# (kind, record id) -> the record's city, or None when there is no such record.
Locator = Callable[[str, str], Awaitable[str | None]]


async def _no_records(kind: str, record_id: str) -> str | None:
    msg = f"this service locates no records (asked for a {kind} {record_id!r})"
    raise RuntimeError(msg)


@dataclass
class AccessPolicy:
    """A service's table, keyed by the RPC's short name, and how it finds a record's city.

    A record's city never changes, so found cities are kept (a bounded cache); a record not
    found is looked up again next time (it may have been created since)."""

    service_name: str
    rules: Mapping[str, Rule]
    locate: Locator = _no_records
    found: OrderedDict[tuple[str, str], str] = field(default_factory=OrderedDict, repr=False)

    def rule_of(self, method: str) -> Rule | None:
        return self.rules.get(method)

    async def admit(self, method: str, request: Any, caller: Principal) -> None:  # noqa: ANN401  # any request message
        """Refuse the call unless the caller's roles and cities allow it; an RPC without a
        rule is refused (deny by default)."""
        found = self.rules.get(method)
        if found is None:
            msg = f"{self.service_name}/{method} has no access rule; nobody may call it"
            raise PermissionDeniedError(msg)
        if not caller.roles & found.roles:
            msg = (
                f"{method} needs one of the roles {', '.join(sorted(found.roles))}; "
                f"your token has {', '.join(sorted(caller.roles)) or 'none'}"
            )
            raise PermissionDeniedError(msg)
        for source in found.cities:
            await self._admit_city(source, request, caller)

    async def _admit_city(self, source: CitySource, request: Any, caller: Principal) -> None:  # noqa: ANN401  # any request message
        if isinstance(source, InRequest):
            city = str(getattr(request, source.field))
            if not city:
                msg = f"{source.field} is required: the city this call is for"
                raise InvalidArgumentError(msg)
            if not caller.may_act_in(city):
                msg = f"your token is not for city {city!r}"
                raise PermissionDeniedError(msg)
            current_city.set(city)
        elif isinstance(source, OfRecord):
            record_id = str(getattr(request, source.field))
            if not record_id:
                msg = f"{source.field} is required: the id of the {source.kind}"
                raise InvalidArgumentError(msg)
            located = await self.city_of(source.kind, record_id)
            if located is None or not caller.may_act_in(located):
                # the same answer for a record of another city as for none at all
                msg = f"no {source.kind} {record_id[:80]!r} in your cities"
                raise NotFoundError(msg)
            current_city.set(located)
        elif (
            isinstance(source, Federation) and source.all_cities and ALL_CITIES not in caller.cities
        ):
            msg = "this is a federation-wide command: it needs a token for all cities ('*')"
            raise PermissionDeniedError(msg)

    async def city_of(self, kind: str, record_id: str) -> str | None:
        key = (kind, record_id)
        city = self.found.get(key)
        if city is not None:
            self.found.move_to_end(key)
            return city
        city = await self.locate(kind, record_id)
        if city is not None:
            self.found[key] = city
            if len(self.found) > CITY_CACHE_SIZE:
                self.found.popitem(last=False)
        return city


def missing_rules(policy: AccessPolicy, methods: Iterable[str]) -> list[str]:
    """The methods of a service without a rule, and rules for no method (a typo)."""
    names = set(methods)
    return sorted(names - policy.rules.keys()) + sorted(
        f"{name} (no such RPC)" for name in policy.rules.keys() - names
    )
