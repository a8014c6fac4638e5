from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lmp_contracts import kpi, registry, voting
from lmp_kit.auth import ALL_CITIES
from lmp_kit.envelope import Envelope
from pymongo import ASCENDING, ReplaceOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from kpi.domain import scoring

PROBLEM_STATS = "problem_stats"
REGISTRY_FACTS_COLLECTION = "kpi_registry_facts"
VOTING_FACTS_COLLECTION = "kpi_voting_facts"
PERIODS = "kpi_periods"
POLICIES = "kpi_policies"

Document = dict[str, Any]


def month_of(envelope: Envelope) -> str:
    utc = envelope.occurred_at.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}"


class ProblemStatsProjection:
    """Problems registered per city and calendar month (UTC until cities carry time zones)."""

    event_types: frozenset[str] = frozenset({"Problem.Registered"})
    collections: tuple[str, ...] = (PROBLEM_STATS,)

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> None:
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None:
        """One update per city and month of the batch, in one bulk write."""
        counts: dict[tuple[str, str], tuple[int, datetime]] = {}
        for envelope in envelopes:
            key = (envelope.city_id, month_of(envelope))
            count, newest = counts.get(key, (0, envelope.occurred_at))
            counts[key] = (count + 1, max(newest, envelope.occurred_at))
        if not counts:
            return
        await db[PROBLEM_STATS].bulk_write(
            [
                UpdateOne(
                    {"_id": f"{city_id}:{month}"},
                    {
                        "$inc": {"problems_registered": count},
                        "$max": {"updated_at": newest},
                        "$set": {"city_id": city_id, "month": month},
                    },
                    upsert=True,
                )
                for (city_id, month), (count, newest) in counts.items()
            ],
            session=session,
        )


def fact_document(
    envelope: Envelope, fact_kind: str, /, *, ref: str = "", month: str = "", **data: object
) -> Document:
    occurred_month = month_of(envelope)
    return {
        "_id": str(envelope.event_id),
        "city_id": envelope.city_id,
        "kind": fact_kind,
        "month": month or occurred_month,
        "occurred_month": occurred_month,
        "occurred_at": envelope.occurred_at,
        "ref": ref or str(envelope.aggregate_id),
        "data": data,
    }


FactOf = Callable[[Envelope], Document | None]


def _city(e: Envelope) -> Document:
    city = e.parse(registry.CityRegistered)
    return fact_document(e, scoring.CITY, ref=e.city_id, voter_target=city.voter_target)


def _voter_target(e: Envelope) -> Document:
    changed = e.parse(registry.CityVoterTargetChanged)
    return fact_document(
        e,
        scoring.CITY,
        ref=e.city_id,
        month=changed.effective_month,
        voter_target=changed.voter_target,
    )


def functions_of(cells: list[registry.Cell]) -> list[str]:
    return sorted({c.function for c in cells})


def _practice(e: Envelope) -> Document:
    registered = e.parse(registry.PracticeRegistered)
    return fact_document(
        e,
        scoring.PRACTICE,
        kind=registered.kind,
        functions=functions_of(registered.cells),
        problem_ids=list(registered.problem_ids),
    )


def _practice_classified(e: Envelope) -> Document:
    classified = e.parse(registry.PracticeClassified)
    return fact_document(e, scoring.PRACTICE_CLASSIFIED, functions=functions_of(classified.cells))


def _practice_problem(e: Envelope) -> Document:
    linked = e.parse(registry.PracticeProblemLinked)
    return fact_document(e, scoring.PROBLEM_LINK, problem_id=linked.problem_id)


def _problem_practice(e: Envelope) -> Document:
    linked = e.parse(registry.ProblemPracticeLinked)
    return fact_document(
        e, scoring.PROBLEM_LINK, ref=linked.practice_id, problem_id=str(e.aggregate_id)
    )


def _passport(e: Envelope) -> Document:
    approved = e.parse(registry.PracticePassportApproved)
    return fact_document(
        e, scoring.PASSPORT, review_id=approved.review_id, approved_by=approved.approved_by
    )


def _improvement(e: Envelope) -> Document:
    recognized = e.parse(registry.ImprovementFactRecognized)
    return fact_document(e, scoring.IMPROVEMENT, month=recognized.month)


def _problem_solved(e: Envelope) -> Document | None:
    if not e.parse(registry.ProblemSolved).solved_with_external_resources:
        return None
    return fact_document(e, scoring.PROBLEM_SOLVED)


def _external_case(e: Envelope) -> Document:
    case = e.parse(registry.ExternalResourceCaseRecorded)
    return fact_document(e, scoring.EXTERNAL_CASE, month=case.month, problem_id=case.problem_id)


