"""ListPolls over gRPC: a city's polls from voting's read model, newest first, paged, filtered by
kind and status, never another city's."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from lmp.registry.v1 import registry_pb2
from lmp.voting.v1 import voting_pb2

from .conftest import stamp

WAIT_S = 60.0


def problems(stack, city: str) -> list[str]:
    return [
        stack.registry()
        .RegisterProblem(
            registry_pb2.RegisterProblemRequest(city_id=city, title=f"{city} problem {n}"),
            metadata=stack.metadata(),
            timeout=10,
        )
        .problem.problem_id
        for n in range(2)
    ]


def create(stack, city: str, refs: list[str], title: str, *, opens: bool) -> str:
    now = datetime.now(UTC)
    poll = stack.voting().CreatePoll(
        voting_pb2.CreatePollRequest(
            city_id=city,
            kind="city_problem",
            title=title,
            method="single_choice",
            options=[voting_pb2.OptionRef(ref_kind="problem", ref_id=r) for r in refs],
            opens_at=stamp(now - timedelta(minutes=1)) if opens else None,
            closes_at=stamp(now + timedelta(days=1)),
        ),
        metadata=stack.metadata(),
        timeout=30,
    )
    return str(poll.poll_id)


def listed(stack, *, size: int = 2, **filters) -> list[voting_pb2.PollEntry]:
    entries: list[voting_pb2.PollEntry] = []
    token = ""
    while True:
        answer = stack.voting().ListPolls(
            voting_pb2.ListPollsRequest(
                city_id="sarov", page_size=size, page_token=token, **filters
            ),
            metadata=stack.metadata("resident", cities=("sarov",)),
            timeout=10,
        )
        entries += answer.polls
        token = answer.next_page_token
        if not token:
            return entries


def test_a_citys_polls_are_listed_newest_first_with_their_status_and_filters(voting_stack):
    stack = voting_stack
    refs = problems(stack, "sarov")
    draft = create(stack, "sarov", refs, "Not opened yet", opens=False)
    running = create(stack, "sarov", refs, "Open now", opens=True)
    closed = create(stack, "sarov", refs, "Closed already", opens=True)
    stack.voting().ClosePoll(
        voting_pb2.ClosePollRequest(poll_id=closed), metadata=stack.metadata(), timeout=30
    )
    create(stack, "seversk", problems(stack, "seversk"), "Seversk's poll", opens=True)

    deadline = time.monotonic() + WAIT_S
    everything = listed(stack)
    while time.monotonic() < deadline and [p.status for p in everything] != [
        "closed",
        "open",
        "draft",
    ]:
        time.sleep(0.2)  # voting's read model follows its events
        everything = listed(stack)

    assert [p.poll_id for p in everything] == [closed, running, draft]  # pages of 2
    assert [p.status for p in everything] == ["closed", "open", "draft"]
    assert {p.city_id for p in everything} == {"sarov"}
    assert [p.poll_id for p in listed(stack, status="open")] == [running]
    assert [p.poll_id for p in listed(stack, status="closed")] == [closed]
    assert listed(stack, kind="practice_rating") == []
    assert len(listed(stack, kind="city_problem", size=50)) == 3


def test_list_polls_refuses_another_citys_token_and_bad_filters(voting_stack):
    stack = voting_stack

    def refusal(request, metadata):
        with pytest.raises(grpc.RpcError) as refused:
            stack.voting().ListPolls(request, metadata=metadata, timeout=10)
        return refused.value.code()

    resident = stack.metadata("resident", cities=("sarov",))
    elsewhere = stack.metadata("resident", cities=("seversk",))
    assert (
        refusal(voting_pb2.ListPollsRequest(city_id="sarov"), elsewhere)
        == grpc.StatusCode.PERMISSION_DENIED
    )
    for bad in (
        voting_pb2.ListPollsRequest(),
        voting_pb2.ListPollsRequest(city_id="sarov", status="finished"),
        voting_pb2.ListPollsRequest(city_id="sarov", kind="referendum"),
        voting_pb2.ListPollsRequest(city_id="sarov", page_token="not-one-we-gave"),  # noqa: S106  # not a password
    ):
        assert refusal(bad, resident) == grpc.StatusCode.INVALID_ARGUMENT
