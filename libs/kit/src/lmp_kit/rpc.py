"""What every servicer needs from gRPC: its context type, times as protobuf timestamps, ids."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from lmp_kit.errors import InvalidArgumentError

Context = grpc.aio.ServicerContext[object, object]
SHOWN_CHARACTERS = 80


def timestamp(moment: datetime) -> Timestamp:
    message = Timestamp()
    message.FromDatetime(moment)
    return message


def parse_id(name: str, value: str) -> UUID:
    """A record id from a request: a UUID, or INVALID_ARGUMENT naming the field."""
    try:
        return UUID(value)
    except ValueError:
        msg = f"{name} must be a UUID, not {value[:SHOWN_CHARACTERS]!r}"
        raise InvalidArgumentError(msg) from None
