"""The event envelope: how an event travels on Kafka and over ReadEvents (docs/events.md).

Its payload is built from the producer's contract (lmp_contracts) and read back through it:
`envelope.parse(registry.PracticeRegistered)` upcasts an older schema version and returns the
typed model (docs/decisions/0012-event-contracts.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid5

from eventsourcing.persistence import Mapper, Notification
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.common.v1 import events_pb2
from lmp_contracts import PUBLISHED, contract_of
from lmp_contracts.base import EventContract, upcast
from pydantic import BaseModel, ConfigDict, ValidationError

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

Contract = TypeVar("Contract", bound=EventContract)


class ContractError(ValueError):
    """A payload that its event type's contract does not describe."""


def _mismatch(event_type: str, version: int, error: ValidationError) -> ContractError:
    fields = "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or '(payload)'}: {e['msg']}"
        for e in error.errors()
    )
    return ContractError(f"{event_type} (schema version {version}) breaks its contract: {fields}")


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

    def parse(self, contract: type[Contract]) -> Contract:
        """The payload as the contract's current version, upcast from the envelope's own."""
        if self.event_type != contract.event_type:
            msg = f"a {self.event_type} envelope is not parsed as {contract.event_type}"
            raise ContractError(msg)
        try:
            payload = upcast(contract, self.payload, self.schema_version)
        except ValueError as error:
            raise ContractError(str(error)) from None
        try:
            return contract.model_validate(payload)
        except ValidationError as error:
            raise _mismatch(self.event_type, self.schema_version, error) from None

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
    event_type = event_type_of(notification.topic)
    version = getattr(type(event), "class_version", 1)
    return Envelope(
        event_id=uuid5(
            EVENT_ID_NAMESPACE, f"{notification.originator_id}:{notification.originator_version}"
        ),
        event_type=event_type,
        schema_version=version,
        service=service,
        city_id=state.get("city_id", ""),
        aggregate_id=UUID(str(notification.originator_id)),
        aggregate_version=notification.originator_version,
        notification_id=notification.id,
        occurred_at=state["timestamp"],
        traceparent=state.get("traceparent", ""),
        payload=published_payload(
            service,
            event_type,
            version,
            {k: _plain(v) for k, v in state.items() if k not in ENVELOPE_FIELDS},
        ),
    )


def published_payload(
    service: str, event_type: str, version: int, recorded: dict[str, Any]
) -> dict[str, Any]:
    """The payload as the producer's contract publishes it: exactly what the event recorded,
    or a ContractError naming what the contract does not describe (a field too many, one
    missing, one of another type): an LMP service's event without a contract is never
    published."""
    if service not in PUBLISHED:  # a service of the kit's own tests, not of LMP
        return recorded
    try:
        contract = contract_of(service, event_type)
    except KeyError as error:
        raise ContractError(error.args[0]) from None
    if version != contract.schema_version:
        msg = (
            f"{event_type} is recorded in schema version {version}, its contract is version "
            f"{contract.schema_version}"
        )
        raise ContractError(msg)
    try:
        payload = contract.model_validate(recorded).model_dump(mode="json")
    except ValidationError as error:
        raise _mismatch(event_type, version, error) from None
    if payload != recorded:
        differ = sorted(k for k in {*payload, *recorded} if payload.get(k) != recorded.get(k))
        msg = f"{event_type} records what its contract does not publish as such: {differ}"
        raise ContractError(msg)
    return payload


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
