from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lmp_kit.domain import check_city_id
from lmp_kit.errors import InvalidArgumentError
from lmp_kit.pages import Pages
from lmp_kit.rpc import parse_id
from pymongo import ASCENDING, DESCENDING

from expertise.domain import FEDERATION, PracticeFacts
from expertise.domain.reviews import PRIMARY_VERDICTS, ROUNDS, SECONDARY_VERDICTS
from expertise.domain.sessions import check_month
from expertise.projections import PRACTICES, REVIEWS, SESSIONS, Database

PENDING_REVIEW_PAGES = Pages("expertise.ListPendingReviews")
REVIEW_PAGES = Pages("expertise.ListReviews", max_size=200)
SESSION_PAGES = Pages("expertise.ListSessions", max_size=200)
REVIEW_STATUSES = ("open", "concluded")
SESSION_STATUSES = ("scheduled", "held")
VERDICTS = tuple(dict.fromkeys((*PRIMARY_VERDICTS, *SECONDARY_VERDICTS)))


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


@dataclass(frozen=True)
class ReviewQuery:
    city_id: str
    status: str = ""
    practice_id: str = ""
    round: str = ""
    verdict: str = ""


@dataclass(frozen=True)
class SessionQuery:
    city_id: str
    status: str = ""
    month: str = ""


def one_of(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        msg = f"{field} {value!r} is not one of: {', '.join(allowed)}"
        raise InvalidArgumentError(msg)
    return value


async def list_reviews(
    db: Database, query: ReviewQuery, page_size: int, page_token: str
) -> tuple[list[dict[str, Any]], str]:
    """A city's reviews, the latest opened first (by the notification id of Review.Opened)."""
    size = REVIEW_PAGES.size(page_size)
    after = REVIEW_PAGES.number(page_token)
    conditions: list[dict[str, Any]] = [
        {"city_id": check_city_id(query.city_id)},
        {"seq": {"$exists": True}},
    ]
    if query.status:
        conditions.append({"status": one_of("status", query.status, REVIEW_STATUSES)})
    if query.practice_id:
        conditions.append({"practice_id": str(parse_id("practice_id", query.practice_id))})
    if query.round:
        conditions.append({"round": one_of("round", query.round, ROUNDS)})
    if query.verdict:
        conditions.append({"verdict": one_of("verdict", query.verdict, VERDICTS)})
    if after is not None:
        conditions.append({"seq": {"$lt": after}})
    cursor = db[REVIEWS].find({"$and": conditions}).sort("seq", DESCENDING).limit(size + 1)
    found = [doc async for doc in cursor]
    return REVIEW_PAGES.cut(found, size, lambda doc: int(doc["seq"]))


async def list_sessions(
    db: Database, query: SessionQuery, page_size: int, page_token: str
) -> tuple[list[dict[str, Any]], str]:
    """A city's sessions, the latest scheduled first: one per city and day, so the day is the
    page's key."""
    size = SESSION_PAGES.size(page_size)
    before = SESSION_PAGES.key(page_token)
    conditions: list[dict[str, Any]] = [
        {"city_id": check_city_id(query.city_id)},
        {"scheduled_on": {"$exists": True}},
    ]
    if query.status:
        conditions.append({"status": one_of("status", query.status, SESSION_STATUSES)})
    if query.month:
        month = check_month("month", query.month)
        conditions.append({"scheduled_on": {"$gte": f"{month}-01", "$lte": f"{month}-31"}})
    if before is not None:
        conditions.append({"scheduled_on": {"$lt": before}})
    cursor = (
        db[SESSIONS]
        .find({"$and": conditions})
        .sort([("scheduled_on", DESCENDING), ("_id", DESCENDING)])
        .limit(size + 1)
    )
    found = [doc async for doc in cursor]
    return SESSION_PAGES.cut(found, size, lambda doc: str(doc["scheduled_on"]))
