"""The EventLog service every service serves: its notification log, the source of truth."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

import grpc
from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from lmp.common.v1 import events_pb2, events_pb2_grpc

from lmp_kit.access import ANY_ROLE, AccessPolicy, Filtered, rule
from lmp_kit.auth import ALL_CITIES, READ_ALL_EVENTS_SCOPE, READ_EVENTS_SCOPE, Principal, principal
from lmp_kit.envelope import Envelope, envelope_of
from lmp_kit.errors import InvalidArgumentError, PermissionDeniedError
from lmp_kit.grpc_server import Registration

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
# How many notifications one call examines for a caller of some cities before it answers
# with what it found and where to go on (a city's events may be sparse in a long log).
MAX_EXAMINED = 10 * MAX_LIMIT
# Roles that read their own cities' events with the scope events:read.
CITY_EVENT_READERS = frozenset({"portal", "programme_office", "curator"})
# Payload fields only a service token sees (docs/decisions/0010-event-log-access.md): with the
# choices beside them, a receipt or a nonce would let a voter prove a choice to a third party.
SERVICE_ONLY_FIELDS: Mapping[str, frozenset[str]] = {
    "Ballot.Cast": frozenset({"nonce", "receipt"}),
    "Ballot.Recast": frozenset({"nonce", "receipt"}),
}


@dataclass(frozen=True)
class LogAccess:
    """What of the log a caller reads: every city's events (`cities` None) or these cities',
    and whether with the service-only fields."""

    cities: frozenset[str] | None
    service_fields: bool

    def shows(self, envelope: Envelope) -> bool:
        return self.cities is None or envelope.city_id in self.cities

    def served(self, envelope: Envelope) -> Envelope:
        hidden = () if self.service_fields else SERVICE_ONLY_FIELDS.get(envelope.event_type, ())
        if not hidden or not hidden & envelope.payload.keys():
            return envelope
        payload = {k: v for k, v in envelope.payload.items() if k not in hidden}
        return envelope.model_copy(update={"payload": payload})


SERVICE_ACCESS = LogAccess(cities=None, service_fields=True)


def log_access(caller: Principal) -> LogAccess:
    """The whole log for a service token or an operator's events:read:all with cities '*';
    its cities' events for a portal, the programme office or a curator with events:read."""
    everywhere = ALL_CITIES in caller.cities
    if everywhere and "service" in caller.roles and READ_EVENTS_SCOPE in caller.scopes:
        return SERVICE_ACCESS
    if everywhere and READ_ALL_EVENTS_SCOPE in caller.scopes:
        return LogAccess(cities=None, service_fields=False)
    caller.require_scope(READ_EVENTS_SCOPE)
    caller.require_role(*CITY_EVENT_READERS)
    if everywhere:
        msg = (
            f"{caller.subject} asks for every city's events: that needs the scope "
            f"{READ_ALL_EVENTS_SCOPE!r} with cities '*' (or name the cities in the token)"
        )
        raise PermissionDeniedError(msg)
    if not caller.cities:
        msg = f"{caller.subject} names no city; a token with events:read reads its cities' events"
        raise PermissionDeniedError(msg)
    return LogAccess(cities=caller.cities, service_fields=False)


def read_envelopes(  # noqa: PLR0913  # the position, the page and the two filters, each named
    service: str,
    app: Application[UUID],
    after: int,
    limit: int,
    event_types: frozenset[str] = frozenset(),
    *,
    access: LogAccess = SERVICE_ACCESS,
) -> tuple[list[Envelope], int, int]:
    """The events after `after` (only `event_types`, when given: filtered by the database, up
    to the log's head in one pass; only those `access` shows), at most `limit`, as `access`
    serves them; the last notification id examined (a caller continues after it without
    seeing what it may not); and the log's head."""
    head = app.recorder.max_notification_id() or 0
    topics = topics_of(event_types) if event_types else []
    if event_types and not topics:  # no event class of these types: nothing can be one
        return [], max(after, head), head
    found: list[Envelope] = []
    examined = after
    budget = MAX_EXAMINED
    while True:
        notifications = app.recorder.select_notifications(
            start=examined,
            limit=limit,
            stop=head if topics else None,
            topics=topics,
            inclusive_of_start=False,
        )
        for notification in notifications:
            envelope = envelope_of(service, app.mapper, notification)
            examined = notification.id
            if access.shows(envelope):
                found.append(access.served(envelope))
                if len(found) == limit:
                    return found, examined, head
        budget -= len(notifications)
        if len(notifications) < limit:
            if topics:
                examined = max(examined, head)
            return found, examined, head
        if budget <= 0:
            return found, examined, head


@functools.lru_cache(maxsize=64)
def topics_of(event_types: frozenset[str]) -> list[str]:
    """The topics (`voting.domain.polls:Poll.Closed`) of the loaded domain event classes whose
    event type (`Poll.Closed`) is one of these. A topic is the class's module and qualified
    name, written here rather than through eventsourcing's `get_topic`, which refuses a second
    class of one topic: the library derives one from an aggregate's explicit created-event
    class (e.g. `Activity.Registered`), both named alike."""
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
            found.add(f"{cls.__module__}:{cls.__qualname__}")
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
        access = log_access(principal())
        if request.after < 0:
            msg = f"after must be 0 or a notification id, not {request.after}"
            raise InvalidArgumentError(msg)
        if request.limit < 0:
            msg = f"limit must be between 0 (server default) and {MAX_LIMIT}, not {request.limit}"
            raise InvalidArgumentError(msg)
        limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
        return await asyncio.to_thread(
            self._read, request.after, limit, frozenset(request.event_types), access
        )

    def _read(
        self, after: int, limit: int, event_types: frozenset[str], access: LogAccess
    ) -> events_pb2.ReadEventsResponse:
        """In a worker thread, the response too: a page of 500 events is milliseconds of
        work the event loop (and every call in flight) should not wait for."""
        envelopes, examined, head = read_envelopes(
            self.service, self.app, after, limit, event_types, access=access
        )
        return events_pb2.ReadEventsResponse(
            events=[e.to_proto() for e in envelopes], next_after=examined, max_notification_id=head
        )


EVENT_LOG_SERVICE = events_pb2.DESCRIPTOR.services_by_name["EventLog"].full_name
EVENT_LOG_RULES = {
    "ReadEvents": rule(
        ANY_ROLE,
        Filtered(
            "a service token, or `events:read:all` with all cities, reads the whole log; "
            "`portal`, `programme_office` and `curator` with `events:read` their cities' events"
        ),
        note="ballot receipts and nonces only for service tokens",
    )
}


def event_log_registration(service: str, app: Application[UUID]) -> Registration:
    return Registration(
        add=events_pb2_grpc.add_EventLogServicer_to_server,
        servicer=EventLogServicer(service, app),
        service_name=EVENT_LOG_SERVICE,
        access=AccessPolicy(EVENT_LOG_SERVICE, EVENT_LOG_RULES),
    )
