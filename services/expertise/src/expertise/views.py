from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lmp_kit.pages import Pages
from pymongo import ASCENDING

from expertise.domain import FEDERATION, PracticeFacts
from expertise.projections import PRACTICES, REVIEWS, SESSIONS, Database

PENDING_REVIEW_PAGES = Pages("expertise.ListPendingReviews")
SESSION_PAGES = Pages("expertise.ListSessions")


@dataclass(frozen=True)
class Page:
    pages: Pages
    offset: int
    size: int

    def next_token(self, returned: int) -> str:
        return self.pages.token(self.offset + self.size) if returned == self.size else ""


def page_of(pages: Pages, page_size: int, page_token: str) -> Page:
    return Page(pages, offset=pages.offset(page_token), size=pages.size(page_size))


async def practice_facts(db: Database, practice_id: str) -> PracticeFacts | None:
    found = await db[PRACTICES].find_one({"_id": practice_id, "city_id": {"$exists": True}})
    if found is None:
        return None
    return PracticeFacts(
        practice_id=practice_id,
        city_id=found["city_id"],
        kind=found["kind"],
        title=found["title"],
        authors=tuple(found.get("authors", ())),
        participants=tuple(found.get("participants", ())),
    )


async def practice_city(db: Database, practice_id: str) -> str | None:
    """The city of a practice the registry registered, None while expertise does not know it."""
    found = await db[PRACTICES].find_one(
        {"_id": practice_id, "city_id": {"$exists": True}}, {"city_id": 1}
    )
    return None if found is None else str(found["city_id"])


async def practices_of_city(db: Database, city_id: str, practice_ids: list[str]) -> set[str]:
    """Which of the practices expertise knows as practices of `city_id`."""
    cursor = db[PRACTICES].find({"_id": {"$in": practice_ids}, "city_id": city_id}, {"_id": 1})
    return {doc["_id"] async for doc in cursor}


def shared_cities(member: list[str], caller: frozenset[str]) -> list[str]:
    """The cities of a member's queue the caller may see: both the member's and the token's
    ('*' on either side is every city of the other)."""
    if FEDERATION in caller:
        return sorted(member)
    if FEDERATION in member:
        return sorted(caller)
    return sorted(set(member) & caller)


async def pending_review_ids(
    db: Database, person_id: str, cities: list[str], page: Page
) -> list[str]:
    query: dict[str, Any] = {
        "status": "open",
        "recused": {"$ne": person_id},
        "interested": {"$ne": person_id},
        "scored_by": {"$ne": person_id},
    }
    if FEDERATION not in cities:
        query["city_id"] = {"$in": cities}
    cursor = (
        db[REVIEWS]
        .find(query, {"_id": 1})
        .sort([("opened_at", ASCENDING), ("_id", ASCENDING)])
        .skip(page.offset)
        .limit(page.size)
    )
    return [doc["_id"] async for doc in cursor]


async def sessions_of(db: Database, city_id: str, page: Page) -> list[dict[str, Any]]:
    cursor = (
        db[SESSIONS]
        .find({"city_id": city_id})
        .sort([("scheduled_on", ASCENDING), ("_id", ASCENDING)])
        .skip(page.offset)
        .limit(page.size)
    )
    return [doc async for doc in cursor]
