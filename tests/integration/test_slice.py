"""The first end-to-end slice: RegisterProblem → event store → relay → Kafka → kpi → gRPC."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import grpc
import pytest
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2
from lmp_kit.auth import issuer_of
from lmp_kit.settings import Settings


def this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_registered_problems_reach_the_kpi_read_model(request, slice_factory, store):
    dsn = request.getfixturevalue("postgres_dsn") if store == "postgres" else None
    stack = slice_factory(postgres_dsn=dsn)
    stack.start("registry")
    stack.start("kpi")

    stack.register(3, city="sarov")
    stack.register(2, city="seversk")

    assert stack.wait_registered(3, city="sarov") == 3
    assert stack.wait_registered(2, city="seversk") == 2
    stats = stack.kpi().GetProblemStats(
        kpi_pb2.GetProblemStatsRequest(city_id="sarov", month=this_month()),
        metadata=stack.metadata("curator", cities=("sarov",)),
    )
    assert (stats.city_id, stats.month, stats.problems_registered) == ("sarov", this_month(), 3)
    assert stack.head() == 5


def test_a_registered_problem_can_be_read_back(stack):
    created = stack.registry().RegisterProblem(
        registry_pb2.RegisterProblemRequest(
            city_id="sarov", title="  Broken   streetlights ", description="Dark yards"
        ),
        metadata=stack.metadata(),
    )
    problem = stack.registry().GetProblem(
        registry_pb2.GetProblemRequest(problem_id=created.problem.problem_id),
        metadata=stack.metadata(),
    )
    assert (problem.city_id, problem.title, problem.description) == (
        "sarov",
        "Broken   streetlights",
        "Dark yards",
    )
    assert problem.version == 1


def test_the_same_problem_twice_in_a_city_is_already_exists_and_records_nothing(stack):
    stack.register(1, prefix="Potholes")
    before = stack.head()
    with pytest.raises(grpc.RpcError) as refused:
        stack.registry().RegisterProblem(
            registry_pb2.RegisterProblemRequest(city_id="sarov", title="potholes  0"),
            metadata=stack.metadata(),
        )
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "already has a problem titled" in str(refused.value.details())
    assert stack.head() == before


def refused_with(stack, request, metadata=()) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        stack.registry().RegisterProblem(request, metadata=metadata, timeout=10)
    return refused.value


def test_calls_without_valid_credentials_or_for_another_city_are_refused_and_record_nothing(stack):
    request = registry_pb2.RegisterProblemRequest(city_id="sarov", title="Snow removal")
    forged = issuer_of_secret(stack, secrets.token_urlsafe(32))
    expired = stack.issuer.issue(
        "tester", roles=["working_group"], cities=["sarov"], ttl_seconds=-60
    )

    cases = {
        "no token": ((), grpc.StatusCode.UNAUTHENTICATED, "missing credentials"),
        "not bearer": (
            (("authorization", "Basic abc"),),
            grpc.StatusCode.UNAUTHENTICATED,
            "Bearer",
        ),
        "bad signature": (
            (("authorization", f"Bearer {forged}"),),
            grpc.StatusCode.UNAUTHENTICATED,
            "Signature verification failed",
        ),
        "expired": (
            (("authorization", f"Bearer {expired}"),),
            grpc.StatusCode.UNAUTHENTICATED,
            "expired",
        ),
        "another city": (
            stack.metadata("working_group", cities=("seversk",)),
            grpc.StatusCode.PERMISSION_DENIED,
            "your token is not for city 'sarov'",
        ),
        "a role that may not write": (
            stack.metadata("resident", cities=("sarov",)),
            grpc.StatusCode.PERMISSION_DENIED,
            "needs one of the roles",
        ),
    }
    for name, (metadata, code, message) in cases.items():
        error = refused_with(stack, request, metadata)
        assert (name, error.code()) == (name, code)
        assert message in str(error.details()), (name, error.details())
    assert stack.head() == 0


def issuer_of_secret(stack, secret):
    return issuer_of(Settings.from_env("registry", {**stack.env, "LMP_JWT_SECRET": secret})).issue(
        "intruder", roles=["working_group"], cities=["sarov"]
    )


def test_malformed_input_is_invalid_argument_with_a_message_and_records_nothing(stack):
    cases = {
        "short title": (
            registry_pb2.RegisterProblemRequest(city_id="sarov", title="ab"),
            "title must be 3 to 200 characters (got 2)",
        ),
        "long description": (
            registry_pb2.RegisterProblemRequest(
                city_id="sarov", title="Noise", description="x" * 10_001
            ),
            "description must be at most 10000 characters",
        ),
        "city not a slug": (
            registry_pb2.RegisterProblemRequest(city_id="Sarov City", title="Noise"),
            "is not a city slug",
        ),
    }
    admin = stack.metadata("programme_office", cities=("*",))
    for name, (request, message) in cases.items():
        error = refused_with(stack, request, admin)
        assert (name, error.code()) == (name, grpc.StatusCode.INVALID_ARGUMENT)
        assert message in str(error.details()), (name, error.details())

    with pytest.raises(grpc.RpcError) as bad_id:
        stack.registry().GetProblem(registry_pb2.GetProblemRequest(problem_id="42"), metadata=admin)
    assert bad_id.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "problem_id must be a UUID" in str(bad_id.value.details())

    with pytest.raises(grpc.RpcError) as bad_month:
        stack.kpi().GetProblemStats(
            kpi_pb2.GetProblemStatsRequest(city_id="sarov", month="November"), metadata=admin
        )
    assert bad_month.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "month must be YYYY-MM" in str(bad_month.value.details())
    assert stack.head() == 0


def test_an_unknown_problem_is_not_found(stack):
    with pytest.raises(grpc.RpcError) as missing:
        stack.registry().GetProblem(
            registry_pb2.GetProblemRequest(problem_id="00000000-0000-0000-0000-000000000001"),
            metadata=stack.metadata(),
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
