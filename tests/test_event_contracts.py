"""The event contracts (lmp_contracts) against their producers and consumers.

docs/decisions/0012-event-contracts.md: every event an aggregate records has a contract of the
same fields and schema version; every event type a consumer handles is published by one; no
consumer reads a payload by key; an older envelope parses into the current model.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate, _created_event_classes
from lmp_contracts import PUBLISHED, contract_of
from lmp_contracts.registry import (
    ActivityRegistered,
    PracticePassportApproved,
    PracticeStatusChanged,
)
from lmp_kit.envelope import ENVELOPE_FIELDS, ContractError, Envelope, published_payload
from lmp_kit.eventlog import topics_of
from lmp_kit.idempotency import RequestKey
from lmp_kit.settings import SERVICES, Settings

PRODUCERS = ("registry", "expertise", "voting", "kpi")
ROOT = Path(__file__).resolve().parents[1]
# Only to build the composition roots (as scripts/gen_api_docs.py does): nothing is stored.
BUILD_ENV = {"LMP_EVENT_STORE": "memory", "LMP_JWT_SECRET": "contract-tests-only"}


def aggregates_of(service):
    package = importlib.import_module(f"{service}.domain")
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{service}.domain.{info.name}")
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, Aggregate)
                and value.__module__ == module.__name__
            ):
                yield value


def recorded_events(aggregate):
    """The event classes an aggregate records: not its base `Event`, nor an unused `Created`."""
    created: list[object] = list(_created_event_classes.get(aggregate, []))
    for name, value in vars(aggregate).items():
        if not (inspect.isclass(value) and issubclass(value, Aggregate.Event)):
            continue
        if name == "Event" or (name == "Created" and value not in created):
            continue
        yield value


def event_fields(event_class):
    annotations: dict[str, object] = {}
    for base in reversed(event_class.__mro__):
        annotations.update(getattr(base, "__annotations__", {}))
    return {
        name
        for name, annotation in annotations.items()
        if name not in ENVELOPE_FIELDS
        and name != "originator_id_type"
        and "ClassVar" not in str(annotation)
    }


PRODUCED = sorted(
    (
        (service, event_class)
        for service in PRODUCERS
        for aggregate in (*aggregates_of(service), RequestKey)
        for event_class in recorded_events(aggregate)
    ),
    key=lambda pair: (pair[0], pair[1].__qualname__),
)


def test_every_producer_records_events():
    assert {service for service, _ in PRODUCED} == set(PRODUCERS)
    assert len(PRODUCED) > 60


@pytest.mark.parametrize(
    ("service", "event_class"),
    PRODUCED,
    ids=[f"{service}:{event.__qualname__}" for service, event in PRODUCED],
)
def test_every_recorded_event_has_a_contract_of_its_fields_and_version(service, event_class):
    contract = contract_of(service, event_class.__qualname__)

    assert set(contract.model_fields) == event_fields(event_class)
    assert contract.schema_version == getattr(event_class, "class_version", 1)
    assert all(field.description for field in contract.model_fields.values())


def test_every_contract_is_of_an_event_its_service_records():
    recorded = {(service, event.__qualname__) for service, event in PRODUCED}
    published = {(service, t) for service, types in PUBLISHED.items() for t in types}

    assert published == recorded


def envelope(event_type, payload, schema_version):
    return Envelope(
        event_id=uuid4(),
        event_type=event_type,
        schema_version=schema_version,
        service="registry",
        city_id="sarov",
        aggregate_id=uuid4(),
        aggregate_version=3,
        notification_id=7,
        occurred_at=datetime(2026, 5, 1, tzinfo=UTC),
        traceparent="",
        payload=payload,
    )


def test_a_version_1_status_change_parses_into_the_version_2_model():
    old = envelope("Practice.StatusChanged", {"status": "approved_for_vote", "reason": "r"}, 1)

    changed = old.parse(PracticeStatusChanged)

    assert changed == PracticeStatusChanged(status="approved_for_vote", reason="r", review_id="")


def test_a_version_1_passport_approval_parses_into_the_version_2_model():
    old = envelope("Practice.PassportApproved", {"version": 4}, 1)

    approved = old.parse(PracticePassportApproved)

    assert (approved.version, approved.review_id, approved.approved_by) == (4, "", "")


@pytest.mark.parametrize(
    ("joint_action", "categories"), [(True, ["administration", "enterprise"]), (False, [])]
)
def test_a_version_1_activity_with_its_joint_action_flag_parses_into_participant_categories(
    joint_action, categories
):
    v1 = {
        "kind": "working_meeting",
        "title": "Совет жителей",
        "held_on": "2026-11-14",
        "speakers": [],
        "joint_action": joint_action,
        "branding_used": False,
    }

    activity = envelope("Activity.Registered", v1, 1).parse(ActivityRegistered)

    assert activity.participant_categories == categories
    assert activity.joint_action is joint_action  # K5 reads the same as before
    assert "joint_action" not in activity.model_dump()


def test_a_version_2_activity_is_a_joint_action_only_with_the_enterprise_and_the_administration():
    def with_categories(*categories):
        payload = {"kind": "other", "title": "t", "held_on": "2026-11-14"}
        return envelope(
            "Activity.Registered", {**payload, "participant_categories": list(categories)}, 2
        ).parse(ActivityRegistered)

    assert with_categories("administration", "enterprise", "residents").joint_action
    assert not with_categories("administration", "business").joint_action


def test_a_version_2_envelope_parses_as_it_is():
    current = envelope(
        "Practice.PassportApproved", {"version": 4, "review_id": "r1", "approved_by": "u1"}, 2
    )

    assert current.parse(PracticePassportApproved).review_id == "r1"


def test_an_envelope_newer_than_its_contract_is_refused():
    newer = envelope("Practice.StatusChanged", {"status": "s", "reason": "", "review_id": ""}, 3)

    with pytest.raises(ContractError, match="newer than its contract"):
        newer.parse(PracticeStatusChanged)


def test_an_envelope_of_another_type_is_refused():
    other = envelope("Practice.Ranked", {"rank": 1, "poll_id": "p"}, 1)

    with pytest.raises(ContractError, match=r"not parsed as Practice\.StatusChanged"):
        other.parse(PracticeStatusChanged)


def test_a_mismatch_names_the_event_and_the_field():
    broken = envelope("Practice.PassportApproved", {"version": "four"}, 1)

    with pytest.raises(ContractError, match=r"Practice.PassportApproved .* version: "):
        broken.parse(PracticePassportApproved)


def test_what_is_published_is_what_the_contract_describes():
    payload = {"title": "Ямы", "description": "глубокие"}

    assert published_payload("registry", "Problem.Registered", 1, payload) == payload
    with pytest.raises(ContractError, match=r"\['extra'\]"):
        published_payload("registry", "Problem.Registered", 1, {**payload, "extra": 1})
    with pytest.raises(ContractError, match="title: Field required"):
        published_payload("registry", "Problem.Registered", 1, {"description": ""})
    with pytest.raises(ContractError, match="without a contract"):
        published_payload("registry", "Problem.Vanished", 1, {})
    with pytest.raises(ContractError, match="schema version 1, its contract is version 2"):
        published_payload("registry", "Practice.StatusChanged", 1, {})


def consumed():
    """(consumer service, upstream, event type) for every projection and reaction."""
    found: set[tuple[str, str, str]] = set()
    for service in SERVICES:
        runtime = importlib.import_module(f"{service}.main").build(
            Settings.from_env(service, BUILD_ENV)
        )
        try:
            for subscription in runtime.subscriptions:
                for projection in subscription.projections:
                    found.update(
                        (service, subscription.upstream, t) for t in projection.event_types
                    )
            for reaction in runtime.reactions:
                found.update((service, reaction.upstream, t) for t in reaction.event_types)
        finally:
            runtime.close()
    return found


def test_every_event_type_a_consumer_handles_is_published_by_a_contract():
    handled = consumed()
    unpublished = sorted(
        (consumer, upstream, event_type)
        for consumer, upstream, event_type in handled
        if event_type not in PUBLISHED.get(upstream, {})
    )

    assert {upstream for _, upstream, _ in handled} == set(PRODUCERS)
    assert unpublished == []


def payload_reads(path):
    """Lines that read an envelope's payload by key, or take the untyped payload at all."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "payload"
    ]


def test_no_consumer_reads_a_payload_by_key():
    sources = sorted(ROOT.glob("services/*/src/**/*.py"))
    reads = {
        str(path.relative_to(ROOT)): lines
        for path in sources
        if "_pb2" not in path.name and (lines := payload_reads(path))
    }

    assert len(sources) > 50
    assert reads == {}, "parse the envelope: envelope.parse(<contract>)"


@pytest.mark.parametrize("service", PRODUCERS)
def test_a_read_filtered_by_any_published_event_type_finds_its_stored_topic(service):
    """ReadEvents filters by the stored topics of the event types asked for: every published
    type has its one topic in the service (or the kit, for request keys), whatever classes
    eventsourcing derives from it. Other loaded classes of the same name (a test's own) may
    add theirs: a service process loads only its own."""
    list(aggregates_of(service))  # every event class of the service loaded
    published = sorted(PUBLISHED[service])

    topics = {event_type: topics_of(frozenset({event_type})) for event_type in published}

    own = {
        event_type: [t for t in found if t.startswith((f"{service}.", "lmp_kit."))]
        for event_type, found in topics.items()
    }
    assert {t for t, found in own.items() if len(found) != 1} == set(), topics
