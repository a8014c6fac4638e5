"""Who may call what in the notifications service (lmp_kit.access; the guard enforces it).

Subscriptions and inboxes are their people's own: a person subscribes themselves, reads and
marks their own inbox; a portal (for the residents it serves) or the programme office may name
a person. Those rules, and which subscriptions a list shows, stay in the domain and the views:
they depend on who the caller is, not only on its roles (docs/decisions/0007-notifications.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmp.notifications.v1 import notifications_pb2
from lmp_kit.access import (
    ANY_ROLE,
    AccessPolicy,
    Federation,
    Filtered,
    InRequest,
    OfRecord,
    Rule,
    rule,
)
from pymongo.asynchronous.database import AsyncDatabase

from notifications.projections import DELIVERIES, SUBSCRIPTIONS

SERVICE_NAME = notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"].full_name
SUBSCRIPTION = "subscription"
DELIVERY = "delivery"
# Who looks after a city's deliveries (dead letters, redelivery).
DELIVERY_MANAGERS = ("administration", "programme_office", "portal", "working_group")
OWN_INBOX = (
    "the caller's own inbox, only entries of the cities in its token; a `portal` (for a "
    "resident it serves) or the `programme_office` may name a person"
)
ON_BEHALF = "a `portal` or the `programme_office` may name another person"

RULES: Mapping[str, Rule] = {
    "ListEventKinds": rule(
        ANY_ROLE,
        Federation(all_cities=False),
        note="the catalogue of event kinds, the same for every city",
    ),
    "CreateSubscription": rule(
        ANY_ROLE,
        InRequest("city_id"),
        note=(
            f"a person subscribes themselves, a role subscription needs the role; {ON_BEHALF} "
            "(a portal for the residents it serves) or subscribe for a role"
        ),
    ),
    "ListSubscriptions": rule(
        ANY_ROLE,
        InRequest("city_id"),
        Filtered(
            "the caller's own subscriptions (created by it or filling its inbox); "
            "`administration` and `programme_office` every subscription of the city"
        ),
    ),
    "DeleteSubscription": rule(
        ANY_ROLE,
        OfRecord(SUBSCRIPTION, "subscription_id"),
        note=(
            "the subscriber's own (its creator or recipient); `administration` and "
            "`programme_office` of its city may delete any"
        ),
    ),
    "ListInbox": rule(ANY_ROLE, Filtered(OWN_INBOX)),
    "MarkRead": rule(
        ANY_ROLE,
        Filtered(OWN_INBOX),
        note="ids not of that inbox or not of the token's cities are not marked",
    ),
    "GetUnreadCount": rule(ANY_ROLE, Filtered(OWN_INBOX)),
    "StreamNotifications": rule(ANY_ROLE, Filtered(OWN_INBOX)),
    "ListDeadLetters": rule(DELIVERY_MANAGERS, InRequest("city_id")),
    "RedeliverDeadLetter": rule(DELIVERY_MANAGERS, OfRecord(DELIVERY, "delivery_id")),
}


def policy(db: AsyncDatabase[dict[str, Any]]) -> AccessPolicy:
    """The table, finding a subscription's or delivery's city in MongoDB, where they are
    written (subscriptions and deliveries are not event-sourced)."""
    collections = {SUBSCRIPTION: db[SUBSCRIPTIONS], DELIVERY: db[DELIVERIES]}

    async def locate(kind: str, record_id: str) -> str | None:
        found = await collections[kind].find_one({"_id": record_id.strip()}, {"city_id": 1})
        return None if found is None else str(found["city_id"])

    return AccessPolicy(SERVICE_NAME, RULES, locate)
