"""Reactions: another service's events become this service's events exactly once, in order."""

from __future__ import annotations

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
