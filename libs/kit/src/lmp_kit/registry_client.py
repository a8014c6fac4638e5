"""The registry as other services see it: RegistryService.GetProblem and GetPractice over
gRPC with the caller's service token (voting confirms poll options with it, expertise the
practice a review names before its own read model has it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc

from lmp_kit.errors import DomainError, FailedPreconditionError

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class RegisteredItem:
    city_id: str
    title: str
    status: str = ""


class RegistryUnavailableError(DomainError):
    status = grpc.StatusCode.UNAVAILABLE


class RegistryClient:
    """Blocking calls (run them in a worker thread from an event loop)."""

    def __init__(self, target: str, token: Callable[[], str]) -> None:
        self.target = target
        self.token = token
        self._stub: registry_pb2_grpc.RegistryServiceStub | None = None

    @property
    def stub(self) -> registry_pb2_grpc.RegistryServiceStub:
        if self._stub is None:
            self._stub = registry_pb2_grpc.RegistryServiceStub(grpc.insecure_channel(self.target))
        return self._stub

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token()}"),)

    def problem(self, problem_id: str) -> RegisteredItem | None:
        try:
            found = self.stub.GetProblem(
                registry_pb2.GetProblemRequest(problem_id=problem_id),
                metadata=self._metadata(),
                timeout=TIMEOUT_S,
            )
        except grpc.RpcError as error:
            return self._refused(error, f"problem {problem_id}")
        return RegisteredItem(city_id=found.city_id, title=found.title)

    def practice(self, practice_id: str) -> RegisteredItem | None:
        try:
            found = self.stub.GetPractice(
                registry_pb2.GetPracticeRequest(practice_id=practice_id),
                metadata=self._metadata(),
                timeout=TIMEOUT_S,
            )
        except grpc.RpcError as error:
            return self._refused(error, f"practice {practice_id}")
        return RegisteredItem(city_id=found.city_id, title=found.title, status=found.status)

    @staticmethod
    def _refused(error: grpc.RpcError, what: str) -> None:
        code = error.code() if isinstance(error, grpc.Call) else None
        details = error.details() if isinstance(error, grpc.Call) else str(error)
        if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            return
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            msg = f"the registry cannot be reached to confirm {what}; try again"
            raise RegistryUnavailableError(msg)
        msg = f"the registry cannot confirm {what}: {code.name if code else 'error'} {details}"
        raise FailedPreconditionError(msg)
