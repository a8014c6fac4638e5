"""Read-your-writes (issue 17 item 2): every command's answer carries `lmp-consistency-token`;
a read that sends it back sees the write at once, within a service (the registry's lists, voting's
poll list and live results) and across services (expertise opening a review of a practice the
registry has just registered), never NOT_FOUND or FAILED_PRECONDITION for "not yet", also when
the API and the consumers run in separate processes. A token the read models cannot reach in
time is UNAVAILABLE with a retry pushback; one that is not a token is INVALID_ARGUMENT."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from lmp.expertise.v1 import expertise_pb2, expertise_pb2_grpc
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2 as reg
from lmp.voting.v1 import voting_pb2
from lmp_kit.consistency import HEADER, ConsistencyToken

from .conftest import Slice, stamp

ROUNDS = 12


def token_of(call: Any) -> str:  # a grpc call object
    """The answer's consistency token (response metadata)."""
    found = [v for k, v in call.initial_metadata() if k == HEADER]
    assert found, f"the answer carries no {HEADER}: {call.initial_metadata()}"
    return str(found[0])


def with_token(metadata: tuple[tuple[str, str], ...], token: str) -> tuple[tuple[str, str], ...]:
    return (*metadata, (HEADER, token))


def test_a_list_read_with_the_token_of_a_write_holds_that_write_every_time(stack: Slice) -> None:
    stack.register_city("sarov")
    api = stack.registry()
    group = stack.metadata("working_group", cities=("sarov",))
    positions = []
    for number in range(ROUNDS):
        title = f"Consistency probe {number} Wombat{number}"
        created, call = api.RegisterProblem.with_call(
            reg.RegisterProblemRequest(city_id="sarov", title=title), metadata=group, timeout=10
        )
        token = token_of(call)
        positions.append(ConsistencyToken.parse([token]).positions["registry"])
        listed = api.ListProblems(
            reg.ListProblemsRequest(city_id="sarov", text=f"Wombat{number}"),
            metadata=with_token(group, token),
            timeout=10,
        )
        assert [p.problem_id for p in listed.problems] == [created.problem.problem_id]
    assert positions == sorted(positions)
    assert len(set(positions)) == ROUNDS  # each write's own position


def test_the_token_works_when_the_api_and_the_consumers_are_separate_processes(
    slice_factory: Any,  # the conftest's factory
) -> None:
    stack = slice_factory()
    stack.start("registry", ("api",))
    stack.start("registry", ("relay", "consumers"), label="workers")
    stack.register_city("sarov")
    api = stack.registry()
    group = stack.metadata("working_group", cities=("sarov",))
    for number in range(4):
        created, call = api.RegisterActivity.with_call(
            reg.RegisterActivityRequest(
                city_id="sarov",
                kind="working_meeting",
                title=f"Meeting {number}",
                held_on="2026-11-05",
                participant_categories=["administration"],
            ),
            metadata=group,
            timeout=10,
        )
        listed = api.ListActivities(
            reg.ListActivitiesRequest(city_id="sarov"),
            metadata=with_token(group, token_of(call)),
            timeout=10,
        )
        assert created.activity_id in [a.activity_id for a in listed.activities]


@pytest.fixture
def federation(slice_factory: Any) -> Slice:  # the conftest's factory
    made: Slice = slice_factory()
    made.env["LMP_VOTING_PSEUDONYM_KEY"] = "an-integration-test-pseudonym-master-key"
    for name in ("registry", "expertise", "voting"):
        made.start(name)
    made.register_city("sarov")
    return made


