"""Typed contracts of the events LMP services publish, one module per producing service.

Other services import these as data only: a consumer parses an envelope's payload with
`Envelope.parse(<contract>)` (lmp_kit.envelope), which upcasts an older schema version first.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from lmp_contracts import expertise, kpi, registry, requests, voting
from lmp_contracts.base import EventContract

# The publishing service -> its contracts by event type. Every event-sourced service also
# publishes the request keys of its creating commands (lmp_contracts.requests).
PUBLISHED: Mapping[str, Mapping[str, type[EventContract]]] = MappingProxyType(
    {
        module.__name__.rpartition(".")[2]: MappingProxyType(
            {c.event_type: c for c in (*module.CONTRACTS, *requests.CONTRACTS)}
        )
        for module in (registry, expertise, voting, kpi)
    }
)


def contract_of(service: str, event_type: str) -> type[EventContract]:
    """The contract of an event type the service publishes; KeyError when it has none."""
    try:
        return PUBLISHED[service][event_type]
    except KeyError:
        msg = f"{service} publishes {event_type} without a contract in lmp_contracts.{service}"
        raise KeyError(msg) from None
