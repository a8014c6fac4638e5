"""Kafka only wakes a reactor, and only for messages that may be events it reacts to."""

from __future__ import annotations

import json

import pytest
from lmp_kit.domain import ServiceApplication
from lmp_kit.reactions import Reaction, Reactor


@pytest.fixture
def reactor():
    app = ServiceApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield Reactor(
        reaction=Reaction("voting", {"Poll.Closed": lambda _e: []}),
        app=app,
        upstream_target="127.0.0.1:1",
        topic="lmp.voting.events",
        token=lambda: "unused",
    )
    app.close()


@pytest.mark.parametrize(
    ("body", "wakes"),
    [
        ({"event_type": "Poll.Closed"}, True),
        ({"event_type": "Ballot.Cast"}, False),
        (json.dumps({"event_type": "Poll.Closed"}), True),
        (json.dumps({"event_type": "Ballot.Cast"}).encode(), False),
        (b"not json", True),  # what cannot be read wakes it: the log decides
        ({"no": "type"}, True),
        ([1, 2], True),
    ],
)
def test_a_message_wakes_the_reactor_only_when_it_may_concern_it(reactor, body, wakes):
    assert reactor.concerns(body) is wakes
