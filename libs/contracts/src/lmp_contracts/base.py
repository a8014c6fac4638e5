"""What every event contract is: a frozen pydantic model of one event type's payload.

The payload travels in `lmp_kit.envelope.Envelope` (ids as strings, times as ISO-8601,
decimals as strings). A contract names its event type and its current schema version; its
upcasters turn the payload of an older version into the next one, so an envelope of any
version parses into the current model (docs/decisions/0012-event-contracts.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, PlainSerializer

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]

# A moment travels as `datetime.isoformat()` gives it ("+00:00", not pydantic's "Z"), so what
# the contract publishes is exactly what the event recorded.
Instant = Annotated[
    datetime, PlainSerializer(lambda moment: moment.isoformat(), return_type=str, when_used="json")
]


class EventContract(BaseModel):
    """The payload of one event type at its current schema version.

    `schema_version` is the `class_version` of the eventsourcing event that records it (the
    envelope's `schema_version`); `upcasters[n]` turns a payload of version n into n + 1.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    upcasters: ClassVar[Mapping[int, Upcaster]] = MappingProxyType({})


class Part(BaseModel):
    """A nested part of a payload (an item of a list of records)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


def upcast(contract: type[EventContract], payload: Payload, version: int) -> Payload:
    """The payload of `version` as the contract's current version has it."""
    if version > contract.schema_version:
        msg = (
            f"{contract.event_type} arrived in schema version {version}, newer than its "
            f"contract's {contract.schema_version}: update lmp-contracts"
        )
        raise ValueError(msg)
    for step in range(max(version, 1), contract.schema_version):
        step_up = contract.upcasters.get(step)
        if step_up is None:
            msg = f"{contract.event_type} has no upcaster from schema version {step}"
            raise ValueError(msg)
        payload = step_up(payload)
    return payload
