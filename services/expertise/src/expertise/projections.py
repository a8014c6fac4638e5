from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from lmp_contracts import expertise, registry
from lmp_kit.envelope import Envelope
from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

PRACTICES = "practices"
REVIEWS = "reviews"
SESSIONS = "sessions"

Database = AsyncDatabase[dict[str, Any]]


async def write(
    db: Database, collection: str, updates: Sequence[UpdateOne], session: AsyncClientSession
) -> None:
    """A batch's updates of one collection in one round trip, applied in the batch's order
    (ordered: each sees the ones before it, as one `update_one` per event did)."""
    if updates:
        await db[collection].bulk_write(list(updates), ordered=True, session=session)


def person_ids(people: Iterable[registry.Person]) -> list[str]:
    return [p.person_id for p in people if p.person_id]


class PracticesProjection:
    """The registry's practices, as far as conflicts of interest and reviews need them."""

    event_types: frozenset[str] = frozenset(
        {"Practice.Registered", "Practice.PeopleSet", "Practice.StatusChanged"}
    )
    collections: tuple[str, ...] = (PRACTICES,)

    async def apply(self, envelope: Envelope, db: Database, session: AsyncClientSession) -> None:
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self, envelopes: Sequence[Envelope], db: Database, session: AsyncClientSession
    ) -> None:
        updates = [
            UpdateOne(
                {"_id": str(e.aggregate_id)},
                {"$set": self.fields(e), "$max": {"updated_at": e.occurred_at}},
                upsert=True,
            )
            for e in envelopes
        ]
        await write(db, PRACTICES, updates, session)

    @staticmethod
    def fields(envelope: Envelope) -> dict[str, Any]:
        if envelope.event_type == "Practice.Registered":
            registered = envelope.parse(registry.PracticeRegistered)
            fields: dict[str, Any] = {
                "city_id": envelope.city_id,
                "kind": registered.kind,
                "title": registered.title,
                "authors": person_ids(registered.authors),
                "participants": person_ids(registered.participants),
                "status": "submitted",
            }
        elif envelope.event_type == "Practice.PeopleSet":
            people = envelope.parse(registry.PracticePeopleSet)
            fields = {
                "authors": person_ids(people.authors),
                "participants": person_ids(people.participants),
            }
        else:
            fields = {"status": envelope.parse(registry.PracticeStatusChanged).status}
        return fields


