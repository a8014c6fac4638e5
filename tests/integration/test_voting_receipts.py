"""VerifyReceipt answers from the poll's stored Merkle tree, not from a scan of its ballots."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import grpc
import pytest
from lmp.registry.v1 import registry_pb2
from lmp.voting.v1 import voting_pb2
from lmp_kit.settings import Settings
from pymongo import MongoClient
from voting.domain.merkle import verify_inclusion

from .conftest import Slice, stamp

BALLOTS = 37  # not a power of two: the tree has a ragged right edge
# Not counted yet (FAILED_PRECONDITION: the poll is not closed) or not projected yet
# (UNAVAILABLE with a retry hint: closed, its count on the way to the read model).
NOT_YET = (
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.UNAVAILABLE,
)


def closed_poll_with_ballots(stack) -> tuple[voting_pb2.Poll, list[str]]:
    poll, receipts = open_poll_with_ballots(stack)
    return close(stack, poll.poll_id), receipts


def close(stack, poll_id: str) -> voting_pb2.Poll:
    closed: voting_pb2.Poll = stack.voting().ClosePoll(
        voting_pb2.ClosePollRequest(poll_id=poll_id), metadata=stack.metadata(), timeout=30
    )
    return closed


def open_poll_with_ballots(stack) -> tuple[voting_pb2.Poll, list[str]]:
    problems = [
        stack.registry()
        .RegisterProblem(
            registry_pb2.RegisterProblemRequest(city_id="sarov", title=f"Problem {n}"),
            metadata=stack.metadata(),
            timeout=10,
        )
        .problem.problem_id
        for n in range(3)
    ]
    now = datetime.now(UTC)
    poll = stack.voting().CreatePoll(
        voting_pb2.CreatePollRequest(
            city_id="sarov",
            kind="city_problem",
            title="Which problem first?",
            method="single_choice",
            options=[voting_pb2.OptionRef(ref_kind="problem", ref_id=p) for p in problems],
            opens_at=stamp(now - timedelta(minutes=1)),
            closes_at=stamp(now + timedelta(days=1)),
        ),
        metadata=stack.metadata(),
        timeout=10,
    )
    receipts = [
        stack.voting()
        .CastBallot(
            voting_pb2.CastBallotRequest(
                poll_id=poll.poll_id,
                voter_id=f"resident-{n}",
                choices=[voting_pb2.Choice(option_id=f"o{n % 3 + 1}", value=1)],
            ),
            metadata=stack.metadata("portal", cities=("sarov",)),
            timeout=10,
        )
        .receipt
        for n in range(BALLOTS)
    ]
    return poll, receipts


def verify(
    stack: Slice, poll_id: str, receipt: str, timeout: float = 30.0
) -> voting_pb2.VerifyReceiptResponse:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return stack.voting().VerifyReceipt(
                voting_pb2.VerifyReceiptRequest(poll_id=poll_id, receipt=receipt),
                metadata=stack.metadata("resident", cities=("sarov",)),
                timeout=10,
            )
        except grpc.RpcError as error:
            if error.code() not in NOT_YET or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def test_receipts_verify_from_the_stored_tree_even_without_the_ballots_read_model(
    voting_stack, mongodb_uri
):
    stack = voting_stack
    closed, receipts = closed_poll_with_ballots(stack)
    first = verify(stack, closed.poll_id, receipts[0])
    assert first.digest == closed.digest
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
    database = client[Settings.from_env("voting", stack.env).mongodb_database]

    # Without its ballots in the read model a scan could no longer reproduce the digest.
    removed = database["ballots"].delete_many({"poll_id": closed.poll_id}).deleted_count
    proofs = [verify(stack, closed.poll_id, r, timeout=0) for r in receipts]
    client.close()

    assert removed == BALLOTS
    assert sorted(p.leaf_index for p in proofs) == list(range(BALLOTS))
    for receipt, proof in zip(receipts, proofs, strict=True):
        assert (proof.digest, proof.tree_size) == (closed.digest, BALLOTS)
        assert verify_inclusion(
            receipt, proof.leaf_index, BALLOTS, list(proof.proof), closed.digest
        )


def test_a_receipt_that_is_not_one_is_invalid_and_one_not_counted_is_not_found(voting_stack):
    stack = voting_stack
    closed, receipts = closed_poll_with_ballots(stack)
    verify(stack, closed.poll_id, receipts[0])

    cases = {"x" * 5000: grpc.StatusCode.INVALID_ARGUMENT, "0" * 64: grpc.StatusCode.NOT_FOUND}
    for receipt, code in cases.items():
        with pytest.raises(grpc.RpcError) as refused:
            verify(stack, closed.poll_id, receipt, timeout=0)
        assert refused.value.code() == code
    assert verify(stack, closed.poll_id, receipts[5].upper()).leaf_index >= 0


def test_another_citys_receipt_is_not_found_as_if_the_poll_did_not_exist(voting_stack):
    stack = voting_stack
    closed, receipts = closed_poll_with_ballots(stack)
    verify(stack, closed.poll_id, receipts[0])
    elsewhere = stack.metadata("resident", cities=("seversk",))

    def refused(poll_id: str) -> grpc.RpcError:
        with pytest.raises(grpc.RpcError) as raised:
            stack.voting().VerifyReceipt(
                voting_pb2.VerifyReceiptRequest(poll_id=poll_id, receipt=receipts[0]),
                metadata=elsewhere,
                timeout=10,
            )
        return raised.value

    unknown = str(uuid4())
    another_city, no_poll = refused(closed.poll_id), refused(unknown)
    # the same answer as for no poll at all: the refusal does not tell that the poll exists
    assert another_city.code() == no_poll.code() == grpc.StatusCode.NOT_FOUND
    assert str(another_city.details()).replace(closed.poll_id, "ID") == str(
        no_poll.details()
    ).replace(unknown, "ID")


def test_a_portal_gets_the_receipt_of_the_ballot_its_resident_cast_and_nothing_more(voting_stack):
    stack = voting_stack
    closed, receipts = closed_poll_with_ballots(stack)
    portal = stack.metadata("portal", cities=("sarov",))

    def mine(voter_id: str, metadata: Any = portal) -> voting_pb2.CastBallotResponse:
        answer: voting_pb2.CastBallotResponse = stack.voting().GetMyReceipt(
            voting_pb2.GetMyReceiptRequest(poll_id=closed.poll_id, voter_id=voter_id),
            metadata=metadata,
            timeout=10,
        )
        return answer

    # the poll was single-vote: a lost answer is found again, as CastBallot gave it
    assert mine("resident-7").receipt == receipts[7]
    assert set(mine("resident-7").DESCRIPTOR.fields_by_name) == {
        "poll_id",
        "receipt",
        "ballot_version",
    }
    with pytest.raises(grpc.RpcError) as none_cast:
        mine("resident-who-did-not-vote")
    assert none_cast.value.code() == grpc.StatusCode.NOT_FOUND
    # a person asks only about their own ballot
    with pytest.raises(grpc.RpcError) as someone_else:
        mine("resident-7", stack.metadata("resident", cities=("sarov",)))
    assert someone_else.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_receipt_of_a_poll_closed_but_not_yet_projected_is_unavailable_not_a_refusal(
    voting_stack,
):
    """ "Not yet" is not "wrong": an open poll is FAILED_PRECONDITION (wait for its close), a
    poll closed in the event store whose count has not reached the read model is UNAVAILABLE
    with a retry hint. A voting without relay or consumers holds the count back for good."""
    stack = voting_stack
    poll, receipts = open_poll_with_ballots(stack)

    def refusal() -> grpc.StatusCode:
        with pytest.raises(grpc.RpcError) as refused:
            verify(stack, poll.poll_id, receipts[0], timeout=0)
        return refused.value.code()

    deadline = time.monotonic() + 30
    codes = [refusal()]
    while codes[-1] == grpc.StatusCode.UNAVAILABLE and time.monotonic() < deadline:
        time.sleep(0.2)  # the new poll on its way to the read model
        codes.append(refusal())
    assert codes[-1] == grpc.StatusCode.FAILED_PRECONDITION, codes  # open: wait for its close

    (voting,) = [p for p in stack.processes if p.service == "voting"]
    voting.stop()
    stack.processes.remove(voting)
    stack.start("voting", ("api",), label="voting-api-only")
    close(stack, poll.poll_id)

    with pytest.raises(grpc.RpcError) as not_yet:
        verify(stack, poll.poll_id, receipts[0], timeout=0)
    assert not_yet.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "still being projected: retry shortly" in str(not_yet.value.details())
    trailers: Any = not_yet.value.trailing_metadata() or ()  # grpc gives str values here
    assert [m.value for m in trailers if m.key == "grpc-retry-pushback-ms"] == ["500"]
