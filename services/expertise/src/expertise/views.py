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
