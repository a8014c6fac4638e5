from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from lmp_kit.auth import Principal
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from kpi.domain import scoring
from kpi.domain.checks import check_month
from kpi.domain.periods import CLOSED, month_end, status_of
from kpi.domain.policy import ScoringPolicy, policy_for
from kpi.domain.scoring import Closure, Evaluation, Fact, Scorecard, score_month
from kpi.projections import (
    PERIODS,
    POLICIES,
    PROBLEM_STATS,
    REGISTRY_FACTS_COLLECTION,
    VOTING_FACTS_COLLECTION,
)

__all__ = ["check_month"]

Document = dict[str, Any]
Database = AsyncDatabase[Document]
MAX_HISTORY_MONTHS = 120
# What a month's scorecard is read from (month_card): a change in one may change the card.
SCORECARD_SOURCES = (PERIODS, REGISTRY_FACTS_COLLECTION, VOTING_FACTS_COLLECTION, POLICIES)


@dataclass(frozen=True)
class ProblemStats:
    city_id: str
    month: str
    problems_registered: int
    updated_at: datetime | None


async def problem_stats(db: Database, city_id: str, month: str) -> ProblemStats:
    found = await db[PROBLEM_STATS].find_one({"_id": f"{city_id}:{check_month(month)}"})
    if found is None:
        return ProblemStats(city_id, month, 0, None)
    return _stats(found)


async def problem_stats_by_month(db: Database, city_id: str) -> list[ProblemStats]:
    cursor = db[PROBLEM_STATS].find({"city_id": city_id}).sort("month", ASCENDING)
    return [_stats(doc) async for doc in cursor]


def _stats(doc: Document) -> ProblemStats:
    return ProblemStats(
        city_id=doc["city_id"],
        month=doc["month"],
        problems_registered=int(doc["problems_registered"]),
        updated_at=doc.get("updated_at"),
    )


@dataclass(frozen=True)
class MonthCard:
    scorecard: Scorecard
    status: str
    conclusion: str = ""
    curator: str = ""
    signed_by: str = ""
    amendments: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    awaiting_since: datetime | None = None


async def policies(db: Database) -> list[ScoringPolicy]:
    cursor = db[POLICIES].find({}).sort("introduced_at", ASCENDING)
    return [ScoringPolicy.from_payload(doc) async for doc in cursor]


async def closures_of(db: Database, city_id: str) -> dict[str, list[Closure]]:
    closures: dict[str, list[Closure]] = {}
    async for period in db[PERIODS].find({"city_id": city_id}):
        closures[period["month"]] = [
            Closure(signed_at=c["signed_at"], reopened_at=c.get("reopened_at"))
            for c in period.get("closures", [])
        ]
    return closures


def _fact(doc: Document) -> Fact:
    return Fact(
        event_id=doc["_id"],
        kind=doc["kind"],
        month=doc["month"],
        occurred_at=doc["occurred_at"],
        ref=doc["ref"],
        data=doc.get("data") or {},
    )


async def _find(db: Database, collection: str, query: Document) -> list[Fact]:
    return [_fact(doc) async for doc in db[collection].find(query)]


async def _find_any(db: Database, collection: str, queries: Sequence[Document]) -> list[Fact]:
    """The facts any of the queries finds, each once: one query per branch rather than one
    `$or`, which SecantusDB answers by reading the whole collection instead of the index."""
    found: dict[str, Fact] = {}
    for query in queries:
        for fact in await _find(db, collection, query):
            found.setdefault(fact.event_id, fact)
    return list(found.values())


def signed_early(month: str, closures: Mapping[str, Sequence[Closure]]) -> datetime | None:
    """When the month before `month` was first signed before it ended, if it was."""
    previous = scoring.previous_month(month)
    ended = month_end(previous)
    early = [c.signed_at for c in closures.get(previous, ()) if c.signed_at < ended]
    return min(early, default=None)


async def month_facts(
    db: Database, city_id: str, month: str, *, late_since: datetime | None = None
) -> list[Fact]:
    """The facts that may count for the month: its own, late ones of earlier months (and of
    the month before, from `late_since`, when it was signed before it ended), and what they
    refer to (the city, practices, passports; activity parts; ballots of polls)."""
    registry, voting = REGISTRY_FACTS_COLLECTION, VOTING_FACTS_COLLECTION
    late: list[Document] = [{"occurred_month": month, "month": {"$lt": month}}]
    if late_since is not None:
        late.append({"month": scoring.previous_month(month), "occurred_at": {"$gte": late_since}})
    this_month = [{"city_id": city_id, **branch} for branch in ({"month": month}, *late)]
    facts = await _find(
        db, registry, {"city_id": city_id, "kind": {"$in": list(scoring.CUMULATIVE_KINDS)}}
    )
    monthly = await _find_any(db, registry, this_month)
    facts += [f for f in monthly if f.kind not in scoring.CUMULATIVE_KINDS]
    activities = [f.ref for f in monthly if f.kind == scoring.ACTIVITY]
    if activities:
        facts += await _find(
            db,
            registry,
            {
                "city_id": city_id,
                "kind": {"$in": list(scoring.ACTIVITY_PARTS)},
                "ref": {"$in": activities},
            },
        )
    # Voting's facts by their index's keys (projections.VOTING_FACT_INDEXES): the city's
    # closed polls, those of the month kept here; then each poll's ballots. Read by the month
    # index instead, a month's polls cost every ballot of the month, and the ballots every
    # ballot of the city's year (a scan per scorecard, and the gauges read every city's).
    # A voting fact's month is when it occurred: the branch of late facts never holds one.
    previous = scoring.previous_month(month)
    polls = [
        f
        for f in await _find(db, voting, {"city_id": city_id, "kind": scoring.POLL_CLOSED})
        if f.month == month
        or (late_since is not None and f.month == previous and f.occurred_at >= late_since)
    ]
    facts += polls
    for poll in polls:
        facts += await _find(
            db, voting, {"city_id": city_id, "kind": scoring.BALLOT, "ref": poll.ref}
        )
    unique = {f.event_id: f for f in facts}
    return list(unique.values())


