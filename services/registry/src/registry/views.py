from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lmp_kit.auth import Principal
from lmp_kit.domain import check_city_id
from lmp_kit.errors import InvalidArgumentError
from lmp_kit.pages import Pages
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from registry.domain.activities import ACTIVITY_KINDS
from registry.domain.checks import check_month
from registry.domain.classifier import Function, Method, cell_key
from registry.domain.practices import KINDS, STATUSES
from registry.domain.problems import PRIORITIES
from registry.projections import ACTIVITIES, PRACTICES, PROBLEMS, Document, keywords

LIBRARY_PAGES = Pages("registry.SearchLibrary", max_size=200)
PROBLEM_PAGES = Pages("registry.ListProblems", max_size=200)
ACTIVITY_PAGES = Pages("registry.ListActivities", max_size=200)


@dataclass(frozen=True)
class LibraryQuery:
    text: str = ""
    function: str = ""
    method: str = ""
    cell: str = ""
    kind: str = ""
    status: str = ""
    city_id: str = ""
    problem_id: str = ""


@dataclass(frozen=True)
class Page:
    documents: list[Document]
    next_token: str


@dataclass(frozen=True)
class Matrix:
    city_id: str
    counts: dict[str, int]
    total: int


@dataclass(frozen=True)
class Dashboard:
    city_id: str
    month: str
    statuses: dict[str, int]
    packaged: int
    gaps: list[tuple[Document, list[str]]] = field(default_factory=list)


def library_filter(query: LibraryQuery, reader: Principal) -> Document:
    conditions: list[Document] = []

    def choice(name: str, value: str, allowed: tuple[str, ...], doc_field: str) -> None:
        if not value:
            return
        if value not in allowed:
            msg = f"{name} {value!r} is not one of: {', '.join(allowed)}"
            raise InvalidArgumentError(msg)
        conditions.append({doc_field: value})

    choice("function", query.function, tuple(Function), "functions")
    choice("method", query.method, tuple(Method), "methods")
    cells = tuple(cell_key(f, m) for f in Function for m in Method)
    choice("cell", query.cell, cells, "cell_keys")
    choice("kind", query.kind, KINDS, "kind")
    choice("status", query.status, STATUSES, "status")
    if query.city_id:
        conditions.append({"city_id": check_city_id(query.city_id)})
    if query.problem_id:
        conditions.append({"problem_ids": query.problem_id})
    words = keywords(query.text)
    if words:
        conditions.append({"keywords": {"$all": words}})
    if "*" not in reader.cities:
        conditions.append(
            {"$or": [{"published": True}, {"city_id": {"$in": sorted(reader.cities)}}]}
        )
    return {"$and": conditions} if conditions else {}


async def search_library(
    db: AsyncDatabase[Document],
    query: LibraryQuery,
    reader: Principal,
    page_size: int,
    page_token: str,
) -> Page:
    size = LIBRARY_PAGES.size(page_size)
    after = LIBRARY_PAGES.key(page_token)
    selector = library_filter(query, reader)
    if after is not None:
        selector = {"$and": [selector, {"_id": {"$gt": after}}]}
    cursor = db[PRACTICES].find(selector).sort("_id", ASCENDING).limit(size + 1)
    found = [doc async for doc in cursor]
    return Page(*LIBRARY_PAGES.cut(found, size, lambda doc: str(doc["_id"])))


@dataclass(frozen=True)
class ProblemQuery:
    city_id: str
    priority: str = ""
    unsolved_only: bool = False
    text: str = ""


@dataclass(frozen=True)
class ActivityQuery:
    city_id: str
    month: str = ""
    kind: str = ""


