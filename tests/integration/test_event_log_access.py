"""ReadEvents gives the whole log to services and operators, a portal only its cities', and
ballot receipts and nonces to services alone (docs/decisions/0010-event-log-access.md)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import grpc
import jwt
import pytest
from lmp.common.v1 import events_pb2
from lmp.registry.v1 import registry_pb2
from lmp.voting.v1 import voting_pb2
from lmp_kit.auth import ALL_CITIES, READ_ALL_EVENTS_SCOPE, READ_EVENTS_SCOPE
from lmp_kit.envelope import Envelope
from lmp_kit.runtime import service_token
from lmp_kit.settings import Settings

from .conftest import stamp

CITY_A, CITY_B = "sarov", "seversk"
BALLOTS = 3


@pytest.fixture
def two_cities(slice_factory):
    made = slice_factory()
    made.env["LMP_VOTING_PSEUDONYM_KEY"] = "an-integration-test-pseudonym-master-key"
    made.start("registry")
    made.start("voting")
    receipts = {city: cast_ballots(made, city) for city in (CITY_A, CITY_B)}
    return made, receipts


def cast_ballots(stack, city: str) -> list[str]:
    problems = [
        stack.registry()
        .RegisterProblem(
            registry_pb2.RegisterProblemRequest(city_id=city, title=f"Secret of {city} {n}"),
            metadata=stack.metadata(cities=(city,)),
            timeout=10,
        )
        .problem.problem_id
        for n in range(2)
    ]
    voting = stack.voting()
    now = datetime.now(UTC)
    poll = voting.CreatePoll(
        voting_pb2.CreatePollRequest(
            city_id=city,
            kind="city_problem",
            title=f"Which problem of {city} first?",
            method="single_choice",
            options=[voting_pb2.OptionRef(ref_kind="problem", ref_id=p) for p in problems],
            opens_at=stamp(now - timedelta(minutes=1)),
            closes_at=stamp(now + timedelta(days=1)),
        ),
        metadata=stack.metadata(cities=(city,)),
        timeout=10,
    )
    return [
        voting.CastBallot(
            voting_pb2.CastBallotRequest(
                poll_id=poll.poll_id,
                voter_id=f"resident-{n}",
                choices=[voting_pb2.Choice(option_id=f"o{n % 2 + 1}", value=1)],
            ),
            metadata=stack.metadata("portal", cities=(city,)),
            timeout=10,
        ).receipt
        for n in range(BALLOTS)
    ]


def bearer(stack, *roles, cities=(CITY_B,), scopes=(READ_EVENTS_SCOPE,)) -> str:
    """Signed by hand: the issuer refuses a made-up role, a verifier only checks the key."""
    settings = Settings.from_env("registry", stack.env)
    now = int(time.time())
    claims = {
        "sub": "tester",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
        "roles": list(roles),
        "cities": list(cities),
        "scopes": list(scopes),
    }
    return jwt.encode(claims, settings.jwt_signing_key, algorithm=settings.jwt_algorithm)


def read_all(stack, service: str, token: str, limit: int = 2) -> tuple[list[Envelope], int]:
    """Every event the caller gets, page by page as a consumer pages; and the last position."""
    found: list[Envelope] = []
    after = 0
    while True:
        response = stack.event_log(service).ReadEvents(
            events_pb2.ReadEventsRequest(after=after, limit=limit),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )
        found.extend(Envelope.from_proto(e) for e in response.events)
        assert response.next_after >= after
        if response.next_after == after or response.next_after >= response.max_notification_id:
            return found, response.next_after
        after = response.next_after


@pytest.mark.parametrize(
    "roles", [("resident",), (), ("mayor",), ("working_group",), ("service",)], ids=str
)
def test_a_caller_without_a_reading_role_is_refused_the_log(two_cities, roles):
    stack, _ = two_cities
    for service in ("registry", "voting"):
        with pytest.raises(grpc.RpcError) as refused:
            read_all(stack, service, bearer(stack, *roles))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_city_scoped_office_with_only_events_read_may_not_read_every_city(two_cities):
    stack, _ = two_cities
    token = bearer(stack, "programme_office", cities=(ALL_CITIES,))

    with pytest.raises(grpc.RpcError) as refused:
        read_all(stack, "voting", token)

    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert READ_ALL_EVENTS_SCOPE in (refused.value.details() or "")


def test_a_portal_of_city_b_sees_only_city_b_and_pages_to_the_head(two_cities):
    stack, _ = two_cities
    for service in ("registry", "voting"):
        head = stack.head(service)
        events, position = read_all(stack, service, bearer(stack, "portal"))

        assert events, f"{service}: city B has events of its own"
        assert {e.city_id for e in events} == {CITY_B}
        assert position == head
        served = json.dumps([e.model_dump(mode="json") for e in events])
        assert f"Secret of {CITY_A}" not in served
        assert f"problem of {CITY_A}" not in served


def test_ballots_reach_a_portal_and_an_operator_without_receipt_or_nonce(two_cities):
    stack, receipts = two_cities
    readers = {
        "portal of A": bearer(stack, "portal", cities=(CITY_A,)),
        "curator of A and B": bearer(stack, "curator", cities=(CITY_A, CITY_B)),
        "operator": bearer(
            stack, "programme_office", cities=(ALL_CITIES,), scopes=(READ_ALL_EVENTS_SCOPE,)
        ),
    }
    for reader, token in readers.items():
        events, _ = read_all(stack, "voting", token, limit=500)
        ballots = [e for e in events if e.event_type == "Ballot.Cast"]
        assert len(ballots) >= BALLOTS, reader
        assert all("receipt" not in b.payload and "nonce" not in b.payload for b in ballots)
        assert all("choices" in b.payload for b in ballots)
        served = json.dumps([e.model_dump(mode="json") for e in events])
        assert not any(r in served for rs in receipts.values() for r in rs), reader


def test_the_service_token_reads_every_city_with_receipts_and_nonces(two_cities):
    stack, receipts = two_cities
    token = service_token(Settings.from_env("kpi", stack.env))()

    events, position = read_all(stack, "voting", token, limit=500)

    ballots = [e for e in events if e.event_type == "Ballot.Cast"]
    assert {b.city_id for b in ballots} == {CITY_A, CITY_B}
    assert sorted(b.payload["receipt"] for b in ballots) == sorted(
        r for rs in receipts.values() for r in rs
    )
    assert all(b.payload["nonce"] for b in ballots)
    assert position == stack.head("voting")
