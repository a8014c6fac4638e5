"""The access table's rules, as the guard applies them before a handler."""

from __future__ import annotations

import pytest
from lmp.common.v1 import events_pb2
from lmp_kit.access import (
    ANY_ROLE,
    AccessPolicy,
    Federation,
    OfRecord,
    missing_rules,
    rule,
)
from lmp_kit.auth import Principal
from lmp_kit.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError


class Request:
    def __init__(self, **fields: str) -> None:
        self.__dict__.update(fields)


def caller(*roles: str, cities: tuple[str, ...] = ("tver",)) -> Principal:
    return Principal("someone", frozenset(roles), frozenset(cities), frozenset())


RECORDS = {("practice", "p-tver"): "tver", ("practice", "p-kazan"): "kazan"}
LOOKUPS: list[str] = []


async def locate(kind: str, record_id: str) -> str | None:
    LOOKUPS.append(record_id)
    return RECORDS.get((kind, record_id))


POLICY = AccessPolicy(
    "lmp.test.v1.Test",
    {
        "Register": rule({"working_group"}),
        "Read": rule(ANY_ROLE, OfRecord("practice", "practice_id")),
        "Introduce": rule({"programme_office"}, Federation(all_cities=True)),
    },
    locate,
)


async def test_a_role_the_rule_does_not_name_is_refused() -> None:
    with pytest.raises(PermissionDeniedError, match="needs one of the roles working_group"):
        await POLICY.admit("Register", Request(city_id="tver"), caller("resident"))


async def test_a_city_outside_the_token_is_refused_and_a_missing_one_is_bad_input() -> None:
    await POLICY.admit("Register", Request(city_id="tver"), caller("working_group"))
    with pytest.raises(PermissionDeniedError, match="not for city 'kazan'"):
        await POLICY.admit("Register", Request(city_id="kazan"), caller("working_group"))
    with pytest.raises(InvalidArgumentError, match="city_id is required"):
        await POLICY.admit("Register", Request(city_id=""), caller("working_group"))


async def test_another_citys_record_answers_as_no_record_at_all() -> None:
    await POLICY.admit("Read", Request(practice_id="p-tver"), caller("resident"))
    refusals = []
    for record_id in ("p-kazan", "p-nowhere"):
        with pytest.raises(NotFoundError) as refused:
            await POLICY.admit("Read", Request(practice_id=record_id), caller("resident"))
        refusals.append(refused.value.message.replace(record_id, "<id>"))
    assert refusals[0] == refusals[1]


async def test_a_found_city_is_kept_and_a_missing_record_is_looked_up_again() -> None:
    LOOKUPS.clear()
    fresh = AccessPolicy(POLICY.service_name, POLICY.rules, locate)
    for _ in range(3):
        await fresh.admit("Read", Request(practice_id="p-tver"), caller("resident"))
        with pytest.raises(NotFoundError):
            await fresh.admit("Read", Request(practice_id="p-nowhere"), caller("resident"))
    assert LOOKUPS.count("p-tver") == 1
    assert LOOKUPS.count("p-nowhere") == 3


async def test_a_federation_wide_command_needs_a_token_for_all_cities() -> None:
    await POLICY.admit("Introduce", Request(), caller("programme_office", cities=("*",)))
    with pytest.raises(PermissionDeniedError, match="token for all cities"):
        await POLICY.admit("Introduce", Request(), caller("programme_office"))


async def test_an_rpc_without_a_rule_is_refused() -> None:
    with pytest.raises(PermissionDeniedError, match="has no access rule"):
        await POLICY.admit("Forgotten", Request(), caller(*ANY_ROLE, cities=("*",)))


def test_a_rule_names_known_roles() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        rule({"mayor"})
    with pytest.raises(ValueError, match="at least one role"):
        rule(())


def test_missing_rules_names_rpcs_without_a_rule_and_rules_of_no_rpc() -> None:
    service = events_pb2.DESCRIPTOR.services_by_name["EventLog"]
    policy = AccessPolicy(service.full_name, {"ReadEvent": rule(ANY_ROLE)})
    assert missing_rules(policy, [m.name for m in service.methods]) == [
        "ReadEvents",
        "ReadEvent (no such RPC)",
    ]