def evaluation_from(period: Document | None) -> Evaluation | None:
    given = (period or {}).get("evaluation")
    if not given:
        return None
    return Evaluation(
        score=Decimal(given["score"]),
        branding_used=bool(given["branding_used"]),
        methodology_followed=bool(given["methodology_followed"]),
        conclusion=given["conclusion"],
        curator=given["curator"],
        event_id=given["event_id"],
    )


async def compute_scorecard(  # noqa: PLR0913  # what a scorecard depends on, each named
    db: Database,
    city_id: str,
    month: str,
    *,
    evaluation: Evaluation | None,
    introduced: Sequence[ScoringPolicy],
    closures: dict[str, list[Closure]] | None = None,
) -> Scorecard:
    closures = closures if closures is not None else await closures_of(db, city_id)
    return score_month(
        city_id,
        month,
        facts=await month_facts(db, city_id, month, late_since=signed_early(month, closures)),
        closures=closures,
        evaluation=evaluation,
        policy=policy_for(month, list(introduced)),
    )


async def month_card(
    db: Database,
    city_id: str,
    month: str,
    now: datetime,
    introduced: Sequence[ScoringPolicy] | None = None,
) -> MonthCard:
    check_month(month)
    period = await db[PERIODS].find_one({"_id": f"{city_id}:{month}"})
    closed = bool(period and period.get("closed") and period.get("scorecard"))
    if period is not None and closed:
        card = Scorecard.from_payload(period["scorecard"])
    else:
        card = await compute_scorecard(
            db,
            city_id,
            month,
            evaluation=evaluation_from(period),
            introduced=introduced if introduced is not None else await policies(db),
        )
    early = (period or {}).get("reporting_closed") or {}
    status = status_of(month, closed=closed, now=now, reporting_closed=bool(early))
    given = (period or {}).get("evaluation") or {}
    return MonthCard(
        scorecard=card,
        status=status,
        conclusion=given.get("conclusion", ""),
        curator=given.get("curator", ""),
        signed_by=(period or {}).get("signed_by", ""),
        amendments=tuple((period or {}).get("amendments", [])),
        awaiting_since=None
        if status in {CLOSED, "open"}
        else early.get("closed_at") or month_end(month),
    )


async def cities(db: Database) -> list[str]:
    """The cities kpi knows: from registry's facts (each city's registration is one) and the
    periods. Not from voting's facts: `distinct` reads every document, a ballot per voter,
    and the gauges ask every interval; a city votes only on its registered problems and
    practices, so it is registered (its fact may come a moment after its first ballots)."""
    found: set[str] = set()
    for collection in (REGISTRY_FACTS_COLLECTION, PERIODS):
        found.update(await db[collection].distinct("city_id"))
    return sorted(found)


def outsider_view(card: MonthCard) -> MonthCard:
    """What a caller of another city sees of a city's month in the leaderboard and its
    export: the figures the programme compares (status, total, verdict, each indicator's
    achieved, target, attainment and points, each knock-out's outcome); not the evidence
    (event ids of records that may be unpublished), the notes and reasons (they name
    activities and the curator), nor the curator's conclusion, signature and amendments."""
    figures = card.scorecard
    return MonthCard(
        scorecard=replace(
            figures,
            indicators=tuple(replace(i, evidence=(), note="") for i in figures.indicators),
            knockouts=tuple(replace(k, evidence=(), reason="") for k in figures.knockouts),
        ),
        status=card.status,
        awaiting_since=card.awaiting_since,
    )


def seen_by(caller: Principal, card: MonthCard) -> MonthCard:
    """The card whole for a caller of its city, else its figures only (outsider_view)."""
    return card if caller.may_act_in(card.scorecard.city_id) else outsider_view(card)


@dataclass(frozen=True)
class Ranked:
    rank: int
    card: MonthCard


def ranked(cards: Iterable[MonthCard]) -> list[Ranked]:
    """Months failed by a knock-out rank below the others; then by total; ties share a rank."""

    def key(card: MonthCard) -> tuple[bool, Decimal]:
        return (card.scorecard.verdict == scoring.FAILED, -card.scorecard.total)

    ordered = sorted(cards, key=lambda c: (*key(c), c.scorecard.city_id))
    result: list[Ranked] = []
    for position, card in enumerate(ordered, start=1):
        same = result and key(result[-1].card) == key(card)
        result.append(Ranked(result[-1].rank if same else position, card))
    return result


async def leaderboard(db: Database, month: str, now: datetime) -> list[Ranked]:
    check_month(month)
    introduced = await policies(db)
    return ranked([await month_card(db, c, month, now, introduced) for c in await cities(db)])


def months_between(first: str, last: str) -> list[str]:
    months: list[str] = []
    year, number = int(first[:4]), int(first[5:7])
    while f"{year:04d}-{number:02d}" <= last and len(months) < MAX_HISTORY_MONTHS:
        months.append(f"{year:04d}-{number:02d}")
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)  # noqa: PLR2004  # December
    return months


async def history(
    db: Database, city_id: str, first: str, last: str, now: datetime
) -> list[MonthCard]:
    introduced = await policies(db)
    return [
        await month_card(db, city_id, month, now, introduced)
        for month in months_between(check_month(first), check_month(last))
    ]
