"""The ballot writer is shared by every caller of every city: no caller and no job can stop it.

The writer is held at a known point by a gate in front of the real save (the in-memory event
store), so each test decides exactly when a caller gives up.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import OperationalError
from lmp_kit.errors import AlreadyExistsError
from lmp_kit.logs import JsonFormatter, current_traceparent
from lmp_kit.registry_client import RegisteredItem
from prometheus_client import REGISTRY
from voting.application import Voter, VotingApplication
from voting.domain import OptionSpec, PollSpec
from voting.keys import PseudonymKeys
from voting.writer import BallotWriter, WriterStoppedError

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
NOW = datetime.now(UTC)
WAIT_S = 5.0
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Registry:
    def __init__(self) -> None:
        self.problems: dict[str, RegisteredItem] = {}
        self.practices: dict[str, RegisteredItem] = {}

    def problem(self, problem_id: str) -> RegisteredItem | None:
        return self.problems.get(problem_id)

    def practice(self, practice_id: str) -> RegisteredItem | None:
        return self.practices.get(practice_id)


class GatedSave:
    """The application's own save, which can be held (the writer then waits inside it) and
    can be told to raise for the ballots of chosen polls or to answer garbage once."""

    def __init__(self, app: VotingApplication) -> None:
        self.app = app
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.poisoned: set[object] = set()
        self.garbage_once = False
        self.calls = 0

    def hold(self) -> None:
        self.entered.clear()
        self.gate.clear()

    def __call__(self, *events: Any) -> Any:
        self.calls += 1
        self.entered.set()
        assert self.gate.wait(WAIT_S), "the test never released the writer"
        if any(getattr(e, "poll_id", None) in self.poisoned for e in events):
            msg = "a ballot nobody can save"
            raise RuntimeError(msg)
        recordings = self.app.save(*events)
        if self.garbage_once:
            self.garbage_once = False
            return [None]
        return recordings


@pytest.fixture
def registry():
    return Registry()


@pytest.fixture
def app(registry):
    application = VotingApplication(
        env=MEMORY, keys=PseudonymKeys(master=b"k" * 32), registry=registry
    )
    yield application
    application.close()


@pytest.fixture
def gated(app):
    app.writer.stop()
    save = GatedSave(app)
    app.writer = BallotWriter(save, app.poll_changed)
    return save


def open_poll(app, registry, *, revote_allowed=False):
    options = []
    for number in range(3):
        problem_id = str(uuid4())
        registry.problems[problem_id] = RegisteredItem("sarov", f"Problem {number}")
        options.append(OptionSpec("problem", problem_id, ""))
    spec = PollSpec(
        city_id="sarov",
        kind="city_problem",
        title="Which problem first?",
        description="",
        method="single_choice",
        options=options,
        revote_allowed=revote_allowed,
        opens_at=NOW - timedelta(hours=1),
        closes_at=NOW + timedelta(days=1),
    )
    return app.create_poll(spec, now=NOW)


def writer_failures() -> float:
    return REGISTRY.get_sample_value("lmp_worker_failures_total", {"worker": "ballot-writer"}) or 0


def ballot_events(app, poll_id):
    notifications = app.recorder.select_notifications(start=None, limit=10_000)
    found = [app.mapper.to_domain_event(n) for n in notifications]
    return [e for e in found if type(e).__qualname__.startswith("Ballot.") and e.poll_id == poll_id]


def queue(app, poll, resident, option="o1"):
    checked, ballot = app.prepare_ballot(poll.id, Voter(resident, "resident"), {option: 1})
    return app.writer.submit(ballot, checked.id, checked.version)


def test_a_ballot_whose_caller_cancelled_while_it_was_queued_is_dropped_and_the_writer_goes_on(
    app, registry, gated
):
    poll = open_poll(app, registry)
    gated.hold()
    first = queue(app, poll, "resident-1")
    assert gated.entered.wait(WAIT_S)  # the writer is saving the first ballot
    abandoned = queue(app, poll, "resident-2")
    after = queue(app, poll, "resident-3")

    assert abandoned.cancel()
    gated.gate.set()

    assert first.result(WAIT_S).notification_id
    assert after.result(WAIT_S).notification_id
    assert app.writer.is_alive()
    assert len(ballot_events(app, poll.id)) == 2
    assert app.cast_ballot(poll.id, Voter("resident-4", "resident"), {"o2": 1}).receipt


async def test_a_ballot_whose_caller_gave_up_while_it_was_saved_commits_and_its_retry_learns_the_receipt(  # noqa: E501  # the behaviour, in full
    app, registry, gated
):
    poll = open_poll(app, registry)
    voter = Voter("resident-1", "resident")
    gated.hold()
    cast = asyncio.ensure_future(app.cast_ballot_async(poll.id, voter, {"o2": 1}))
    assert await asyncio.to_thread(gated.entered.wait, WAIT_S)

    cast.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cast
    gated.gate.set()
    retry = await asyncio.wait_for(app.cast_ballot_async(poll.id, voter, {"o2": 1}), WAIT_S)

    (recorded,) = ballot_events(app, poll.id)
    assert retry.receipt == recorded.receipt
    assert app.writer.is_alive()
    with pytest.raises(AlreadyExistsError, match="has already cast a ballot"):
        await app.cast_ballot_async(poll.id, voter, {"o3": 1})
    closed = app.close_poll(poll.id)
    assert closed.ballots_counted == 1
    assert app.recount(closed).receipts == [retry.receipt]


def test_a_retried_ballot_with_the_same_choices_answers_the_same_receipt_and_records_nothing(
    app, registry
):
    poll = open_poll(app, registry)
    voter = Voter("resident-1", "resident")
    first = app.cast_ballot(poll.id, voter, {"o2": 1})
    head = app.recorder.max_notification_id()

    again = app.cast_ballot(poll.id, voter, {"o2": 1})

    assert (again.id, again.version, again.receipt) == (first.id, first.version, first.receipt)
    assert app.recorder.max_notification_id() == head
    with pytest.raises(AlreadyExistsError):
        app.cast_ballot(poll.id, voter, {"o1": 1})


def test_a_revote_with_the_choices_already_recorded_is_a_retry_not_a_new_version(app, registry):
    poll = open_poll(app, registry, revote_allowed=True)
    voter = Voter("resident-1", "resident")
    app.cast_ballot(poll.id, voter, {"o2": 1})
    second = app.cast_ballot(poll.id, voter, {"o3": 1})
    head = app.recorder.max_notification_id()

    again = app.cast_ballot(poll.id, voter, {"o3": 1})

    assert (again.version, again.receipt) == (2, second.receipt)
    assert app.recorder.max_notification_id() == head


def test_a_poisoned_ballot_fails_alone_logged_with_its_trace_id_and_counted(app, registry, gated):
    poll, poisoned = open_poll(app, registry), open_poll(app, registry)
    gated.poisoned.add(poisoned.id)
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(JsonFormatter("voting"))
    logging.getLogger("voting.writer").addHandler(handler)
    before = writer_failures()
    gated.hold()
    blocker = queue(app, poll, "resident-0")
    assert gated.entered.wait(WAIT_S)
    good = queue(app, poll, "resident-1")
    token = current_traceparent.set(TRACEPARENT)
    try:
        bad = queue(app, poisoned, "resident-2")
    finally:
        current_traceparent.reset(token)
    also_good = queue(app, poll, "resident-3")

    gated.gate.set()
    try:
        assert blocker.result(WAIT_S)
        assert good.result(WAIT_S)
        assert also_good.result(WAIT_S)
        with pytest.raises(RuntimeError, match="a ballot nobody can save"):
            bad.result(WAIT_S)
    finally:
        logging.getLogger("voting.writer").removeHandler(handler)

    assert app.writer.is_alive()
    assert writer_failures() == before + 1
    (line,) = [json.loads(x) for x in output.getvalue().splitlines()]
    assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert line["level"] == "error"
    assert "RuntimeError" in line["error"]
    assert len(ballot_events(app, poll.id)) == 3
    assert not ballot_events(app, poisoned.id)


def test_a_fault_outside_any_one_job_fails_its_batch_and_the_writer_goes_on(app, registry, gated):
    poll = open_poll(app, registry)
    gated.garbage_once = True

    with pytest.raises(AttributeError):
        queue(app, poll, "resident-1").result(WAIT_S)

    assert app.writer.is_alive()
    assert queue(app, poll, "resident-2").result(WAIT_S).notification_id


def test_a_store_that_fails_fails_the_batch_once_without_saving_each(app, registry, gated):
    poll = open_poll(app, registry)
    calls = []

    def unreachable(*events):
        calls.append(events)
        msg = "database is locked"
        raise OperationalError(msg)

    gated.hold()
    blocker = queue(app, poll, "resident-0")
    assert gated.entered.wait(WAIT_S)
    app.writer.committer.record = unreachable
    futures = [queue(app, poll, f"resident-{n}") for n in range(1, 4)]
    gated.gate.set()

    assert blocker.result(WAIT_S)
    for future in futures:
        with pytest.raises(OperationalError):
            future.result(WAIT_S)
    assert len(calls) == 1
    app.writer.committer.record = gated
    assert queue(app, poll, "resident-9").result(WAIT_S)
    assert app.writer.is_alive()


def test_a_stopped_writer_refuses_at_once_and_says_it_is_not_alive(app, registry):
    poll = open_poll(app, registry)
    assert app.writer.is_alive()

    app.writer.stop()

    assert not app.writer.is_alive()
    with pytest.raises(WriterStoppedError) as refused:
        queue(app, poll, "resident-1").result(WAIT_S)
    assert refused.value.status.name == "UNAVAILABLE"


def test_a_fence_check_that_fails_fails_its_ballots_with_one_line_per_batch(app, registry, gated):
    poll = open_poll(app, registry)
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(JsonFormatter("voting"))
    logging.getLogger("voting.writer").addHandler(handler)
    before = writer_failures()

    def unreachable(*_key):
        msg = "could not connect to server"
        raise OperationalError(msg)

    gated.hold()
    futures = [queue(app, poll, "resident-0")]
    assert gated.entered.wait(WAIT_S)
    app.writer.rules.poll_changed = unreachable
    futures += [queue(app, poll, f"resident-{n}") for n in range(1, 40)]
    gated.gate.set()
    try:
        for future in futures:
            with pytest.raises(OperationalError):
                future.result(WAIT_S)
    finally:
        logging.getLogger("voting.writer").removeHandler(handler)

    assert writer_failures() == before + 40
    assert len(output.getvalue().splitlines()) == 2  # the first ballot's batch, then the rest
    assert app.writer.is_alive()
