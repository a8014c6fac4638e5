"""A command that loses a version race runs again on the new state; one that keeps losing is
ABORTED, in every service (lmp_kit.commands)."""

from __future__ import annotations

import asyncio
from uuid import UUID

import grpc
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from lmp_kit import commands
from lmp_kit.errors import ConcurrentChangeError


class Counter(Aggregate):
    def __init__(self) -> None:
        self.value = 0

    @event("Added")
    def add(self) -> None:
        self.value += 1


@pytest.fixture
def app() -> Application[UUID]:
    return Application()


def race(app: Application[UUID], counter_id: UUID, *, rival_saves: bool) -> int:
    """Load the counter, let a rival save the next version first (when told), then save."""
    mine: Counter = app.repository.get(counter_id)
    if rival_saves:
        rival: Counter = app.repository.get(counter_id)
        rival.add()
        app.save(rival)
    mine.add()
    app.save(mine)
    return mine.value


def test_a_command_that_lost_the_race_runs_again_on_the_new_state(app) -> None:
    counter = Counter()
    app.save(counter)
    lost = iter([True, True, False])

    value = commands.retrying(lambda: race(app, counter.id, rival_saves=next(lost)))

    assert value == 3  # two rivals saved, then the command itself on their state
    assert app.repository.get(counter.id).value == 3


def test_a_command_that_keeps_losing_is_aborted_and_records_nothing_of_its_own(app) -> None:
    counter = Counter()
    app.save(counter)

    with pytest.raises(ConcurrentChangeError) as refused:
        commands.retrying(lambda: race(app, counter.id, rival_saves=True), attempts=3)

    assert refused.value.status == grpc.StatusCode.ABORTED
    assert "send the command again" in refused.value.message
    assert app.repository.get(counter.id).value == 3  # the three rivals' events only


def test_run_command_retries_off_the_event_loop_and_aborts_after_its_attempts(app) -> None:
    counter = Counter()
    app.save(counter)
    calls: list[int] = []

    def always_losing() -> int:
        calls.append(1)
        return race(app, counter.id, rival_saves=True)

    with pytest.raises(ConcurrentChangeError):
        asyncio.run(commands.run_command(always_losing))
    assert len(calls) == commands.ATTEMPTS
