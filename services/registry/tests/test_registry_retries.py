"""Safe retries (issue 15 item 6): every creating command sent again under its request_id
returns what it created the first time, records nothing more, and another request under the
same key is ALREADY_EXISTS naming what the key created."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lmp.registry.v1 import registry_pb2 as pb
from lmp_kit.auth import Principal
from lmp_kit.errors import AlreadyExistsError
from lmp_kit.idempotency import Retry
from registry.application import RegistryApplication
from registry.domain import Problem

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
WG = Principal("wg", frozenset({"working_group"}), frozenset({"*"}), frozenset())


@pytest.fixture
def app():
    application = RegistryApplication(env=MEMORY)
    for city in ("sarov", "seversk"):
        application.register_city(
            city, name=city, region="Region", kind="zato", population=90_000, voter_target=5_000
        )
    yield application
    application.close()


def problem(app: RegistryApplication, request: pb.RegisterProblemRequest) -> str:
    retry = Retry.of(request.city_id, request)
    return str(app.register_problem(request.city_id, request.title, "", retry).id)


def practice(app: RegistryApplication, request: pb.RegisterPracticeRequest) -> str:
    retry = Retry.of(request.city_id, request)
    found = app.register_practice(
        WG,
        request.city_id,
        "own",
        request.title,
        authors=[{"person_id": "a1", "name": "Author"}],
        problem_ids=[a_problem(app, request.city_id)],
        retry=retry,
    )
    return str(found.id)


def activity(app: RegistryApplication, request: pb.RegisterActivityRequest) -> str:
    retry = Retry.of(request.city_id, request)
    return str(
        app.register_activity(request.city_id, "other", request.title, "2026-11-14", retry=retry).id
    )


def fact(app: RegistryApplication, request: pb.RecordImprovementFactRequest) -> str:
    retry = Retry.of(request.city_id, request)
    recorded = app.record_improvement_fact(
        request.city_id,
        month="2026-11",
        title=request.title,
        description="",
        evidence=["https://sarov.example/order-5"],
        retry=retry,
    )
    return str(recorded.id)


def case(app: RegistryApplication, request: pb.RecordExternalResourceCaseRequest) -> str:
    retry = Retry.of(request.city_id, request)
    recorded = app.record_external_resource_case(
        request.city_id,
        month="2026-11",
        title=request.title,
        source_kind="donors",
        amount="100000.00",
        currency="RUB",
        partner="Fund",
        retry=retry,
    )
    return str(recorded.id)


def requirement(app: RegistryApplication, request: pb.AddRegionalRequirementRequest) -> str:
    retry = Retry.of(request.city_id, request)
    return app.add_regional_requirement(request.city_id, request.title, "", retry)[1]


CREATES: dict[str, tuple[Callable[..., str], Callable[..., Any]]] = {
    "RegisterProblem": (problem, pb.RegisterProblemRequest),
    "RegisterPractice": (practice, pb.RegisterPracticeRequest),
    "RegisterActivity": (activity, pb.RegisterActivityRequest),
    "RecordImprovementFact": (fact, pb.RecordImprovementFactRequest),
    "RecordExternalResourceCase": (case, pb.RecordExternalResourceCaseRequest),
    "AddRegionalRequirement": (requirement, pb.AddRegionalRequirementRequest),
}


@pytest.mark.parametrize("command", sorted(CREATES))
def test_a_creating_command_sent_again_under_its_key_returns_the_original(
    app: RegistryApplication, command: str
) -> None:
    create, message = CREATES[command]
    request = message(city_id="sarov", title="Lighting of yards", request_id="portal-7")
    first = create(app, request)
    head = app.recorder.max_notification_id()

    assert create(app, request) == first
    assert app.recorder.max_notification_id() == head

    other = message(city_id="sarov", title="Benches in the park", request_id="portal-7")
    with pytest.raises(AlreadyExistsError, match=f"created .* {first}"):
        create(app, other)
    assert app.recorder.max_notification_id() == head
    # the key is the city's: another city may use the same one
    assert create(app, message(city_id="seversk", title="Lighting of yards", request_id="portal-7"))


@pytest.mark.parametrize("command", sorted(CREATES))
def test_the_same_record_again_without_a_key_is_already_exists_naming_its_id(
    app: RegistryApplication, command: str
) -> None:
    create, message = CREATES[command]
    first = create(app, message(city_id="sarov", title="Lighting of yards"))
    with pytest.raises(AlreadyExistsError, match=first):
        create(app, message(city_id="sarov", title="Lighting of yards"))


SOLVED_PROBLEM = "Problem the practice solves"


def a_problem(app, city_id: str = "sarov") -> str:
    """A problem of the city, registered on first use: a practice always solves one."""
    problem_id = Problem.create_id(city_id, SOLVED_PROBLEM)
    if not app._exists(problem_id):  # noqa: SLF001  # the test's shortcut to "registered yet?"
        app.register_problem(city_id, SOLVED_PROBLEM, "")
    return str(problem_id)