def test_expertise_opens_a_review_at_once_with_the_registrys_token(federation: Slice) -> None:
    stack = federation
    expertise = expertise_pb2_grpc.ExpertiseServiceStub(
        grpc.insecure_channel(stack.target("expertise"))
    )
    expertise.FormCouncil(
        expertise_pb2.FormCouncilRequest(),
        metadata=stack.metadata("programme_office", cities=("*",)),
        timeout=10,
    )
    group = stack.metadata("working_group", cities=("sarov",))
    problem = stack.registry().RegisterProblem(
        reg.RegisterProblemRequest(city_id="sarov", title="Dark courtyards"),
        metadata=group,
        timeout=10,
    )
    for number in range(ROUNDS // 2):
        practice, call = stack.registry().RegisterPractice.with_call(
            reg.RegisterPracticeRequest(
                city_id="sarov",
                kind="own",
                title=f"Courtyard lighting {number}",
                authors=[reg.Person(person_id="anna", name="Анна")],
                problem_ids=[problem.problem.problem_id],
            ),
            metadata=group,
            timeout=10,
        )
        registry_token = token_of(call)
        review, opened = expertise.OpenReview.with_call(
            expertise_pb2.OpenReviewRequest(practice_id=practice.practice_id, round="primary"),
            metadata=with_token(group, registry_token),
            timeout=10,
        )
        assert review.practice_id == practice.practice_id
        answered = ConsistencyToken.parse([token_of(opened)]).positions
        # the answer carries both: what the client had written, and what expertise wrote
        written = ConsistencyToken.parse([registry_token]).positions
        assert answered["registry"] == written["registry"]
        assert answered["expertise"] > 0


def test_voting_lists_and_counts_a_poll_at_once_with_its_token(federation: Slice) -> None:
    stack = federation
    group = stack.metadata("working_group", cities=("sarov",))
    refs = [
        stack.registry()
        .RegisterProblem(
            reg.RegisterProblemRequest(city_id="sarov", title=f"Problem {n}"),
            metadata=group,
            timeout=10,
        )
        .problem.problem_id
        for n in range(2)
    ]
    voting = stack.voting()
    now = datetime.now(UTC)
    for number in range(3):
        poll, call = voting.CreatePoll.with_call(
            voting_pb2.CreatePollRequest(
                city_id="sarov",
                kind="city_problem",
                title=f"Which first? {number}",
                method="single_choice",
                options=[voting_pb2.OptionRef(ref_kind="problem", ref_id=r) for r in refs],
                opens_at=stamp(now - timedelta(minutes=1)),
                closes_at=stamp(now + timedelta(days=1)),
            ),
            metadata=stack.metadata("working_group", cities=("sarov",)),
            timeout=30,
        )
        token = token_of(call)
        listed = voting.ListPolls(
            voting_pb2.ListPollsRequest(city_id="sarov", page_size=50),
            metadata=with_token(group, token),
            timeout=10,
        )
        assert poll.poll_id in [p.poll_id for p in listed.polls]
        live = voting.GetLiveResults(
            voting_pb2.GetLiveResultsRequest(poll_id=poll.poll_id),
            metadata=with_token(group, token),
            timeout=10,
        )
        assert live.poll_id == poll.poll_id


def test_a_token_the_models_cannot_reach_in_time_is_unavailable_with_a_pushback(
    stack: Slice,
) -> None:
    stack.register_city("sarov")
    group = stack.metadata("working_group", cities=("sarov",))
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as refused:
        stack.registry().ListProblems(
            reg.ListProblemsRequest(city_id="sarov"),
            metadata=with_token(group, "registry=999999999"),
            timeout=1.5,
        )
    error: Any = refused.value
    assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
    assert "retry" in error.details()
    assert ("grpc-retry-pushback-ms", "500") in tuple(error.trailing_metadata() or ())
    assert time.monotonic() - started < 2.5  # bounded by the deadline, not by the server's 5 s


@pytest.mark.parametrize("value", ["registry", "registry=-1", "unknown=5", "registry=1;x", ""])
def test_what_is_not_a_token_is_invalid_argument_naming_the_metadata(
    stack: Slice, value: str
) -> None:
    stack.register_city("sarov")
    group = stack.metadata("working_group", cities=("sarov",))
    with pytest.raises(grpc.RpcError) as refused:
        stack.registry().ListProblems(
            reg.ListProblemsRequest(city_id="sarov"),
            metadata=with_token(group, value),
            timeout=10,
        )
    error: Any = refused.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert HEADER in error.details()


def test_kpi_counts_a_registry_write_at_once_with_the_registrys_token(stack: Slice) -> None:
    stack.register_city("sarov")
    group = stack.metadata("working_group", cities=("sarov",))
    for number in range(1, 6):
        _, call = stack.registry().RegisterProblem.with_call(
            reg.RegisterProblemRequest(city_id="sarov", title=f"Counted {number}"),
            metadata=group,
            timeout=10,
        )
        stats = stack.kpi().ListProblemStats(
            kpi_pb2.ListProblemStatsRequest(city_id="sarov"),
            metadata=with_token(group, token_of(call)),
            timeout=10,
        )
        assert sum(m.problems_registered for m in stats.months) == number