async def list_problems(
    db: AsyncDatabase[Document], query: ProblemQuery, page_size: int, page_token: str
) -> Page:
    """A city's problems, newest first (by the registration's notification id)."""
    size = PROBLEM_PAGES.size(page_size)
    after = PROBLEM_PAGES.number(page_token)
    conditions: list[Document] = [{"city_id": check_city_id(query.city_id)}]
    if query.priority:
        if query.priority not in PRIORITIES:
            msg = f"priority {query.priority!r} is not one of: {', '.join(PRIORITIES)}"
            raise InvalidArgumentError(msg)
        conditions.append({"priority": query.priority})
    if query.unsolved_only:
        conditions.append({"solved": False})
    words = keywords(query.text)
    if words:
        conditions.append({"keywords": {"$all": words}})
    if after is not None:
        conditions.append({"seq": {"$lt": after}})
    cursor = db[PROBLEMS].find({"$and": conditions}).sort("seq", DESCENDING).limit(size + 1)
    found = [doc async for doc in cursor]
    return Page(*PROBLEM_PAGES.cut(found, size, lambda doc: int(doc["seq"])))


async def list_activities(
    db: AsyncDatabase[Document], query: ActivityQuery, page_size: int, page_token: str
) -> Page:
    """A city's activities, the latest held first (then by id, so that pages never overlap)."""
    size = ACTIVITY_PAGES.size(page_size)
    after = ACTIVITY_PAGES.key(page_token)
    conditions: list[Document] = [{"city_id": check_city_id(query.city_id)}]
    if query.month:
        conditions.append({"month": check_month("month", query.month)})
    if query.kind:
        if query.kind not in ACTIVITY_KINDS:
            msg = f"kind {query.kind!r} is not one of: {', '.join(ACTIVITY_KINDS)}"
            raise InvalidArgumentError(msg)
        conditions.append({"kind": query.kind})
    if after is not None:
        held_on, _, last_id = after.partition("|")
        conditions.append(
            {
                "$or": [
                    {"held_on": {"$lt": held_on}},
                    {"held_on": held_on, "_id": {"$lt": last_id}},
                ]
            }
        )
    cursor = (
        db[ACTIVITIES]
        .find({"$and": conditions})
        .sort([("held_on", DESCENDING), ("_id", DESCENDING)])
        .limit(size + 1)
    )
    found = [doc async for doc in cursor]
    return Page(*ACTIVITY_PAGES.cut(found, size, lambda doc: f"{doc['held_on']}|{doc['_id']}"))


async def classifier_matrix(db: AsyncDatabase[Document], city_id: str) -> Matrix:
    """A city's matrix counts all its practices; the federation's (no `city_id`) counts the
    federation library, the published practices of every city, as every city may see them."""
    selector = {"city_id": check_city_id(city_id)} if city_id else {"published": True}
    counts: Counter[str] = Counter()
    total = 0
    async for doc in db[PRACTICES].find(selector, {"cell_keys": 1}):
        total += 1
        counts.update(doc.get("cell_keys", []))
    return Matrix(city_id, dict(counts), total)


async def city_dashboard(db: AsyncDatabase[Document], city_id: str, month: str) -> Dashboard:
    check_city_id(city_id)
    check_month("month", month)
    statuses: Counter[str] = Counter()
    packaged = 0
    async for doc in db[PRACTICES].find(
        {"city_id": city_id}, {"status": 1, "kind": 1, "published": 1}
    ):
        statuses[doc.get("status", "submitted")] += 1
        packaged += bool(doc.get("published")) and doc.get("kind") == "own"
    gaps: list[tuple[Document, list[str]]] = []
    cursor = db[ACTIVITIES].find({"city_id": city_id, "month": month}).sort("held_on", ASCENDING)
    async for activity in cursor:
        missing = [
            name
            for name, present in (
                ("announcement", "announcement_at" in activity),
                ("press_release", "press_release_at" in activity),
                ("report", activity.get("report_filed", False)),
            )
            if not present
        ]
        if missing:
            gaps.append((activity, missing))
    return Dashboard(city_id, month, dict(statuses), packaged, gaps)
