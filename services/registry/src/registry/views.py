from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lmp_kit.auth import Principal
from lmp_kit.domain import check_city_id
from lmp_kit.errors import InvalidArgumentError
from lmp_kit.pages import Pages
from lmp_kit.rpc import parse_id
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from registry.domain import City
from registry.domain.activities import ACTIVITY_KINDS
from registry.domain.checks import check_choice, check_month
from registry.domain.classifier import Function, Method, cell_key
from registry.domain.facts import EXTERNAL_SOURCES, VERDICTS
from registry.domain.practices import KINDS, LIFECYCLE_STEPS, PLAN_STATUSES, STATUSES
from registry.domain.problems import PRIORITIES
from registry.domain.stages import StageEvidence, stage_gaps
from registry.projections import (
    ACTIVITIES,
    CASES,
    CITY_PRACTICES,
    FACTS,
    PRACTICES,
    PROBLEMS,
    PROGRESS_REPORTS,
    Document,
    keywords,
)

LIBRARY_PAGES = Pages("registry.SearchLibrary", max_size=200)
PROBLEM_PAGES = Pages("registry.ListProblems", max_size=200)
ACTIVITY_PAGES = Pages("registry.ListActivities", max_size=200)
PRACTICE_PAGES = Pages("registry.ListPractices", max_size=200)
FACT_PAGES = Pages("registry.ListImprovementFacts", max_size=200)
CASE_PAGES = Pages("registry.ListExternalResourceCases", max_size=200)
PLAN_PAGES = Pages("registry.ListImplementationPlans", max_size=200)
REPORT_PAGES = Pages("registry.ListProgressReports", max_size=200)
# ListImprovementFacts' name for a fact the curator has not judged yet (its verdict is empty).
UNDECIDED = "undecided"
CELLS = tuple(cell_key(f, m) for f in Function for m in Method)


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
    stage: int = 0
    stage_gaps: list[tuple[int, list[str]]] = field(default_factory=list)


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
    choice("cell", query.cell, CELLS, "cell_keys")
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
    return await newest_first(db[PROBLEMS], PROBLEM_PAGES, conditions, page_size, page_token)


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


@dataclass(frozen=True)
class PracticeQuery:
    city_id: str
    kind: str = ""
    status: str = ""
    lifecycle_step: int = 0
    cell: str = ""
    text: str = ""


@dataclass(frozen=True)
class FactQuery:
    city_id: str
    month: str = ""
    verdict: str = ""


@dataclass(frozen=True)
class CaseQuery:
    city_id: str
    month: str = ""
    problem_id: str = ""
    source_kind: str = ""


@dataclass(frozen=True)
class PlanQuery:
    city_id: str
    practice_id: str = ""
    status: str = ""


@dataclass(frozen=True)
class ReportQuery:
    city_id: str
    practice_id: str = ""
    month: str = ""


async def newest_first(  # noqa: PLR0913  # the collection, its order and the page, each named
    collection: AsyncCollection[Document],
    pages: Pages,
    conditions: list[Document],
    page_size: int,
    page_token: str,
    *,
    order: str = "seq",
) -> Page:
    """A page of the documents that meet `conditions`, the highest `order` first (a
    notification id: the newest first), keyed by it so that pages never overlap."""
    size = pages.size(page_size)
    after = pages.number(page_token)
    if after is not None:
        conditions = [*conditions, {order: {"$lt": after}}]
    cursor = collection.find({"$and": conditions}).sort(order, DESCENDING).limit(size + 1)
    found = [doc async for doc in cursor]
    return Page(*pages.cut(found, size, lambda doc: int(doc[order])))


async def list_practices(
    db: AsyncDatabase[Document], query: PracticeQuery, page_size: int, page_token: str
) -> Page:
    """A city's practices and initiatives of every status, newest registered first."""
    conditions: list[Document] = [{"city_id": check_city_id(query.city_id)}]
    if query.kind:
        conditions.append({"kind": check_choice("kind", query.kind, KINDS)})
    if query.status:
        conditions.append({"status": check_choice("status", query.status, STATUSES)})
    if query.lifecycle_step:
        if not 1 <= query.lifecycle_step <= len(LIFECYCLE_STEPS):
            msg = (
                f"lifecycle_step must be 1 to {len(LIFECYCLE_STEPS)} (0 for any), "
                f"not {query.lifecycle_step}"
            )
            raise InvalidArgumentError(msg)
        conditions.append({"lifecycle_step": query.lifecycle_step})
    if query.cell:
        conditions.append({"cell_keys": check_choice("cell", query.cell, CELLS)})
    words = keywords(query.text)
    if words:
        conditions.append({"keywords": {"$all": words}})
    return await newest_first(db[CITY_PRACTICES], PRACTICE_PAGES, conditions, page_size, page_token)


async def list_improvement_facts(
    db: AsyncDatabase[Document], query: FactQuery, page_size: int, page_token: str
) -> Page:
    """A city's improvement facts, newest recorded first."""
    conditions: list[Document] = [{"city_id": check_city_id(query.city_id)}]
    if query.month:
        conditions.append({"month": check_month("month", query.month)})
    if query.verdict:
        verdict = check_choice("verdict", query.verdict, (UNDECIDED, *VERDICTS))
        conditions.append({"verdict": "" if verdict == UNDECIDED else verdict})
    return await newest_first(db[FACTS], FACT_PAGES, conditions, page_size, page_token)


