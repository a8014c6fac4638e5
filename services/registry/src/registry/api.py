from __future__ import annotations

import asyncio
from datetime import datetime
from uuid import UUID

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp_kit.auth import principal
from lmp_kit.errors import InvalidArgumentError
from lmp_kit.grpc_server import Registration
from lmp_kit.logs import current_city

from registry.application import RegistryApplication
from registry.domain import Problem

WRITERS = ("working_group", "administration", "programme_office", "portal")

Context = grpc.aio.ServicerContext[object, object]


class RegistryServicer(registry_pb2_grpc.RegistryServiceServicer):
    def __init__(self, app: RegistryApplication) -> None:
        self.app = app

    async def RegisterProblem(  # noqa: N802  # gRPC method name
        self, request: registry_pb2.RegisterProblemRequest, context: Context
    ) -> registry_pb2.RegisterProblemResponse:
        del context
        caller = principal()
        caller.require_role(*WRITERS)
        caller.require_city(request.city_id)
        current_city.set(request.city_id)
        problem = await asyncio.to_thread(
            self.app.register_problem, request.city_id, request.title, request.description
        )
        return registry_pb2.RegisterProblemResponse(problem=problem_message(problem))

    async def GetProblem(  # noqa: N802  # gRPC method name
        self, request: registry_pb2.GetProblemRequest, context: Context
    ) -> registry_pb2.Problem:
        del context
        problem = await asyncio.to_thread(self.app.get_problem, parse_id(request.problem_id))
        principal().require_city(problem.city_id)
        return problem_message(problem)


def parse_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        msg = f"problem_id must be a UUID, not {value!r}"
        raise InvalidArgumentError(msg) from None


def timestamp(moment: datetime) -> Timestamp:
    message = Timestamp()
    message.FromDatetime(moment)
    return message


def problem_message(problem: Problem) -> registry_pb2.Problem:
    return registry_pb2.Problem(
        problem_id=str(problem.id),
        city_id=problem.city_id,
        title=problem.title,
        description=problem.description,
        registered_at=timestamp(problem.created_on),
        version=problem.version,
    )


def registrations(app: RegistryApplication) -> list[Registration]:
    return [
        Registration(
            add=registry_pb2_grpc.add_RegistryServiceServicer_to_server,
            servicer=RegistryServicer(app),
            service_name=registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,
        )
    ]