def _activity(e: Envelope) -> Document:
    activity = e.parse(registry.ActivityRegistered)
    return fact_document(
        e,
        scoring.ACTIVITY,
        month=f"{activity.held_on:%Y-%m}",
        title=activity.title,
        activity_kind=activity.kind,
        speakers=sorted({s.person_id for s in activity.speakers}),
        participant_categories=activity.participant_categories,
        joint_action=activity.joint_action,
        branding_used=activity.branding_used,
    )


def _part(kind: str) -> FactOf:
    def fact(e: Envelope) -> Document:
        return fact_document(e, kind)

    return fact


def _poll_closed(e: Envelope) -> Document:
    closed = e.parse(voting.PollClosed)
    return fact_document(
        e,
        scoring.POLL_CLOSED,
        kind=closed.kind,
        options=[[r.ref_kind, r.ref_id] for r in closed.results],
    )


def _ballot(e: Envelope) -> Document:
    ballot = e.parse(voting.BallotCast)
    return fact_document(e, scoring.BALLOT, ref=ballot.poll_id, pseudonym=ballot.pseudonym)


REGISTRY_FACTS: Mapping[str, FactOf] = {
    "City.Registered": _city,
    "City.VoterTargetChanged": _voter_target,
    "Practice.Registered": _practice,
    "Practice.Classified": _practice_classified,
    "Practice.ProblemLinked": _practice_problem,
    "Problem.PracticeLinked": _problem_practice,
    "Practice.PassportApproved": _passport,
    "ImprovementFact.Recognized": _improvement,
    "Problem.Solved": _problem_solved,
    "ExternalResourceCase.Recorded": _external_case,
    "Activity.Registered": _activity,
    "Activity.AnnouncementPublished": _part(scoring.ANNOUNCEMENT),
    "Activity.PressReleasePublished": _part(scoring.PRESS_RELEASE),
    "Activity.ReportFiled": _part(scoring.REPORT),
}
VOTING_FACTS: Mapping[str, FactOf] = {"Poll.Closed": _poll_closed, "Ballot.Cast": _ballot}


IndexKeys = Sequence[tuple[str, int]]
# What views.month_facts asks of each facts collection, each query an index's exact keys or
# their leading part (SecantusDB uses a compound index only so; anything else reads every
# document of the city or of the collection). Registry's facts: a city's month, the late
# facts that occurred in it. Voting's facts (a ballot per voter, by far the most documents):
# a city's closed polls, the ballots of a poll; their month is when they occurred, so they
# need no second month index. Each index is kept up on every insert: no more than these.
REGISTRY_FACT_INDEXES: tuple[IndexKeys, ...] = (
    (("city_id", ASCENDING), ("month", ASCENDING)),
    (("city_id", ASCENDING), ("occurred_month", ASCENDING)),
)
VOTING_FACT_INDEXES: tuple[IndexKeys, ...] = (
    (("city_id", ASCENDING), ("kind", ASCENDING), ("ref", ASCENDING)),
)


