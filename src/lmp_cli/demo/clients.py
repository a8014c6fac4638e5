"""The public gRPC APIs as external portals hold them: one stub per service, a token per actor,
and waiting for what services learn through events."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.expertise.v1 import expertise_pb2_grpc
from lmp.kpi.v1 import kpi_pb2_grpc
from lmp.registry.v1 import registry_pb2 as reg
from lmp.registry.v1 import registry_pb2_grpc
from lmp.voting.v1 import voting_pb2_grpc
from lmp_kit.auth import ALL_CITIES, issuer_of
from lmp_kit.settings import SERVICES, Settings

T = TypeVar("T")


Metadata = tuple[tuple[str, str], ...]


TIMEOUT_S = 30.0


READ_MODEL_TIMEOUT_S = 120.0


class Portals:
    """Stubs of the services and tokens for each actor, as external portals hold them."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.issuer = issuer_of(Settings.from_env("registry", self.env))
        self._stack = ExitStack()
        channels = {
            name: self._stack.enter_context(grpc.insecure_channel(self.target(name)))
            for name in SERVICES
        }
        self.registry = registry_pb2_grpc.RegistryServiceStub(channels["registry"])
        self.expertise = expertise_pb2_grpc.ExpertiseServiceStub(channels["expertise"])
        self.voting = voting_pb2_grpc.VotingServiceStub(channels["voting"])
        self.kpi = kpi_pb2_grpc.KpiServiceStub(channels["kpi"])

    def target(self, service: str) -> str:
        return Settings.from_env(service, self.env).endpoint.grpc_target

    def close(self) -> None:
        self._stack.close()

    def as_(self, subject: str, *roles: str, cities: Iterable[str]) -> Metadata:
        bearer = self.issuer.issue(subject, roles=roles, cities=cities)
        return (("authorization", f"Bearer {bearer}"),)

    def office(self) -> Metadata:
        return self.as_("demo-office", "programme_office", cities=[ALL_CITIES])

    def expert(self, person_id: str = "chair") -> Metadata:
        return self.as_(person_id, "expert", cities=[ALL_CITIES])

    def working_group(self, city: str) -> Metadata:
        return self.as_(f"wg-{city}", "working_group", cities=[city])

    def administration(self, city: str) -> Metadata:
        return self.as_(f"head-{city}", "administration", cities=[city])

    def curator(self, city: str) -> Metadata:
        return self.as_(f"curator-{city}", "curator", cities=[city])

    def portal(self, city: str) -> Metadata:
        return self.as_(f"portal-{city}", "portal", cities=[city])


def eventually(call: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """Poll a read model (or a service that learns through events) until `done`."""
    deadline = time.monotonic() + READ_MODEL_TIMEOUT_S
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = call()
        except grpc.RpcError as error:
            if error.code() not in (
                grpc.StatusCode.FAILED_PRECONDITION,
                grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.UNAVAILABLE,
            ):
                raise
            last = error
        else:
            if done(value):
                return value
        time.sleep(0.3)
    msg = f"timed out waiting for {what}" + (f" (last error: {last})" if last else "")
    raise TimeoutError(msg)


def tolerate_existing(call: Callable[[], T]) -> T | None:
    """Federation-wide set-up (the council) may already exist on a running stack."""
    try:
        return call()
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.ALREADY_EXISTS:
            return None
        raise


def now_stamp() -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.now(UTC))
    return stamp


def practice_of(api: Portals, city: str, practice_id: str) -> reg.Practice:
    return api.registry.GetPractice(
        reg.GetPracticeRequest(practice_id=practice_id),
        metadata=api.working_group(city),
        timeout=TIMEOUT_S,
    )


def await_status(api: Portals, city: str, practice_id: str, status: str, what: str) -> None:
    """Until the registry shows the practice in `status`, which it learns through events."""
    eventually(
        partial(practice_of, api, city, practice_id), lambda found: found.status == status, what
    )
