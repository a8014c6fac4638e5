"""Voting on real servers: registry checks over gRPC, ballots, live tally, close, receipts."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from lmp.common.v1 import events_pb2
from lmp.registry.v1 import registry_pb2
from lmp.voting.v1 import voting_pb2
from lmp_kit.runtime import service_token
from lmp_kit.settings import Settings
from voting.domain.merkle import verify_inclusion

from .conftest import Slice, stamp


def voting_events(stack) -> list[events_pb2.EventEnvelope]:
    token = service_token(Settings.from_env("voting", stack.env))()
    response = stack.event_log("voting").ReadEvents(
        events_pb2.ReadEventsRequest(after=0, limit=1000),
        metadata=(("authorization", f"Bearer {token}"),),
        timeout=10,
    )
    return list(response.events)


def register_problems(stack, count: int, city: str = "sarov") -> list[str]:
    ids = []
    for number in range(count):
        created = stack.registry().RegisterProblem(
            registry_pb2.RegisterProblemRequest(city_id=city, title=f"Vote problem {number}"),
            metadata=stack.metadata(),
            timeout=10,
        )
        ids.append(created.problem.problem_id)
    return ids


def create_poll(stack: Slice, problem_ids, method="single_choice", **fields) -> voting_pb2.Poll:
    now = datetime.now(UTC)
    request = voting_pb2.CreatePollRequest(
        city_id="sarov",
        kind="city_problem",
        title="Which problem first?",
        method=method,
        options=[voting_pb2.OptionRef(ref_kind="problem", ref_id=p) for p in problem_ids],
        opens_at=stamp(now - timedelta(minutes=1)),
        closes_at=stamp(now + timedelta(days=1)),
        **fields,
    )
    return stack.voting().CreatePoll(request, metadata=stack.metadata(), timeout=10)


def cast(stack, poll_id, voter, choices, role="resident"):
    return stack.voting().CastBallot(
        voting_pb2.CastBallotRequest(
            poll_id=poll_id,
            voter_id=voter,
            voter_role=role,
            choices=[voting_pb2.Choice(option_id=o, value=v) for o, v in choices.items()],
        ),
        metadata=stack.metadata("portal", cities=("sarov",)),
        timeout=10,
    )


def wait_live(stack: Slice, poll_id, ballots, timeout=60.0) -> voting_pb2.LiveResults:
    deadline = time.monotonic() + timeout
    live = None
    while time.monotonic() < deadline:
        try:
            live = stack.voting().GetLiveResults(
                voting_pb2.GetLiveResultsRequest(poll_id=poll_id),
                metadata=stack.metadata(),
                timeout=10,
            )
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE:  # not in the read model yet
                raise
        else:
            if live.ballots >= ballots:
                return live
        time.sleep(0.2)
    pytest.fail(f"live results did not reach {ballots} ballots: {live}")


def wait_receipt(stack: Slice, poll_id, receipt, timeout=30.0) -> voting_pb2.VerifyReceiptResponse:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return stack.voting().VerifyReceipt(
                voting_pb2.VerifyReceiptRequest(poll_id=poll_id, receipt=receipt),
                metadata=stack.metadata("resident", cities=("sarov",)),
                timeout=10,
            )
        except grpc.RpcError as error:
            # FAILED_PRECONDITION: not closed; UNAVAILABLE: closed, not projected yet.
            not_yet = (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNAVAILABLE)
            if error.code() not in not_yet or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def refused(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call(*args, **kwargs)
    return raised.value


def test_a_city_problem_poll_is_voted_counted_live_closed_and_receipts_verify(voting_stack):
    stack = voting_stack
    problems = register_problems(stack, 3)
    poll = create_poll(stack, problems, revote_allowed=True, electorate=10)
    assert [o.label for o in poll.options] == [f"Vote problem {n}" for n in range(3)]
    assert poll.status == "open"

    receipts = {}
    for number, option in enumerate(["o1", "o2", "o2", "o3", "o2"]):
        receipts[f"resident-{number}"] = cast(
            stack, poll.poll_id, f"resident-{number}", {option: 1}
        ).receipt
    receipts["resident-0"] = cast(stack, poll.poll_id, "resident-0", {"o3": 1}).receipt

    live = wait_live(stack, poll.poll_id, 5)
    deadline = time.monotonic() + 30
    while [(r.option_id, r.votes) for r in live.results] != [("o2", 3), ("o3", 2), ("o1", 0)]:
        assert time.monotonic() < deadline, live
        live = wait_live(stack, poll.poll_id, 5)
    closed = stack.voting().ClosePoll(
        voting_pb2.ClosePollRequest(poll_id=poll.poll_id), metadata=stack.metadata(), timeout=30
    )

    assert closed.status == "closed"
    assert [(r.option_id, r.rank, r.score, r.votes) for r in closed.results] == [
        ("o2", 1, "3", 3),
        ("o3", 2, "2", 2),
        ("o1", 3, "0", 0),
    ]
    assert (closed.ballots_counted, closed.turnout) == (5, "50.00")
    assert [(r.option_id, r.score) for r in live.results] == [
        (r.option_id, r.score) for r in closed.results
    ]
    proof = wait_receipt(stack, poll.poll_id, receipts["resident-3"])
    assert proof.digest == closed.digest
    assert verify_inclusion(
        receipts["resident-3"], proof.leaf_index, proof.tree_size, list(proof.proof), proof.digest
    )
    events = voting_events(stack)
    kinds = [e.event_type for e in events]
    assert kinds.count("Ballot.Cast") == 5
    assert kinds.count("Ballot.Recast") == 1
    closed_event = json.loads(events[-1].payload_json)
    assert events[-1].event_type == "Poll.Closed"
    assert closed_event["digest"] == closed.digest
    assert closed_event["distinct_voters"] == 5
    everything = b"".join(e.SerializeToString() for e in events)
    assert b"resident-" not in everything


def test_a_second_ballot_is_already_exists_and_bad_ballots_are_refused_recording_nothing(
    voting_stack,
):
    stack = voting_stack
    poll = create_poll(stack, register_problems(stack, 3), method="borda")
    cast(stack, poll.poll_id, "resident-1", {"o1": 1, "o2": 2, "o3": 3})
    head = stack.head("voting")

    cases = {
        "second ballot": (
            ("resident-1", {"o1": 2, "o2": 1, "o3": 3}, "resident"),
            grpc.StatusCode.ALREADY_EXISTS,
            "has already cast a ballot",
        ),
        "unknown option": (
            ("resident-2", {"o1": 1, "o2": 2, "o9": 3}, "resident"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "unknown option 'o9'",
        ),
        "duplicate rank": (
            ("resident-2", {"o1": 1, "o2": 1, "o3": 2}, "resident"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "rank 1 is given to more than one option",
        ),
        "gap in ranking": (
            ("resident-2", {"o1": 1, "o2": 2, "o3": 4}, "resident"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "the ranking has a gap at rank 3",
        ),
        "ineligible voter": (
            ("resident-2", {"o1": 1, "o2": 2, "o3": 3}, "enterprise"),
            grpc.StatusCode.PERMISSION_DENIED,
            "not eligible in this poll",
        ),
    }
    for name, (arguments, code, message) in cases.items():
        error = refused(cast, stack, poll.poll_id, *arguments)
        assert (name, error.code()) == (name, code)
        assert message in str(error.details()), (name, error.details())
    assert stack.head("voting") == head


def test_polls_that_cannot_be_created_are_refused_with_a_reason_and_record_nothing(voting_stack):
    stack = voting_stack
    in_seversk = register_problems(stack, 1, city="seversk")
    in_sarov = register_problems(stack, 2)

    no_options = refused(create_poll, stack, [])
    other_city = refused(create_poll, stack, [in_sarov[0], in_seversk[0]])
    unknown = refused(create_poll, stack, [in_sarov[0], "0b8a2c5e-3c1a-4b8e-9d55-3c1f2a9e7b10"])
    score = refused(create_poll, stack, in_sarov, method="ranked")

    assert no_options.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "a poll needs at least 2 options (got 0)" in str(no_options.details())
    assert other_city.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"problem {in_seversk[0]} is not in the registry of 'sarov'" in str(other_city.details())
    assert unknown.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert score.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert stack.head("voting") == 0


def test_a_ballot_after_the_scheduled_close_is_refused_and_the_poll_closes_itself(voting_stack):
    stack = voting_stack
    problems = register_problems(stack, 2)
    now = datetime.now(UTC)
    poll = stack.voting().CreatePoll(
        voting_pb2.CreatePollRequest(
            city_id="sarov",
            kind="city_problem",
            title="A short poll",
            method="approval",
            options=[voting_pb2.OptionRef(ref_kind="problem", ref_id=p) for p in problems],
            opens_at=stamp(now - timedelta(minutes=1)),
            closes_at=stamp(now + timedelta(seconds=3)),
            quorum=2,
        ),
        metadata=stack.metadata(),
        timeout=10,
    )
    cast(stack, poll.poll_id, "resident-1", {"o1": 1, "o2": 1})
    time.sleep(3.5)

    late = refused(cast, stack, poll.poll_id, "resident-2", {"o1": 1})

    assert late.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "ballots are accepted only while it is open" in str(late.details())
    deadline = time.monotonic() + 30
    while True:
        found = stack.voting().GetPoll(
            voting_pb2.GetPollRequest(poll_id=poll.poll_id), metadata=stack.metadata(), timeout=10
        )
        if found.status == "closed":
            break
        assert time.monotonic() < deadline, found.status
        time.sleep(0.3)
    assert found.ballots_counted == 1
    assert not found.quorum_met
    assert found.closed_at.ToDatetime(tzinfo=UTC) == poll.closes_at.ToDatetime(tzinfo=UTC)


def test_a_practice_rating_on_a_practice_not_approved_for_vote_is_refused(voting_stack):
    stack = voting_stack
    practices = []
    for title in ("Night buses", "Snow app"):
        practice = stack.registry().RegisterPractice(
            registry_pb2.RegisterPracticeRequest(
                city_id="sarov",
                kind="own",
                title=title,
                authors=[registry_pb2.Person(person_id="p-1", name="Anna Petrova")],
                problem_ids=[stack.problem()],
            ),
            metadata=stack.metadata(),
            timeout=10,
        )
        practices.append(practice.practice_id)

    error = refused(
        stack.voting().CreatePoll,
        voting_pb2.CreatePollRequest(
            city_id="sarov",
            kind="practice_rating",
            title="Rate the practices",
            method="schulze",
            options=[voting_pb2.OptionRef(ref_kind="practice", ref_id=p) for p in practices],
        ),
        metadata=stack.metadata(),
        timeout=10,
    )

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "not approved for vote" in str(error.details())
    assert stack.head("voting") == 0


def test_the_live_schulze_tally_with_revotes_equals_the_recount_at_close(voting_stack):
    stack = voting_stack
    poll = create_poll(stack, register_problems(stack, 4), method="schulze", revote_allowed=True)
    orders = [
        ("o1", "o2", "o3", "o4"),
        ("o4", "o3", "o2", "o1"),
        ("o2", "o4", "o1", "o3"),
        ("o3", "o1", "o4", "o2"),
        ("o2", "o1", "o3", "o4"),
    ]
    for number in range(40):
        order = orders[(number * 7) % 5]
        cast(
            stack, poll.poll_id, f"resident-{number % 25}", {o: r + 1 for r, o in enumerate(order)}
        )

    closed = stack.voting().ClosePoll(
        voting_pb2.ClosePollRequest(poll_id=poll.poll_id), metadata=stack.metadata(), timeout=30
    )
    final = [(r.option_id, r.rank, r.score, r.votes, r.tied) for r in closed.results]

    deadline = time.monotonic() + 30
    live = wait_live(stack, poll.poll_id, 25)
    while [(r.option_id, r.rank, r.score, r.votes, r.tied) for r in live.results] != final:
        assert time.monotonic() < deadline, (live, final)
        time.sleep(0.2)
        live = wait_live(stack, poll.poll_id, 25)

    assert closed.ballots_counted == live.ballots == 25
    assert sum(r.votes for r in closed.results) == 25


def test_a_ballot_beyond_the_electorate_is_refused_and_turnout_never_exceeds_100(voting_stack):
    """Issue 17: with an electorate of 2, a third voter used to be counted ("150.00")."""
    stack = voting_stack
    poll = create_poll(stack, register_problems(stack, 2), electorate=2)
    receipts = [cast(stack, poll.poll_id, f"resident-{n}", {"o1": 1}).receipt for n in range(2)]
    before = [e.event_type for e in voting_events(stack)]

    beyond = refused(cast, stack, poll.poll_id, "resident-2", {"o2": 1})
    again = refused(cast, stack, poll.poll_id, "resident-0", {"o2": 1})
    retried = cast(stack, poll.poll_id, "resident-1", {"o1": 1})  # the same ballot again
    after = [e.event_type for e in voting_events(stack)]
    closed = stack.voting().ClosePoll(
        voting_pb2.ClosePollRequest(poll_id=poll.poll_id), metadata=stack.metadata(), timeout=30
    )

    assert beyond.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "as many ballots as its electorate (2)" in str(beyond.details())
    assert again.code() == grpc.StatusCode.ALREADY_EXISTS  # a voter who voted hears that
    assert retried.receipt == receipts[1]
    assert after == before  # nothing written for the refused ballots and the retry
    assert (closed.ballots_counted, closed.turnout) == (2, "100.00")
