"""Clients that give up: cancelled and timed-out ballots hurt nobody but their caller.

1,000 `CastBallot` calls, each cancelled at a random moment (a short deadline or an explicit
cancel, 0-50 ms), must leave the ballot writer working: ballots of another city's poll succeed
at once, the close counts exactly the ballots that committed (each once), and a resident who
retries the same ballot learns its receipt.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
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

CALLS = 1000
WAVE = 50
MAX_DELAY_S = 0.05
RETRIED = 50
NEXT_SUCCESS_S = 1.0
# Until the read model has the closed poll and its ballots.
# Not counted yet (FAILED_PRECONDITION: the poll is not closed) or not projected yet
# (UNAVAILABLE with a retry hint: closed, its count on the way to the read model).
NOT_YET = (
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.UNAVAILABLE,
)
GAVE_UP = (grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED)


def open_poll(stack: Slice, city: str) -> voting_pb2.Poll:
    registry = stack.registry()
    problems = [
        registry.RegisterProblem(
            registry_pb2.RegisterProblemRequest(city_id=city, title=f"Problem {n} of {city}"),
            metadata=stack.metadata(),
            timeout=10,
        ).problem.problem_id
        for n in range(3)
    ]
    now = datetime.now(UTC)
    stub = stack.voting()
    return stub.CreatePoll(
        voting_pb2.CreatePollRequest(
            city_id=city,
            kind="city_problem",
            title=f"Which problem of {city} first?",
            method="single_choice",
            options=[voting_pb2.OptionRef(ref_kind="problem", ref_id=p) for p in problems],
            opens_at=stamp(now - timedelta(minutes=1)),
            closes_at=stamp(now + timedelta(days=1)),
        ),
        metadata=stack.metadata(),
        timeout=10,
    )


def ballot(poll_id: str, voter: str, option: str) -> voting_pb2.CastBallotRequest:
    return voting_pb2.CastBallotRequest(
        poll_id=poll_id,
        voter_id=voter,
        voter_role="resident",
        choices=[voting_pb2.Choice(option_id=option, value=1)],
    )


def ballots_in_log(stack, poll_id: str) -> list[tuple[str, str]]:
    """(ballot id, receipt) of every ballot event of the poll in voting's event log."""
    stub = stack.event_log("voting")
    token = service_token(Settings.from_env("voting", stack.env))()
    found, after = [], 0
    while True:
        response = stub.ReadEvents(
            events_pb2.ReadEventsRequest(
                after=after, limit=1000, event_types=["Ballot.Cast", "Ballot.Recast"]
            ),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )
        for event in response.events:
            payload = json.loads(event.payload_json)
            if payload["poll_id"] == poll_id:
                found.append((event.aggregate_id, payload["receipt"]))
        if response.next_after >= response.max_notification_id:
            return found
        after = response.next_after


CastBallot = grpc.aio.UnaryUnaryMultiCallable[
    voting_pb2.CastBallotRequest, voting_pb2.CastBallotResponse
]


@dataclass
class Storm:
    requests: list[voting_pb2.CastBallotRequest]
    outcomes: list[tuple[str, grpc.StatusCode, str]]
    to_next_success: float
    to_twenty: float


def cast_ballot(channel: grpc.aio.Channel) -> CastBallot:
    return channel.unary_unary(
        "/lmp.voting.v1.VotingService/CastBallot",
        request_serializer=voting_pb2.CastBallotRequest.SerializeToString,
        response_deserializer=voting_pb2.CastBallotResponse.FromString,
    )


async def cast_and_give_up(
    cast: CastBallot,
    request: voting_pb2.CastBallotRequest,
    metadata: tuple[tuple[str, str], ...],
    rng: random.Random,
) -> tuple[str, grpc.StatusCode, str]:
    delay = rng.uniform(0, MAX_DELAY_S)
    if rng.random() < 0.5:  # half deadlines, half explicit cancels
        call = cast(request, metadata=metadata, timeout=delay)
    else:
        call = cast(request, metadata=metadata, timeout=30)
        asyncio.get_running_loop().call_later(delay, call.cancel)
    try:
        response = await call
    except asyncio.CancelledError:
        return request.voter_id, grpc.StatusCode.CANCELLED, ""
    except grpc.aio.AioRpcError as error:
        return request.voter_id, error.code(), ""
    return request.voter_id, grpc.StatusCode.OK, response.receipt