class FactsProjection:
    """Per city and month, the facts the scorecard is computed from, each with its event id."""

    # Its apply reads the collection by _id alone; the indexes serve the scorecard's reads, so
    # a rebuild builds them once after loading the facts (lmp_kit.consumer.IndexedAfterLoad).
    index_after_load = True

    def __init__(
        self, facts: Mapping[str, FactOf], collection: str, indexes: Sequence[IndexKeys]
    ) -> None:
        self.facts = facts
        self.collection = collection
        self.indexes = indexes
        self.event_types: frozenset[str] = frozenset(facts)
        self.collections: tuple[str, ...] = (collection,)

    async def prepare(self, db: AsyncDatabase[Document]) -> None:
        # Before any consumer transaction: creating an index waits for open transactions.
        for keys in self.indexes:
            await db[self.collection].create_index(list(keys))

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> None:
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None:
        """Each event's fact document (keyed by its event id), in one insert of those not there
        yet: a fact is a function of its event alone, so one already there (a replay) is that
        same document. Inserts, not upserts: an upsert costs the store several inserts."""
        documents = self._documents(envelopes)
        if not documents:
            return
        facts = db[self.collection]
        async for there in facts.find(
            {"_id": {"$in": list(documents)}}, {"_id": 1}, session=session
        ):
            del documents[there["_id"]]
        if documents:
            await facts.insert_many(list(documents.values()), ordered=False, session=session)

    async def apply_fresh(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None:
        """The same for events the consumer's tracking shows were never applied here
        (`lmp_kit.consumer.AppliesFresh`): inserted without reading which are there (one of
        this generation's facts is written only with its event's tracking)."""
        documents = self._documents(envelopes)
        if documents:
            await db[self.collection].insert_many(
                list(documents.values()), ordered=False, session=session
            )

    def _documents(self, envelopes: Sequence[Envelope]) -> dict[str, Document]:
        documents: dict[str, Document] = {}
        for envelope in envelopes:
            if envelope.city_id in {"", ALL_CITIES}:
                continue
            document = self.facts[envelope.event_type](envelope)
            if document is not None:
                documents[document["_id"]] = document
        return documents


# The events of a KPI period, each of one city and month.
PeriodEvent = (
    kpi.KpiPeriodOpened
    | kpi.KpiPeriodEvaluated
    | kpi.KpiPeriodSigned
    | kpi.KpiPeriodAmended
    | kpi.KpiPeriodReportingClosed
)
PERIOD_EVENTS: Mapping[str, type[PeriodEvent]] = {
    contract.event_type: contract
    for contract in (
        kpi.KpiPeriodOpened,
        kpi.KpiPeriodEvaluated,
        kpi.KpiPeriodSigned,
        kpi.KpiPeriodAmended,
        kpi.KpiPeriodReportingClosed,
    )
}


class PeriodsProjection:
    """The state of each KPI period (from kpi's own events): evaluation, closures, frozen card."""

    event_types: frozenset[str] = frozenset(
        {*PERIOD_EVENTS, kpi.PolicyCataloguePolicyIntroduced.event_type}
    )
    collections: tuple[str, ...] = (PERIODS, POLICIES)

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> None:
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None:
        """The batch's periods read at once, each evolved by its events in log order (a
        period's state is the fold of its events), and written back in one bulk write."""
        policies: dict[str, Document] = {}
        months: list[tuple[str, Envelope]] = []
        for envelope in envelopes:
            if envelope.event_type == "PolicyCatalogue.PolicyIntroduced":
                policy = envelope.parse(kpi.PolicyCataloguePolicyIntroduced).policy
                policies[policy.version] = {
                    **policy.model_dump(),
                    "_id": policy.version,
                    "introduced_at": envelope.occurred_at,
                }
                continue
            month = envelope.parse(PERIOD_EVENTS[envelope.event_type]).month
            months.append((f"{envelope.city_id}:{month}", envelope))
        if policies:
            await db[POLICIES].bulk_write(
                [ReplaceOne({"_id": v}, d, upsert=True) for v, d in policies.items()],
                session=session,
            )
        if not months:
            return
        keys = sorted({key for key, _ in months})
        periods = {
            doc["_id"]: doc
            async for doc in db[PERIODS].find({"_id": {"$in": keys}}, session=session)
        }
        for key, envelope in sorted(months, key=lambda m: m[1].notification_id):
            period = periods.get(key)
            if period is None:
                period = periods[key] = {
                    "_id": key,
                    "city_id": envelope.city_id,
                    "month": key.rpartition(":")[2],
                    "closed": False,
                    "closures": [],
                    "evaluation": None,
                    "scorecard": None,
                    "signed_by": "",
                    "amendments": [],
                }
            _evolve(period, envelope)
            period["updated_at"] = envelope.occurred_at
        await db[PERIODS].bulk_write(
            [ReplaceOne({"_id": key}, periods[key], upsert=True) for key in keys],
            session=session,
        )


def _evolve(period: Document, envelope: Envelope) -> None:
    if envelope.event_type == "KpiPeriod.Evaluated":
        evaluated = envelope.parse(kpi.KpiPeriodEvaluated)
        period["evaluation"] = {
            "event_id": str(envelope.event_id),
            "curator": evaluated.curator,
            "score": evaluated.score,
            "branding_used": evaluated.branding_used,
            "methodology_followed": evaluated.methodology_followed,
            "conclusion": evaluated.conclusion,
            "evaluated_at": envelope.occurred_at,
        }
    elif envelope.event_type == "KpiPeriod.Signed":
        signed = envelope.parse(kpi.KpiPeriodSigned)
        period["closed"] = True
        period["signed_by"] = signed.curator
        period["scorecard"] = signed.scorecard.model_dump()
        period["closures"].append({"signed_at": envelope.occurred_at, "reopened_at": None})
    elif envelope.event_type == "KpiPeriod.ReportingClosed":
        closed = envelope.parse(kpi.KpiPeriodReportingClosed)
        period["reporting_closed"] = {
            "closed_by": closed.closed_by,
            "reason": closed.reason,
            "closed_at": envelope.occurred_at,
        }
    elif envelope.event_type == "KpiPeriod.Amended":
        amended = envelope.parse(kpi.KpiPeriodAmended)
        period["closed"] = False
        period["signed_by"] = ""
        period["scorecard"] = None
        if period["closures"]:
            period["closures"][-1]["reopened_at"] = envelope.occurred_at
        period["amendments"].append(
            {
                "event_id": str(envelope.event_id),
                "requested_by": amended.requested_by,
                "reason": amended.reason,
                "amended_at": envelope.occurred_at,
            }
        )
