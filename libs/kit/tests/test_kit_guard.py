"""The guard every call goes through, on a real grpc.aio server over a real connection: what a
client's mistake, a dependency's absence and too many streams get."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.protobuf import descriptor_pool
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lmp.kpi.v1 import kpi_pb2, kpi_pb2_grpc
from lmp.voting.v1 import voting_pb2, voting_pb2_grpc
from lmp_devstack import free_port
from lmp_kit.access import ANY_ROLE, AccessPolicy, Filtered, rule
from lmp_kit.auth import TokenIssuer, TokenVerifier
from lmp_kit.errors import InvalidArgumentError
from lmp_kit.grpc_server import Registration, start_grpc_server, stop_grpc_server
from lmp_kit.requests import SINGLE_LINE_MAX_CHARS, check_request
from lmp_kit.settings import GrpcLimits
from pymongo import AsyncMongoClient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

# The servers of the fixtures and the tests' clients on one event loop.
pytestmark = pytest.mark.asyncio(loop_scope="session")

SECRET = "guard-test-secret-of-enough-length-for-hs256"  # noqa: S105  # a test key


class Voting(voting_pb2_grpc.VotingServiceServicer):
    """CreatePoll answers what it was given; GetPoll reads an unreachable MongoDB."""

    def __init__(self, unreachable_mongodb: str) -> None:
        self.mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            unreachable_mongodb, serverSelectionTimeoutMS=30_000
        )
        self.created: list[voting_pb2.CreatePollRequest] = []

    async def CreatePoll(  # noqa: N802  # gRPC method name
        self, request: voting_pb2.CreatePollRequest, context: object
    ) -> voting_pb2.Poll:
        del context
        self.created.append(request)
        return voting_pb2.Poll(title=request.title, description=request.description)

    async def GetPoll(  # noqa: N802  # gRPC method name
        self, request: voting_pb2.GetPollRequest, context: object
    ) -> voting_pb2.Poll:
        del context
        await self.mongo["lmp"]["polls"].find_one({"_id": request.poll_id})
        return voting_pb2.Poll()


class Kpi(kpi_pb2_grpc.KpiServiceServicer):
    """A live stream that never has anything to send."""

    async def WatchScorecards(  # noqa: N802  # gRPC method name
        self, request: kpi_pb2.WatchScorecardsRequest, context: object
    ) -> AsyncIterator[kpi_pb2.Scorecard]:
        del request, context
        await asyncio.Event().wait()
        yield kpi_pb2.Scorecard()  # pragma: no cover  # never reached


def open_to_every_role(service_name: str) -> AccessPolicy:
    """The guard's other checks are tested here: every method of the service open to all."""
    service = descriptor_pool.Default().FindServiceByName(service_name)
    return AccessPolicy(
        service_name, {m.name: rule(ANY_ROLE, Filtered("a test")) for m in service.methods}
    )


LIMITS = GrpcLimits(max_streams=3, max_streams_per_caller=2, stream_idle_s=30)


@pytest.fixture
async def server(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, Voting]]:
    limits = getattr(request, "param", LIMITS)
    # nothing listens on port 1; the servicers implement only what the tests call
    voting = Voting("mongodb://127.0.0.1:1/?directConnection=true")  # type: ignore[abstract]
    port = free_port()
    running = await start_grpc_server(
        "127.0.0.1",
        port,
        [
            Registration(
                voting_pb2_grpc.add_VotingServiceServicer_to_server,
                voting,
                "lmp.voting.v1.VotingService",
                open_to_every_role("lmp.voting.v1.VotingService"),
            ),
            Registration(
                kpi_pb2_grpc.add_KpiServiceServicer_to_server,
                Kpi(),  # type: ignore[abstract]
                "lmp.kpi.v1.KpiService",
                open_to_every_role("lmp.kpi.v1.KpiService"),
            ),
        ],
        TokenVerifier(key=SECRET, algorithm="HS256", issuer="lmp", audience="lmp"),
        limits=limits,
    )
    yield f"127.0.0.1:{port}", voting
    await stop_grpc_server(*running, grace=0.1)
    await voting.mongo.close()


def metadata(subject: str = "tester") -> tuple[tuple[str, str], ...]:
    issuer = TokenIssuer(key=SECRET, algorithm="HS256", issuer="lmp", audience="lmp")
    token = issuer.issue(subject, roles=["working_group"], cities=["sarov"])
    return (("authorization", f"Bearer {token}"),)


