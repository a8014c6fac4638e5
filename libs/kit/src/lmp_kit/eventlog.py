"""The EventLog service every service serves: its notification log, the source of truth."""

from __future__ import annotations

import asyncio
import functools
from uuid import UUID

import grpc
from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic
from lmp.common.v1 import events_pb2, events_pb2_grpc

from lmp_kit.auth import READ_EVENTS_SCOPE, principal
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
    """The events after `after` (only `event_types`, when given: filtered by the database, up
    to the log's head in one pass), at most `limit`; the last notification id examined; and
    the log's head."""
    head = app.recorder.max_notification_id() or 0
    if not event_types:
        notifications = app.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        examined = notifications[-1].id if notifications else after
        return [envelope_of(service, app.mapper, n) for n in notifications], examined, head
    topics = topics_of(event_types)
    if not topics:  # no event class of these types: nothing in the log can be one
        return [], max(after, head), head
    notifications = app.recorder.select_notifications(
        start=after, limit=limit, stop=head, topics=topics, inclusive_of_start=False
    )
    examined = notifications[-1].id if len(notifications) == limit else max(after, head)
    return [envelope_of(service, app.mapper, n) for n in notifications], examined, head


@functools.lru_cache(maxsize=64)
def topics_of(event_types: frozenset[str]) -> list[str]:
    """The topics (`voting.domain.polls:Poll.Closed`) of the loaded domain event classes whose
    event type (`Poll.Closed`) is one of these."""
    found: set[str] = set()
    pending: list[type] = [DomainEvent]
    seen: set[type] = set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        if cls.__qualname__ in event_types:
            found.add(get_topic(cls))
    return sorted(found)


async def read_events(
    stub: events_pb2_grpc.EventLogAsyncStub,
    after: int,
    *,
    limit: int,
    event_types: frozenset[str],
    token: str,
) -> events_pb2.ReadEventsResponse:
    """A page of an upstream service's event log (the client side of ReadEvents, for catch-up
    and reactions), with a service token."""
    return await stub.ReadEvents(
        events_pb2.ReadEventsRequest(after=after, limit=limit, event_types=sorted(event_types)),
        metadata=(("authorization", f"Bearer {token}"),),
        timeout=30,
    )


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
        return await asyncio.to_thread(
            self._read, request.after, limit, frozenset(request.event_types)
        )

    def _read(
        self, after: int, limit: int, event_types: frozenset[str]
    ) -> events_pb2.ReadEventsResponse:
        """In a worker thread, the response too: a page of 500 events is milliseconds of
        work the event loop (and every call in flight) should not wait for."""
        envelopes, examined, head = read_envelopes(
            self.service, self.app, after, limit, event_types
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
