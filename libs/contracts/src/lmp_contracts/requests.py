"""The event every event-sourced service publishes for its request keys (safe retries,
lmp_kit.idempotency)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from lmp_contracts.base import EventContract


class RequestKeyClaimed(EventContract):
    event_type: ClassVar[str] = "RequestKey.Claimed"
    service: str = Field(description="the service whose creating command claimed the key")
    request_id: str = Field(description="the client's request key")
    kind: str = Field(description="what the command creates")
    fingerprint: str = Field(description="hash of the request without its key")
    result_id: str = Field(description="id of what the request created")


CONTRACTS: tuple[type[EventContract], ...] = (RequestKeyClaimed,)
