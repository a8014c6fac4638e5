from __future__ import annotations

from datetime import datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.kpi.v1 import kpi_pb2, kpi_pb2_grpc
from lmp_kit.auth import principal
from lmp_kit.domain import check_city_id
from lmp_kit.grpc_server import Registration
from pymongo.asynchronous.database import AsyncDatabase

from kpi import views

Context = grpc.aio.ServicerContext[object, object]


class KpiServicer(kpi_pb2_grpc.KpiServiceServicer):
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def GetProblemStats(  # noqa: N802  # gRPC method name
        self, request: kpi_pb2.GetProblemStatsRequest, context: Context
    ) -> kpi_pb2.ProblemStats:
        del context
        principal().require_city(check_city_id(request.city_id))
        stats = await views.problem_stats(self.db, request.city_id, request.month)
        return stats_message(stats)

    async def ListProblemStats(  # noqa: N802  # gRPC method name
        self, request: kpi_pb2.ListProblemStatsRequest, context: Context
    ) -> kpi_pb2.ListProblemStatsResponse:
        del context
        principal().require_city(check_city_id(request.city_id))
        months = await views.problem_stats_by_month(self.db, request.city_id)
        return kpi_pb2.ListProblemStatsResponse(months=[stats_message(m) for m in months])


def stats_message(stats: views.ProblemStats) -> kpi_pb2.ProblemStats:
    message = kpi_pb2.ProblemStats(
        city_id=stats.city_id, month=stats.month, problems_registered=stats.problems_registered
    )
    if stats.updated_at is not None:
        message.updated_at.CopyFrom(timestamp(stats.updated_at))
    return message


def timestamp(moment: datetime) -> Timestamp:
    message = Timestamp()
    message.FromDatetime(moment)
    return message


def registrations(db: AsyncDatabase[dict[str, Any]]) -> list[Registration]:
    return [
        Registration(
            add=kpi_pb2_grpc.add_KpiServiceServicer_to_server,
            servicer=KpiServicer(db),
            service_name=kpi_pb2.DESCRIPTOR.services_by_name["KpiService"].full_name,
        )
    ]