async def code_of(call: Any) -> tuple[grpc.StatusCode, str]:  # any call
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code(), str(error.details())
    return grpc.StatusCode.OK, ""


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xff\xff\xff",  # a field number and wire type that do not parse
        b"\x1a\x05ab",  # title (field 3) says 5 bytes, 2 follow: truncated
        b"\x1a\x02\xc3\x28",  # title holds invalid UTF-8
        b"\x32\x02" * 200 + b"\x00",  # options nested in options: not a valid message
    ],
)
async def test_a_body_that_is_not_the_request_message_is_invalid_argument(server, body):
    target, voting = server
    async with grpc.aio.insecure_channel(target) as channel:
        raw = channel.unary_unary(
            "/lmp.voting.v1.VotingService/CreatePoll",
            request_serializer=None,
            response_deserializer=None,
        )
        code, details = await code_of(raw(body, metadata=metadata(), timeout=5))

    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid message" in details
    assert voting.created == []


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (voting_pb2.CreatePollRequest(opens_at=Timestamp(seconds=2**62)), "opens_at"),
        (voting_pb2.CreatePollRequest(closes_at=Timestamp(seconds=-(2**62))), "closes_at"),
        (voting_pb2.CreatePollRequest(opens_at=Timestamp(seconds=1, nanos=-1)), "opens_at"),
        (voting_pb2.CreatePollRequest(title="Yards\r\nBcc: all@city"), "title"),
        (voting_pb2.CreatePollRequest(title="\u202etxt.exe"), "title"),
        (voting_pb2.CreatePollRequest(description="null \x00 byte"), "description"),
        (voting_pb2.CreatePollRequest(title="x" * (SINGLE_LINE_MAX_CHARS + 1)), "title"),
        (
            voting_pb2.CreatePollRequest(options=[voting_pb2.OptionRef(label="a\tb")]),
            "options[0].label",
        ),
    ],
)
async def test_a_value_no_request_may_carry_is_invalid_argument_naming_its_field(
    server, request_, field
):
    target, voting = server
    async with grpc.aio.insecure_channel(target) as channel:
        stub = voting_pb2_grpc.VotingServiceStub(channel)
        code, details = await code_of(stub.CreatePoll(request_, metadata=metadata(), timeout=5))

    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith(f"{field}: ")
    assert voting.created == []


async def test_free_text_keeps_its_line_breaks(server):
    target, _ = server
    request = voting_pb2.CreatePollRequest(title="Yards", description="First line\r\n\tsecond")
    async with grpc.aio.insecure_channel(target) as channel:
        stub = voting_pb2_grpc.VotingServiceStub(channel)
        poll = await stub.CreatePoll(request, metadata=metadata(), timeout=5)

    assert poll.description == "First line\r\n\tsecond"


async def test_unknown_enum_values_are_refused_naming_the_field():
    response = health_pb2.HealthCheckResponse()
    response.status = 42  # an open enum keeps unknown numbers

    with pytest.raises(InvalidArgumentError, match=r"^status: 42 is not a value of ServingStatus"):
        check_request(response)


async def test_health_watch_answers_serving(server):
    target, _ = server
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        call = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=5)
        first = await call.read()
        call.cancel()

    assert first.status == health_pb2.HealthCheckResponse.SERVING


async def test_an_unreachable_database_is_unavailable_within_the_callers_deadline(server):
    target, _ = server
    async with grpc.aio.insecure_channel(target) as channel:
        stub = voting_pb2_grpc.VotingServiceStub(channel)
        started = time.monotonic()
        call = stub.GetPoll(voting_pb2.GetPollRequest(poll_id="p"), metadata=metadata(), timeout=2)
        code, details = await code_of(call)
        took = time.monotonic() - started
        trailing = dict(await call.trailing_metadata() or ())

    assert code == grpc.StatusCode.UNAVAILABLE
    assert "MongoDB" in details
    assert "retry" in details
    assert trailing.get("grpc-retry-pushback-ms") == "2000"
    assert took < 2  # the caller's deadline; the driver's own wait is 30 s


async def test_streams_beyond_the_callers_cap_or_the_servers_are_resource_exhausted(server):
    target, _ = server
    request = kpi_pb2.WatchScorecardsRequest(city_id="sarov", month="2026-12")
    async with grpc.aio.insecure_channel(target) as channel:
        stub = kpi_pb2_grpc.KpiServiceStub(channel)

        async def watch(subject: str) -> Any:  # a stream call
            call = stub.WatchScorecards(request, metadata=metadata(subject), timeout=10)
            await call.wait_for_connection()
            return call

        held = [await watch("portal"), await watch("portal")]
        over_own_cap = await code_of(watch("portal"))
        held.append(await watch("other"))
        over_server_cap = await code_of(watch("third"))
        for call in held:
            call.cancel()
        reopened = None
        for _ in range(50):  # the server sees the cancellations within moments
            with contextlib.suppress(grpc.aio.AioRpcError):
                reopened = await watch("portal")
                break
            await asyncio.sleep(0.05)
        assert reopened is not None
        reopened.cancel()

    assert over_own_cap[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "per caller" in over_own_cap[1]
    assert over_server_cap[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "limit of 3 open streams" in over_server_cap[1]


@pytest.mark.parametrize(
    "server",
    [GrpcLimits(max_streams=3, max_streams_per_caller=2, stream_idle_s=0.5)],
    indirect=True,
)
async def test_an_idle_stream_ends_after_the_idle_time(server):
    target, _ = server
    async with grpc.aio.insecure_channel(target) as channel:
        stub = kpi_pb2_grpc.KpiServiceStub(channel)
        started = time.monotonic()
        call = stub.WatchScorecards(
            kpi_pb2.WatchScorecardsRequest(city_id="sarov"), metadata=metadata(), timeout=10
        )
        messages = [message async for message in call]
        took = time.monotonic() - started

    assert messages == []
    assert await call.code() == grpc.StatusCode.OK
    assert 0.4 < took < 5  # the idle time is 0.5 s


async def test_a_refused_map_entry_is_named_by_a_short_key():
    request = kpi_pb2.ScoringPolicy()
    request.weights["k" * 1_000_000] = 1

    with pytest.raises(InvalidArgumentError) as refused:
        check_request(request)

    assert len(refused.value.message) < 300  # fits a status header
    assert "kkkk…" in refused.value.message
