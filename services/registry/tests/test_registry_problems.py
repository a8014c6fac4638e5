from __future__ import annotations

from uuid import uuid4

import grpc
import pytest
from lmp_kit.errors import InvalidArgumentError
from registry.application import (
    ProblemAlreadyRegisteredError,
    ProblemNotFoundError,
    RegistryApplication,
)
from registry.domain import Problem

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@pytest.fixture
def app():
    application = RegistryApplication(env=MEMORY)
    yield application
    application.close()


def events_of(app):
    return app.recorder.select_notifications(start=None, limit=100)


def test_registering_a_problem_records_one_registered_event_with_the_stripped_title(app):
    problem = app.register_problem("sarov", "  Broken street lights \n", "  Dark at night ")

    (notification,) = events_of(app)
    event = app.mapper.to_domain_event(notification)
    assert notification.topic.endswith(":Problem.Registered")
    assert notification.originator_id == problem.id
    assert event.title == "Broken street lights"
    assert event.description == "Dark at night"
    assert event.city_id == "sarov"
    assert (problem.title, problem.version) == ("Broken street lights", 1)


def test_a_registered_problem_can_be_read_back(app):
    problem = app.register_problem("sarov", "Broken street lights", "Dark at night")

    found = app.get_problem(problem.id)

    assert (found.id, found.city_id, found.title, found.description) == (
        problem.id,
        "sarov",
        "Broken street lights",
        "Dark at night",
    )


def test_second_registration_of_the_same_title_in_a_city_is_already_exists(app):
    first = app.register_problem("sarov", "Broken street lights", "Dark at night")

    with pytest.raises(ProblemAlreadyRegisteredError) as raised:
        app.register_problem("sarov", "  BROKEN   street\tLights ", "Said again")

    assert raised.value.status == grpc.StatusCode.ALREADY_EXISTS
    assert raised.value.message == (
        f"city 'sarov' already has a problem titled '  BROKEN   street\\tLights ': {first.id}"
    )
    assert app.recorder.max_notification_id() == 1
    assert app.get_problem(Problem.create_id("sarov", "Broken street lights")).description == (
        "Dark at night"
    )


def test_the_same_title_in_another_city_is_another_problem(app):
    in_sarov = app.register_problem("sarov", "Broken street lights", "Dark at night")
    in_kazan = app.register_problem("kazan", "Broken street lights", "Dark at night")

    assert in_sarov.id != in_kazan.id
    assert app.recorder.max_notification_id() == 2


def test_the_problem_id_is_derived_from_city_and_normalized_title():
    assert Problem.create_id("sarov", "Broken Street  Lights") == Problem.create_id(
        "sarov", " broken street lights"
    )
    assert Problem.create_id("sarov", "Broken street lights") != Problem.create_id(
        "sarov", "Broken street light"
    )


@pytest.mark.parametrize(
    ("title", "length"),
    [("ab", 2), ("   ab   ", 2), ("", 0), ("x" * 201, 201)],
)
def test_a_title_outside_3_to_200_characters_is_invalid(app, title, length):
    with pytest.raises(InvalidArgumentError) as raised:
        app.register_problem("sarov", title, "")

    assert raised.value.message == f"title must be 3 to 200 characters (got {length})"
    assert raised.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert app.recorder.max_notification_id() is None


@pytest.mark.parametrize("title", ["abc", "x" * 200])
def test_titles_of_3_and_200_characters_are_accepted(app, title):
    assert app.register_problem("sarov", title, "").title == title


def test_a_description_over_10000_characters_is_invalid(app):
    with pytest.raises(InvalidArgumentError) as raised:
        app.register_problem("sarov", "Broken street lights", "x" * 10_001)

    assert raised.value.message == "description must be at most 10000 characters (got 10001)"


def test_a_description_of_10000_characters_is_accepted(app):
    problem = app.register_problem("sarov", "Broken street lights", "x" * 10_000)

    assert len(problem.description) == 10_000


@pytest.mark.parametrize("city_id", ["Sarov", "s", "", "1sarov", "sarov city", "саров"])
def test_a_city_that_is_not_a_slug_is_invalid(app, city_id):
    with pytest.raises(InvalidArgumentError) as raised:
        app.register_problem(city_id, "Broken street lights", "")

    assert raised.value.message == (
        f"city_id {city_id!r} is not a city slug: use 2-63 lowercase latin letters, "
        "digits or '-', starting with a letter (e.g. 'sarov')"
    )


def test_getting_an_unknown_problem_is_not_found(app):
    problem_id = uuid4()

    with pytest.raises(ProblemNotFoundError) as raised:
        app.get_problem(problem_id)

    assert raised.value.status == grpc.StatusCode.NOT_FOUND
    assert raised.value.message == f"problem {problem_id} does not exist"
