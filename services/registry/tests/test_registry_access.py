"""The registry's access table (registry.access): a rule for every RPC, and for each rule with
a city, another city's token refused in every role the rule allows."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from lmp.registry.v1 import registry_pb2 as pb
from lmp_kit.access import ANY_ROLE, InRequest, OfRecord, missing_rules
from lmp_kit.auth import Principal
from lmp_kit.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError
from registry.access import RULES, SERVICE_NAME, policy
from registry.application import RegistryApplication

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
SERVICE = pb.DESCRIPTOR.services_by_name["RegistryService"]
AUTHORS = [{"person_id": "p1", "name": "Ivanova A."}]


def person(role: str, city: str) -> Principal:
    return Principal(f"{role}@{city}", frozenset({role}), frozenset({city}), frozenset())


@pytest.fixture
def app():
    application = RegistryApplication(env=MEMORY)
    yield application
    application.close()


@pytest.fixture
def records(app):
    """One record of each kind in sarov, by the field that names it."""
    problem = app.register_problem("sarov", "Dark yards", "")
    practice = app.register_practice(
        WG, "sarov", "own", "Lit courtyards", authors=AUTHORS, problem_ids=[str(problem.id)]
    )
    activity = app.register_activity("sarov", "other", "Meeting", "2026-11-10")
    fact = app.record_improvement_fact(
        "sarov", month="2026-11", title="Faster permits", description="", evidence=["order 5"]
    )
    case = app.record_external_resource_case(
        "sarov",
        month="2026-11",
        title="Playground",
        source_kind="donors",
        amount="5",
        currency="RUB",
        partner="Fund",
    )
    return {
        "problem_id": str(problem.id),
        "practice_id": str(practice.id),
        "activity_id": str(activity.id),
        "fact_id": str(fact.id),
        "case_id": str(case.id),
    }


WG = person("working_group", "sarov")


def request_of(method: str, **fields: str) -> object:
    kind = SERVICE.methods_by_name[method].input_type.name
    return getattr(pb, kind)(**fields)


def test_every_rpc_of_the_registry_has_exactly_one_rule(app):
    access = policy(app)

    assert access.service_name == SERVICE_NAME == "lmp.registry.v1.RegistryService"
    assert missing_rules(access, SERVICE.methods_by_name) == []
    assert len(RULES) == len(SERVICE.methods) == 59


def test_every_city_rule_names_a_field_of_its_request():
    for method, found in RULES.items():
        fields = SERVICE.methods_by_name[method].input_type.fields_by_name
        for source in found.cities:
            if isinstance(source, InRequest | OfRecord):
                assert source.field in fields, (method, source)


RECORD_RULES = [
    (method, role)
    for method, found in sorted(RULES.items())
    if any(isinstance(c, OfRecord) for c in found.cities)
    for role in sorted(found.roles)
]
CITY_RULES = [
    (method, role)
    for method, found in sorted(RULES.items())
    if any(isinstance(c, InRequest) for c in found.cities)
    for role in sorted(found.roles)
]


@pytest.mark.parametrize(("method", "role"), RECORD_RULES)
async def test_another_citys_record_is_not_found_like_a_missing_one(app, records, method, role):
    access = policy(app)
    named = [c.field for c in RULES[method].cities if isinstance(c, OfRecord)]
    real = {name: records[name] for name in named}
    missing = {name: str(uuid4()) for name in named}

    with pytest.raises(NotFoundError) as hidden:
        await access.admit(method, request_of(method, **real), person(role, "seversk"))
    with pytest.raises(NotFoundError) as absent:
        await access.admit(method, request_of(method, **missing), person(role, "seversk"))

    # the same answer, so a guessed id (uuid5 of city and title) confirms nothing
    def anonymous(message: str, ids: dict[str, str]) -> str:
        for value in ids.values():
            message = message.replace(value, "?")
        return message

    assert anonymous(hidden.value.message, real) == anonymous(absent.value.message, missing)
    await access.admit(method, request_of(method, **real), person(role, "sarov"))


@pytest.mark.parametrize(("method", "role"), CITY_RULES)
async def test_another_citys_token_is_refused_for_the_city_it_names(app, method, role):
    access = policy(app)
    request = request_of(method, city_id="sarov")

    with pytest.raises(PermissionDeniedError) as refused:
        await access.admit(method, request, person(role, "seversk"))

    assert refused.value.message == "your token is not for city 'sarov'"
    await access.admit(method, request, person(role, "sarov"))


@pytest.mark.parametrize(
    ("method", "role"),
    [
        (method, role)
        for method, found in sorted(RULES.items())
        if found.roles != ANY_ROLE
        for role in sorted(ANY_ROLE - found.roles)
    ],
)
async def test_a_role_the_rule_does_not_name_is_refused_before_the_city(app, method, role):
    with pytest.raises(PermissionDeniedError) as refused:
        await policy(app).admit(method, request_of(method), person(role, "sarov"))

    assert refused.value.message.startswith(f"{method} needs one of the roles ")


@pytest.mark.parametrize(
    ("field", "method"),
    [
        ("problem_id", "GetProblem"),
        ("practice_id", "ClassifyPractice"),
        ("activity_id", "GetActivity"),
        ("fact_id", "GetImprovementFact"),
        ("case_id", "GetExternalResourceCase"),
    ],
)
async def test_a_malformed_id_is_invalid_and_reveals_nothing(app, field, method):
    with pytest.raises(InvalidArgumentError) as refused:
        await policy(app).admit(
            method, request_of(method, **{field: "42"}), person("working_group", "sarov")
        )

    assert refused.value.message == f"{field} must be a UUID, not '42'"


async def test_a_record_of_another_kind_is_not_found(app, records):
    request = pb.GetProblemRequest(problem_id=records["practice_id"])

    with pytest.raises(NotFoundError):
        await policy(app).admit("GetProblem", request, WG)


async def test_the_library_reads_are_left_to_the_handler_for_any_city(app, records):
    """GetPractice & co. show a published practice to every city; the handler hides the rest."""
    access = policy(app)
    request = pb.GetPracticeRequest(practice_id=records["practice_id"])

    practice_id = UUID(records["practice_id"])

    await access.admit("GetPractice", request, person("resident", "seversk"))
    with pytest.raises(NotFoundError):
        app.readable_practice(person("resident", "seversk"), practice_id)
    assert app.readable_practice(person("resident", "sarov"), practice_id).city_id == "sarov"
