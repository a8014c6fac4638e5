"""Reactions: another service's events become this service's events exactly once, in order."""

from __future__ import annotations

from lmp.common.v1 import events_pb2
from lmp_kit.envelope import Envelope
from lmp_kit.errors import InvalidArgumentError
from lmp_kit.reactions import Reaction, Reactor
from lmp_kit.runtime import service_token
from lmp_kit.settings import Settings
from registry.application import RegistryApplication
from registry.domain import Problem


def mirror(envelope: Envelope) -> list[Problem]:
    title = envelope.payload["title"]
    if title.startswith("Refuse"):
        message = "this one is refused by the domain"
        raise InvalidArgumentError(message)
    return [Problem.register("mirror", title, f"seen in {envelope.city_id}")]


def reactor_for(stack, downstream: RegistryApplication) -> Reactor:
    settings = Settings.from_env("kpi", stack.env)
    return Reactor(
        reaction=Reaction("registry", {"Problem.Registered": mirror}),
        app=downstream,
        upstream_target=stack.target("registry"),
        topic=settings.topic_of("registry"),
        token=service_token(settings),
    )


async def test_each_upstream_event_is_reacted_to_exactly_once_with_its_tracking(stack):
    downstream = RegistryApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    reactor = reactor_for(stack, downstream)
    stack.register(30, city="sarov")

    assert await reactor.catch_up() == 30
    assert downstream.recorder.max_notification_id() == 30
    assert downstream.tracking.max_tracking_id("registry") == 30

    assert await reactor.catch_up() == 0
    assert downstream.recorder.max_notification_id() == 30

    stack.register(5, city="seversk", prefix="Later")
    assert await reactor.catch_up() == 5
    mirrored = downstream.get_problem(Problem.create_id("mirror", "Later 4"))
    assert mirrored.description == "seen in seversk"


async def test_a_second_reactor_on_the_same_store_does_not_react_again(stack):
    downstream = RegistryApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    stack.register(10)
    assert await reactor_for(stack, downstream).catch_up() == 10
    assert await reactor_for(stack, downstream).catch_up() == 0
    assert downstream.recorder.max_notification_id() == 10


async def test_a_reaction_the_domain_refuses_is_passed_over_and_the_rest_go_on(stack):
    downstream = RegistryApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    stack.register(2, prefix="Before")
    stack.register(1, prefix="Refuse")
    stack.register(2, prefix="After")

    assert await reactor_for(stack, downstream).catch_up() == 4
    assert downstream.tracking.max_tracking_id("registry") == 5
    assert downstream.recorder.max_notification_id() == 4


async def test_only_the_reacted_types_are_sent_and_the_position_moves_past_the_rest(stack):
    downstream = RegistryApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    stack.register(3, prefix="Before")
    stack.register_city("mirror")
    stack.register(4, prefix="After")
    settings = Settings.from_env("kpi", stack.env)
    token = service_token(settings)
    only_cities = stack.event_log().ReadEvents(
        events_pb2.ReadEventsRequest(after=0, limit=5, event_types=["City.Registered"]),
        metadata=(("authorization", f"Bearer {token()}"),),
        timeout=10,
    )
    reactor = Reactor(
        reaction=Reaction("registry", {"City.Registered": lambda _e: []}),
        app=downstream,
        upstream_target=stack.target("registry"),
        topic=settings.topic_of("registry"),
        token=token,
    )

    assert [e.event_type for e in only_cities.events] == ["City.Registered"]
    # filtered in the database up to the head: fewer than `limit` found, so all was examined
    assert (only_cities.next_after, only_cities.max_notification_id) == (8, 8)
    assert await reactor.catch_up() == 0
    assert downstream.tracking.max_tracking_id("registry") == 8
