"""Safe retries of commands that create something (docs/decisions/0011-access-policy.md, "Safe
retries").

A client may send an optional `request_id` with every creating command: a key of its choice
(a UUID is best), unique within the city. The first request under a key records, in the same
transaction as what it creates, a `RequestKey` aggregate holding the request's fingerprint and
the id of the result. The same request again returns the original result; a different request
under the same key is ALREADY_EXISTS naming what the key created. Because the key and the
result are saved together, a retry after a timeout can never create a second record, and a
key never points to nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import event
from eventsourcing.persistence import IntegrityError
from google.protobuf.message import Message

from lmp_kit.domain import CityAggregate
from lmp_kit.errors import AlreadyExistsError, InvalidArgumentError

REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
REQUEST_ID_FIELD = "request_id"
T = TypeVar("T")


@dataclass(frozen=True)
class Retry:
    """A creating command's request key: the key, the request it came with, and its city."""

    city_id: str
    request_id: str
    request: Message

    @classmethod
    def of(cls, city_id: str, request: Message) -> Retry:
        return cls(city_id, check_request_id(str(getattr(request, REQUEST_ID_FIELD))), request)


def check_request_id(request_id: str) -> str:
    """An empty key (no retry protection asked) or 1-100 letters, digits, '.', '_', ':', '-'."""
    if request_id and not REQUEST_ID.fullmatch(request_id):
        msg = (
            f"request_id {request_id[:40]!r} is not a request key: use 1-100 latin letters, "
            "digits, '.', '_', ':' or '-' (a UUID is best), the same for every retry"
        )
        raise InvalidArgumentError(msg)
    return request_id


def fingerprint(request: Message) -> str:
    """What makes two requests the same request: every field but the key itself."""
    copy = type(request)()
    copy.CopyFrom(request)
    if REQUEST_ID_FIELD in copy.DESCRIPTOR.fields_by_name:
        copy.ClearField(REQUEST_ID_FIELD)
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


class RequestKey(CityAggregate):
    """One client request key of one city: the request it was first used for, and its
    result."""

    service: str
    request_id: str
    kind: str
    fingerprint: str
    result_id: str

    @staticmethod
    def create_id(service: str, city_id: str, request_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"lmp:{service}:request:{city_id}:{request_id}")

    @event("Claimed")
    def __init__(  # noqa: PLR0913  # the key's facts, each named
        self,
        *,
        service: str,
        city_id: str,
        request_id: str,
        kind: str,
        fingerprint: str,
        result_id: str,
    ) -> None:
        self.service = service
        self.city_id = city_id
        self.request_id = request_id
        self.kind = kind
        self.fingerprint = fingerprint
        self.result_id = result_id


# The request keys a creating use case saves with its record: `claim(record id)`.
Claim = Callable[[UUID], list[RequestKey]]


class RequestKeys:
    """A service's request keys, in its own event store."""

    def __init__(self, service: str, app: Application[UUID]) -> None:
        self.service = service
        self.app = app

    def earlier_result(self, city_id: str, request_id: str, request: Message) -> str | None:
        """The id of what this key created before, when the request is the same; None for a
        new key (or none given). Another request under the key is ALREADY_EXISTS."""
        if not request_id:
            return None
        try:
            key: Any = self.app.repository.get(
                RequestKey.create_id(self.service, city_id, request_id)
            )
        except AggregateNotFoundError:
            return None
        if key.fingerprint != fingerprint(request):
            msg = (
                f"request_id {request_id!r} was used for another request, which created "
                f"{key.kind} {key.result_id}; choose a new key for a new request"
            )
            raise AlreadyExistsError(msg)
        return str(key.result_id)

    def claim(
        self, city_id: str, request_id: str, request: Message, kind: str, result_id: UUID | str
    ) -> list[RequestKey]:
        """The key to save with the result (nothing when no key was given); a race with
        another request under the same key fails that save with IntegrityError, and the retry
        finds the key."""
        if not request_id:
            return []
        return [
            RequestKey(
                service=self.service,
                city_id=city_id,
                request_id=request_id,
                kind=kind,
                fingerprint=fingerprint(request),
                result_id=str(result_id),
            )
        ]

    def create_once(
        self,
        retry: Retry | None,
        kind: str,
        load: Callable[[UUID], T],
        create: Callable[[Claim], T],
    ) -> T:
        """Run `create` (which saves the record with the keys `claim(record id)` gives it) once
        per key: a request under a key already used returns what it created (via `load`). A
        second request under the key that lost the race to save returns the winner's result,
        or is ALREADY_EXISTS if it is another request."""
        if retry is None or not retry.request_id:
            return create(lambda _result_id: [])
        earlier = self.earlier_result(retry.city_id, retry.request_id, retry.request)
        if earlier is not None:
            return load(UUID(earlier))

        def claim(result_id: UUID) -> list[RequestKey]:
            return self.claim(retry.city_id, retry.request_id, retry.request, kind, result_id)

        try:
            return create(claim)
        except (IntegrityError, AlreadyExistsError):
            earlier = self.earlier_result(retry.city_id, retry.request_id, retry.request)
            if earlier is None:
                raise
            return load(UUID(earlier))
