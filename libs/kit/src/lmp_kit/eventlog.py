"""The EventLog service every service serves: its notification log, the source of truth."""

from __future__ import annotations

import asyncio
from uuid import UUID

import grpc
from eventsourcing.application import Application
from lmp.common.v1 import events_pb2, events_pb2_grpc

from lmp_kit.auth import READ_EVENTS_SCOPE, principal
from lmp_kit.domain import event_type_of
from lmp_kit.envelope import Envelope, envelope_of
from lmp_kit.errors import InvalidArgumentError
from lmp_kit.grpc_server import Registration

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000


def read_envelopes(
    service: str,
    app: Application[UUID],
    after: int,
    limit: int,
    event_types: frozenset[str] = frozenset(),
) -> tuple[list[Envelope], int, int]:
    """The events after `after` among the next `limit` notifications (only `event_types`, when
    given), the last notification id examined, and the log's head."""
    notifications = app.recorder.select_notifications(
        start=after, limit=limit, inclusive_of_start=False
    )
    head = app.recorder.max_notification_id() or 0
    wanted = [n for n in notifications if not event_types or event_type_of(n.topic) in event_types]
    examined = notifications[-1].id if notifications else after
    return [envelope_of(service, app.mapper, n) for n in wanted], examined, head


class EventLogServicer(events_pb2_grpc.EventLogServicer):
    def __init__(self, service: str, app: Application[UUID]) -> None:
        self.service = service
        self.app = app

    async def ReadEvents(  # noqa: N802  # gRPC method name
        self,
        request: events_pb2.ReadEventsRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> events_pb2.ReadEventsResponse:
        del context
        principal().require_scope(READ_EVENTS_SCOPE)
        if request.after < 0:
            msg = f"after must be 0 or a notification id, not {request.after}"
            raise InvalidArgumentError(msg)
        if request.limit < 0:
            msg = f"limit must be between 0 (server default) and {MAX_LIMIT}, not {request.limit}"
            raise InvalidArgumentError(msg)
        limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
        envelopes, examined, head = await asyncio.to_thread(
            read_envelopes,
            self.service,
            self.app,
            request.after,
            limit,
            frozenset(request.event_types),
        )
        return events_pb2.ReadEventsResponse(
            events=[e.to_proto() for e in envelopes], next_after=examined, max_notification_id=head
        )


def event_log_registration(service: str, app: Application[UUID]) -> Registration:
    return Registration(
        add=events_pb2_grpc.add_EventLogServicer_to_server,
        servicer=EventLogServicer(service, app),
        service_name=events_pb2.DESCRIPTOR.services_by_name["EventLog"].full_name,
    )
