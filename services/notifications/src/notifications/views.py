from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lmp_kit.auth import ALL_CITIES, Principal
from lmp_kit.errors import PermissionDeniedError
from lmp_kit.pages import Pages
from pymongo.asynchronous.database import AsyncDatabase

from notifications.domain.subscriptions import ACTING_FOR_OTHERS, MODERATORS, Subscription
from notifications.projections import DELIVERIES, INBOX, SUBSCRIPTIONS

Document = dict[str, Any]
Db = AsyncDatabase[Document]
SUBSCRIPTION_PAGES = Pages("notifications.ListSubscriptions")
INBOX_PAGES = Pages("notifications.ListInbox")
DEAD_LETTER_PAGES = Pages("notifications.ListDeadLetters")


@dataclass(frozen=True)
class Page:
    items: list[Document]
    next_page_token: str


def recipient_of(caller: Principal, person_id: str) -> str:
    """Whose inbox: the caller's own, or a person a portal or the programme office serves."""
    person_id = person_id.strip()
    if not person_id or person_id == caller.subject:
        return caller.subject
    if not caller.roles.intersection(ACTING_FOR_OTHERS):
        msg = f"{caller.subject} may read only their own notifications, not {person_id!r}'s"
        raise PermissionDeniedError(msg)
    return person_id


def city_filter(caller: Principal) -> dict[str, Any]:
    return {} if ALL_CITIES in caller.cities else {"city_id": {"$in": sorted(caller.cities)}}


async def subscriptions(
    db: Db, caller: Principal, city_id: str, size: int, token: str
) -> tuple[list[Subscription], str]:
    query: dict[str, Any] = {"city_id": city_id}
    if not caller.roles.intersection(MODERATORS):
        query["$or"] = [{"created_by": caller.subject}, {"recipient": caller.subject}]
    after = SUBSCRIPTION_PAGES.key(token)
    if after is not None:
        query["_id"] = {"$gt": after}
    found = [
        Subscription.of(doc)
        async for doc in db[SUBSCRIPTIONS].find(query).sort("_id", 1).limit(size + 1)
    ]
    return SUBSCRIPTION_PAGES.cut(found, size, lambda s: s.subscription_id)


async def inbox(  # noqa: PLR0913  # a page of one inbox, each filter named
    db: Db, caller: Principal, recipient: str, *, unread_only: bool, size: int, token: str
) -> Page:
    query: dict[str, Any] = {"recipient": recipient, **city_filter(caller)}
    if unread_only:
        query["read"] = False
    before = INBOX_PAGES.number(token)
    if before is not None:
        query["position"] = {"$lt": before}
    found = [doc async for doc in db[INBOX].find(query).sort("position", -1).limit(size + 1)]
    return Page(*INBOX_PAGES.cut(found, size, lambda doc: int(doc["position"])))


async def unread_count(db: Db, caller: Principal, recipient: str) -> int:
    return await db[INBOX].count_documents(
        {"recipient": recipient, "read": False, **city_filter(caller)}
    )


async def feed_after(
    db: Db, caller: Principal, recipient: str, after: int, limit: int
) -> list[Document]:
    query = {"recipient": recipient, "position": {"$gt": after}, **city_filter(caller)}
    return [doc async for doc in db[INBOX].find(query).sort("position", 1).limit(limit)]


async def dead_letters(db: Db, city_id: str, size: int, token: str) -> Page:
    query: dict[str, Any] = {"city_id": city_id, "status": "dead"}
    after = DEAD_LETTER_PAGES.key(token)
    if after is not None:
        query["_id"] = {"$gt": after}
    found = [doc async for doc in db[DELIVERIES].find(query).sort("_id", 1).limit(size + 1)]
    return Page(*DEAD_LETTER_PAGES.cut(found, size, lambda doc: str(doc["_id"])))