async def list_external_resource_cases(
    db: AsyncDatabase[Document], query: CaseQuery, page_size: int, page_token: str
) -> Page:
    """A city's external-resource cases, newest recorded first."""
    conditions: list[Document] = [{"city_id": check_city_id(query.city_id)}]
    if query.month:
        conditions.append({"month": check_month("month", query.month)})
    if query.problem_id:
        conditions.append({"problem_id": str(parse_id("problem_id", query.problem_id))})
    if query.source_kind:
        kind = check_choice("source_kind", query.source_kind, EXTERNAL_SOURCES)
        conditions.append({"source_kind": kind})
    return await newest_first(db[CASES], CASE_PAGES, conditions, page_size, page_token)


async def list_implementation_plans(
    db: AsyncDatabase[Document], query: PlanQuery, page_size: int, page_token: str
) -> Page:
    """A city's practices with an implementation plan, the newest plan first."""
    conditions: list[Document] = [
        {"city_id": check_city_id(query.city_id)},
        {"plan_seq": {"$exists": True}},
    ]
    if query.practice_id:
        conditions.append({"_id": str(parse_id("practice_id", query.practice_id))})
    if query.status:
        conditions.append({"status": check_choice("status", query.status, PLAN_STATUSES)})
    return await newest_first(
        db[CITY_PRACTICES], PLAN_PAGES, conditions, page_size, page_token, order="plan_seq"
    )


async def list_progress_reports(
    db: AsyncDatabase[Document], query: ReportQuery, page_size: int, page_token: str
) -> Page:
    """A city's monthly progress reports, the latest month first (then by practice)."""
    size = REPORT_PAGES.size(page_size)
    after = REPORT_PAGES.key(page_token)
    conditions: list[Document] = [{"city_id": check_city_id(query.city_id)}]
    if query.practice_id:
        conditions.append({"practice_id": str(parse_id("practice_id", query.practice_id))})
    if query.month:
        conditions.append({"month": check_month("month", query.month)})
    if after is not None:
        month, _, last_id = after.partition("|")
        conditions.append(
            {"$or": [{"month": {"$lt": month}}, {"month": month, "_id": {"$lt": last_id}}]}
        )
    cursor = (
        db[PROGRESS_REPORTS]
        .find({"$and": conditions})
        .sort([("month", DESCENDING), ("_id", DESCENDING)])
        .limit(size + 1)
    )
    found = [doc async for doc in cursor]
    return Page(*REPORT_PAGES.cut(found, size, lambda doc: f"{doc['month']}|{doc['_id']}"))


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


async def city_dashboard(
    db: AsyncDatabase[Document],
    city_id: str,
    month: str,
    city: City | None = None,
    *,
    charity_standard: bool = False,
) -> Dashboard:
    """The month's activity gaps and, of a registered `city`, what each stage still lacks."""
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
    if city is None:
        return Dashboard(city_id, month, dict(statuses), packaged, gaps)
    evidence = await stage_evidence(db, city_id, charity_standard=charity_standard)
    return Dashboard(
        city_id, month, dict(statuses), packaged, gaps, city.stage, stage_gaps(city, evidence)
    )


async def stage_evidence(
    db: AsyncDatabase[Document], city_id: str, *, charity_standard: bool = False
) -> StageEvidence:
    """What a city's problems and practices reached, for the stage gates (registry.domain.stages):
    from the read models, so a gate checked right after a write waits for that write's
    consistency token (docs/decisions/0013); whether the city adopted its charity-event
    standard comes from the event store (`charity_standard`)."""
    check_city_id(city_id)
    counts: Counter[str] = Counter()
    fields = {
        "kind": 1,
        "status": 1,
        "cell_keys": 1,
        "rank": 1,
        "priority_rank": 1,
        "approved_passport_version": 1,
        "plan": 1,
        "report_months": 1,
        "act": 1,
        "resident_participants": 1,
        "involvement_procedure": 1,
    }
    async for doc in db[CITY_PRACTICES].find({"city_id": city_id}, fields):
        own = doc.get("kind") == "own"
        status = doc.get("status", "submitted")
        passport = bool(doc.get("approved_passport_version"))
        on_list = status != "submitted"
        counts.update(
            name
            for name, counted in (
                ("own_practices", own),
                ("initiatives", doc.get("kind") == "initiative"),
                ("own_for_council", own and on_list),
                ("others_for_council", not own and on_list),
                ("unclassified_for_council", on_list and not doc.get("cell_keys")),
                ("approved_for_vote", status == "approved_for_vote" or "rank" in doc),
                (
                    "own_approved_for_passport",
                    own and (status == "approved_for_passport" or passport),
                ),
                ("ranked", "rank" in doc),
                ("own_passports", own and passport),
                ("other_passports", not own and passport),
                ("prioritized", doc.get("priority_rank") is not None),
                ("planned", bool(doc.get("plan"))),
                ("reported", bool(doc.get("report_months"))),
                ("fixed_by_act", bool(doc.get("plan")) and bool(doc.get("act"))),
                (
                    "with_residents",
                    bool(doc.get("plan")) and bool(doc.get("resident_participants")),
                ),
                (
                    "with_procedure",
                    bool(doc.get("plan")) and bool(doc.get("involvement_procedure")),
                ),
            )
            if counted
        )
    problems = await db[PROBLEMS].count_documents({"city_id": city_id})
    return StageEvidence(problems=problems, charity_standard=charity_standard, **counts)
