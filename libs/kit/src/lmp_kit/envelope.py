"""The event envelope of DESIGN.md: how an event travels on Kafka and over ReadEvents."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.persistence import Mapper, Notification
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.common.v1 import events_pb2
from pydantic import BaseModel, ConfigDict

from lmp_kit.domain import event_type_of

ENVELOPE_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "city_id",
        "traceparent",
        "class_version",
    }
)
EVENT_ID_NAMESPACE = UUID("6f0e4f55-9a53-4a0b-8f4c-3c1d2f7f4e11")


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: UUID
    event_type: str
    schema_version: int
    service: str
    city_id: str
    aggregate_id: UUID
    aggregate_version: int
    notification_id: int
    occurred_at: datetime
    traceparent: str
    payload: dict[str, Any]

    def to_proto(self) -> events_pb2.EventEnvelope:
        occurred_at = Timestamp()
        occurred_at.FromDatetime(self.occurred_at)
        return events_pb2.EventEnvelope(
            event_id=str(self.event_id),
            event_type=self.event_type,
            schema_version=self.schema_version,
            service=self.service,
            city_id=self.city_id,
            aggregate_id=str(self.aggregate_id),
            aggregate_version=self.aggregate_version,
            notification_id=self.notification_id,
            occurred_at=occurred_at,
            traceparent=self.traceparent,
            payload_json=json.dumps(self.payload, sort_keys=True, ensure_ascii=False),
        )

    @classmethod
    def from_proto(cls, message: events_pb2.EventEnvelope) -> Envelope:
        return cls(
            event_id=UUID(message.event_id),
            event_type=message.event_type,
            schema_version=message.schema_version,
            service=message.service,
            city_id=message.city_id,
            aggregate_id=UUID(message.aggregate_id),
            aggregate_version=message.aggregate_version,
            notification_id=message.notification_id,
            occurred_at=message.occurred_at.ToDatetime(tzinfo=UTC),
            traceparent=message.traceparent,
            payload=json.loads(message.payload_json or "{}"),
        )

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


def envelope_of(service: str, mapper: Mapper[UUID], notification: Notification) -> Envelope:
    event = mapper.to_domain_event(notification)
    state = vars(event)
    return Envelope(
        event_id=uuid5(
            EVENT_ID_NAMESPACE, f"{notification.originator_id}:{notification.originator_version}"
        ),
        event_type=event_type_of(notification.topic),
        schema_version=getattr(type(event), "class_version", 1),
        service=service,
        city_id=state.get("city_id", ""),
        aggregate_id=UUID(str(notification.originator_id)),
        aggregate_version=notification.originator_version,
        notification_id=notification.id,
        occurred_at=state["timestamp"],
        traceparent=state.get("traceparent", ""),
        payload={k: _plain(v) for k, v in state.items() if k not in ENVELOPE_FIELDS},
    )


def _plain(value: object) -> object:
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value
