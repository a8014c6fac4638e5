from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lmp_kit.envelope import ENVELOPE_FIELDS, Envelope, envelope_of
from lmp_kit.logs import current_traceparent
from registry.application import RegistryApplication

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@pytest.fixture
def traced():
    token = current_traceparent.set(TRACEPARENT)
    yield
    current_traceparent.reset(token)


def registered(app, city_id="sarov", title="  Ямы на улице Ленина ", description=" Глубокие "):
    problem = app.register_problem(city_id, title, description)
    notification = app.recorder.select_notifications(start=None, limit=100)[-1]
    return problem, notification, envelope_of("registry", app.mapper, notification)


@pytest.mark.usefixtures("traced")
def test_the_envelope_of_a_registered_problem_carries_what_the_design_lists():
    app = RegistryApplication(env=MEMORY)
    before = datetime.now(UTC)

    problem, notification, envelope = registered(app)

    assert envelope.event_type == "Problem.Registered"
    assert envelope.schema_version == 1
    assert envelope.service == "registry"
    assert envelope.city_id == "sarov"
    assert envelope.aggregate_id == problem.id
    assert envelope.aggregate_version == 1
    assert envelope.notification_id == notification.id == 1
    assert envelope.traceparent == TRACEPARENT
    assert before <= envelope.occurred_at <= datetime.now(UTC)
    assert envelope.occurred_at.utcoffset() == timedelta(0)


@pytest.mark.usefixtures("traced")
def test_the_payload_is_the_title_and_description_without_envelope_fields():
    app = RegistryApplication(env=MEMORY)

    _, _, envelope = registered(app)

    assert envelope.payload == {"title": "Ямы на улице Ленина", "description": "Глубокие"}
    assert not ENVELOPE_FIELDS & set(envelope.payload)


def test_an_event_without_a_trace_context_has_an_empty_traceparent():
    app = RegistryApplication(env=MEMORY)

    _, _, envelope = registered(app)

    assert envelope.traceparent == ""


@pytest.mark.usefixtures("traced")
def test_the_json_round_trip_is_lossless():
    _, _, envelope = registered(RegistryApplication(env=MEMORY))

    assert Envelope.model_validate_json(envelope.to_json()) == envelope


@pytest.mark.usefixtures("traced")
def test_the_proto_round_trip_is_lossless():
    _, _, envelope = registered(RegistryApplication(env=MEMORY))

    assert Envelope.from_proto(envelope.to_proto()) == envelope


@pytest.mark.usefixtures("traced")
def test_the_proto_payload_is_json_with_readable_unicode():
    _, _, envelope = registered(RegistryApplication(env=MEMORY))

    assert "Ямы на улице Ленина" in envelope.to_proto().payload_json


@pytest.mark.usefixtures("traced")
def test_the_event_id_is_the_same_for_the_same_aggregate_and_version():
    app = RegistryApplication(env=MEMORY)
    _, notification, envelope = registered(app)

    again = envelope_of("registry", app.mapper, notification)
    _, _, replayed = registered(RegistryApplication(env=MEMORY))

    assert again.event_id == envelope.event_id
    assert replayed.aggregate_id == envelope.aggregate_id
    assert replayed.event_id == envelope.event_id


@pytest.mark.usefixtures("traced")
def test_different_aggregates_have_different_event_ids():
    app = RegistryApplication(env=MEMORY)

    _, _, first = registered(app, title="Broken street lights")
    _, _, second = registered(app, title="No bus on Sundays")

    assert first.aggregate_id != second.aggregate_id
    assert first.event_id != second.event_id
    assert (first.notification_id, second.notification_id) == (1, 2)