async def storm_then_other_city(stack, victim: str, other: str) -> Storm:
    metadata = stack.metadata("portal", cities=("sarov", "seversk"))
    rng = random.Random(14)  # noqa: S311  # a reproducible test, no secrets
    async with grpc.aio.insecure_channel(stack.target("voting")) as channel:
        cast = cast_ballot(channel)
        requests = [ballot(victim, f"resident-{n}", f"o{rng.randint(1, 3)}") for n in range(CALLS)]
        outcomes = []
        for start in range(0, CALLS, WAVE):  # in waves, so that some finish before they give up
            outcomes += await asyncio.gather(
                *(cast_and_give_up(cast, r, metadata, rng) for r in requests[start : start + WAVE])
            )
        storm_over = time.monotonic()
        await cast(ballot(other, "resident-of-seversk-0", "o1"), metadata=metadata, timeout=5)
        to_next_success = time.monotonic() - storm_over
        await asyncio.gather(
            *(
                cast(ballot(other, f"resident-of-seversk-{n}", "o2"), metadata=metadata, timeout=5)
                for n in range(1, 20)
            )
        )
        to_twenty = time.monotonic() - storm_over
    return Storm(requests, outcomes, to_next_success, to_twenty)


def verified(stack, poll_id: str, receipt: str, timeout: float = 30.0) -> bool:
    """Whether VerifyReceipt proves the receipt counted (waiting, bounded, for the projection)."""
    stub = stack.voting()
    deadline = time.monotonic() + timeout
    while True:
        try:
            proof = stub.VerifyReceipt(
                voting_pb2.VerifyReceiptRequest(poll_id=poll_id, receipt=receipt),
                metadata=stack.metadata("resident", cities=("sarov",)),
                timeout=10,
            )
        except grpc.RpcError as error:
            if error.code() not in NOT_YET or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        else:
            return verify_inclusion(
                receipt, proof.leaf_index, proof.tree_size, list(proof.proof), proof.digest
            )


def other_choice(request: voting_pb2.CastBallotRequest) -> str:
    return "o2" if request.choices[0].option_id == "o1" else "o1"


def test_cancelled_ballots_hurt_only_their_callers_and_are_counted_exactly_once(voting_stack):
    stack = voting_stack
    victim = open_poll(stack, "sarov").poll_id
    other = open_poll(stack, "seversk").poll_id
    started = time.monotonic()

    storm = asyncio.run(storm_then_other_city(stack, victim, other))

    outcomes = storm.outcomes
    codes = [code for _, code, _ in outcomes]
    assert set(codes) <= {grpc.StatusCode.OK, *GAVE_UP}, set(codes)
    assert storm.to_next_success < NEXT_SUCCESS_S
    acknowledged = {r for _, code, r in outcomes if code == grpc.StatusCode.OK}
    after_storm = dict(ballots_in_log(stack, victim))
    committed_anyway = len(after_storm) - len(acknowledged)

    stub = stack.voting()
    metadata = stack.metadata("portal", cities=("sarov",))
    by_voter = {r.voter_id: r for r in storm.requests}
    gave_up = [voter for voter, code, _ in outcomes if code != grpc.StatusCode.OK][:RETRIED]
    retried = {
        stub.CastBallot(by_voter[voter], metadata=metadata, timeout=10).receipt for voter in gave_up
    }
    changed_mind = ballot(victim, gave_up[0], other_choice(by_voter[gave_up[0]]))
    with pytest.raises(grpc.RpcError) as refused:
        stub.CastBallot(changed_mind, metadata=metadata, timeout=10)
    closed = stub.ClosePoll(
        voting_pb2.ClosePollRequest(poll_id=victim), metadata=stack.metadata(), timeout=30
    )
    in_log = ballots_in_log(stack, victim)
    ballot_ids = [ballot_id for ballot_id, _ in in_log]
    receipts = {receipt for _, receipt in in_log}
    retried_anew = retried - set(after_storm.values())

    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert len(ballot_ids) == len(set(ballot_ids)), "a ballot was recorded twice"
    assert len(in_log) == len(after_storm) + len(retried_anew)
    assert closed.ballots_counted == len(in_log)
    assert sum(r.votes for r in closed.results) == len(in_log)
    assert acknowledged <= receipts, "a ballot acknowledged OK is not in the tally"
    assert retried <= receipts
    assert all(verified(stack, victim, r) for r in sorted(acknowledged | retried)[:5])
    print(  # noqa: T201  # the figures go into the issue's closing note
        f"\n{CALLS} CastBallot calls cancelled at random moments: "
        f"{codes.count(grpc.StatusCode.CANCELLED)} CANCELLED, "
        f"{codes.count(grpc.StatusCode.DEADLINE_EXCEEDED)} DEADLINE_EXCEEDED, "
        f"{len(acknowledged)} OK; {committed_anyway} committed although their caller gave up; "
        f"next ballot of another city {storm.to_next_success * 1000:.0f} ms after the storm "
        f"(20 of them after {storm.to_twenty * 1000:.0f} ms); "
        f"{len(retried)} retries answered with a receipt "
        f"({len(retried) - len(retried_anew)} the original one); "
        f"{len(in_log)} ballots in the log, {closed.ballots_counted} counted; "
        f"{time.monotonic() - started:.1f} s"
    )