class ReviewsProjection:
    """Reviews with their recusals, scores and decision: the experts' queues and ListReviews
    read them."""

    event_types: frozenset[str] = frozenset(
        {
            "Review.Opened",
            "Review.ExpertRecused",
            "Review.Scored",
            "Review.Assessed",
            "Review.Concluded",
        }
    )
    collections: tuple[str, ...] = (REVIEWS,)

    async def prepare(self, db: Database) -> None:
        await db[REVIEWS].create_index([("city_id", ASCENDING), ("seq", DESCENDING)])

    async def apply(self, envelope: Envelope, db: Database, session: AsyncClientSession) -> None:
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self, envelopes: Sequence[Envelope], db: Database, session: AsyncClientSession
    ) -> None:
        """One update per event in one bulk write. An assessment stands only above the
        revision already there, so the reviews assessed in the batch are read first and their
        revision kept current in memory through the batch."""
        assessed = sorted(
            {str(e.aggregate_id) for e in envelopes if e.event_type == "Review.Assessed"}
        )
        revisions: dict[str, int] = {}
        if assessed:
            async for doc in db[REVIEWS].find(
                {"_id": {"$in": assessed}}, {"assessment_revision": 1}, session=session
            ):
                revisions[doc["_id"]] = int(doc.get("assessment_revision", 0))
        updates = [
            UpdateOne({"_id": str(e.aggregate_id)}, self.update(e, revisions), upsert=True)
            for e in envelopes
        ]
        await write(db, REVIEWS, updates, session)

    @staticmethod
    def update(envelope: Envelope, revisions: dict[str, int]) -> dict[str, Any]:
        """The event's update; `revisions`: the latest assessment revision by review, updated."""
        update: dict[str, Any] = {"$max": {"version": envelope.aggregate_version}}
        if envelope.event_type == "Review.Opened":
            opened = envelope.parse(expertise.ReviewOpened)
            update["$set"] = {
                "city_id": envelope.city_id,
                "practice_id": opened.practice_id,
                "practice_kind": opened.practice_kind,
                "practice_title": opened.practice_title,
                "round": opened.round,
                "weights": dict(opened.weights),
                "interested": list(opened.interested),
                "status": "open",
                "opened_at": envelope.occurred_at,
                "seq": envelope.notification_id,  # ListReviews: the latest opened first
            }
        elif envelope.event_type == "Review.ExpertRecused":
            recused = envelope.parse(expertise.ReviewExpertRecused)
            update["$addToSet"] = {"recused": recused.person_id}
            # a list, not a map: a subject may hold a '.' (each event is applied once)
            update["$push"] = {
                "recusals": {"person_id": recused.person_id, "reason": recused.reason}
            }
        elif envelope.event_type == "Review.Scored":
            scored = envelope.parse(expertise.ReviewScored)
            update["$addToSet"] = {"scored_by": scored.person_id}
            update["$push"] = {
                "scores": {"person_id": scored.person_id, "scores": dict(scored.scores)}
            }
        elif envelope.event_type == "Review.Assessed":
            assessed = envelope.parse(expertise.ReviewAssessed)
            # the latest revision stands, whatever order a redelivery brings them in
            update["$max"]["assessment_revision"] = assessed.revision
            review_id = str(envelope.aggregate_id)
            if revisions.get(review_id, 0) < assessed.revision:
                revisions[review_id] = assessed.revision
                update["$set"] = {
                    "assessment": {
                        "person_id": assessed.person_id,
                        "scores": dict(assessed.scores),
                        "rationale": assessed.rationale,
                        "revision": assessed.revision,
                        "assessed_at": envelope.occurred_at,
                    }
                }
        else:
            concluded = envelope.parse(expertise.ReviewConcluded)
            update["$set"] = {
                "status": "concluded",
                "verdict": concluded.verdict,
                "decision": {
                    "verdict": concluded.verdict,
                    "rationale": concluded.rationale,
                    "session_id": concluded.session_id,
                    "priority_rank": concluded.priority_rank,
                    "expected_results": concluded.expected_results,
                    "deadlines": concluded.deadlines,
                    "resource_sources": concluded.resource_sources,
                    "regulation_proposals": concluded.regulation_proposals,
                    "aggregate_score": concluded.aggregate_score,
                    "concluded_at": envelope.occurred_at,
                },
            }
        return update


class SessionsProjection:
    """Council sessions per city with the decisions taken at each."""

    event_types: frozenset[str] = frozenset(
        {"CouncilSession.Scheduled", "CouncilSession.Held", "Review.Concluded"}
    )
    collections: tuple[str, ...] = (SESSIONS,)

    async def prepare(self, db: Database) -> None:
        await db[SESSIONS].create_index([("city_id", ASCENDING), ("scheduled_on", DESCENDING)])

    async def apply(self, envelope: Envelope, db: Database, session: AsyncClientSession) -> None:
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self, envelopes: Sequence[Envelope], db: Database, session: AsyncClientSession
    ) -> None:
        await write(db, SESSIONS, [self.update(e) for e in envelopes], session)

    @staticmethod
    def update(envelope: Envelope) -> UpdateOne:
        if envelope.event_type == "Review.Concluded":
            concluded = envelope.parse(expertise.ReviewConcluded)
            decision = {
                "review_id": str(envelope.aggregate_id),
                "practice_id": concluded.practice_id,
                "round": concluded.round,
                "verdict": concluded.verdict,
                "rationale": concluded.rationale,
                "priority_rank": concluded.priority_rank,
                "aggregate_score": concluded.aggregate_score,
            }
            return UpdateOne(
                {"_id": concluded.session_id}, {"$push": {"decisions": decision}}, upsert=True
            )
        if envelope.event_type == "CouncilSession.Scheduled":
            scheduled = envelope.parse(expertise.CouncilSessionScheduled)
            fields: dict[str, Any] = {
                "city_id": envelope.city_id,
                "scheduled_on": scheduled.scheduled_on.isoformat(),
                "agenda": list(scheduled.agenda),
                "status": "scheduled",
            }
        else:
            held = envelope.parse(expertise.CouncilSessionHeld)
            fields = {
                "status": "held",
                "held_on": held.held_on.isoformat(),
                "attendees": list(held.attendees),
                "quorum_required": held.quorum_required,
                "quorum_met": held.quorum_met,
                "minutes": held.minutes,
            }
        return UpdateOne(
            {"_id": str(envelope.aggregate_id)},
            {"$set": fields, "$max": {"version": envelope.aggregate_version}},
            upsert=True,
        )
