from __future__ import annotations

from typing import Any

from lmp_kit.envelope import Envelope
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

PRACTICES = "practices"
REVIEWS = "reviews"
SESSIONS = "sessions"

Database = AsyncDatabase[dict[str, Any]]


def person_ids(people: object) -> list[str]:
    if not isinstance(people, list):
        return []
    return [str(p["person_id"]) for p in people if isinstance(p, dict) and p.get("person_id")]


class PracticesProjection:
    """The registry's practices, as far as conflicts of interest and reviews need them."""

    event_types: frozenset[str] = frozenset(
        {"Practice.Registered", "Practice.PeopleSet", "Practice.StatusChanged"}
    )
    collections: tuple[str, ...] = (PRACTICES,)

    async def apply(self, envelope: Envelope, db: Database, session: AsyncClientSession) -> None:
        payload = envelope.payload
        if envelope.event_type == "Practice.Registered":
            fields: dict[str, Any] = {
                "city_id": envelope.city_id,
                "kind": payload.get("kind", ""),
                "title": payload.get("title", ""),
                "authors": person_ids(payload.get("authors")),
                "participants": person_ids(payload.get("participants")),
                "status": "submitted",
            }
        elif envelope.event_type == "Practice.PeopleSet":
            fields = {
                "authors": person_ids(payload.get("authors")),
                "participants": person_ids(payload.get("participants")),
            }
        else:
            fields = {"status": payload.get("status", "")}
        await db[PRACTICES].update_one(
            {"_id": str(envelope.aggregate_id)},
            {"$set": fields, "$max": {"updated_at": envelope.occurred_at}},
            upsert=True,
            session=session,
        )


class ReviewsProjection:
    """Reviews with their recusals, scores and decision: the experts' queues read them."""

    event_types: frozenset[str] = frozenset(
        {"Review.Opened", "Review.ExpertRecused", "Review.Scored", "Review.Concluded"}
    )
    collections: tuple[str, ...] = (REVIEWS,)

    async def apply(self, envelope: Envelope, db: Database, session: AsyncClientSession) -> None:
        payload = envelope.payload
        update: dict[str, Any] = {"$max": {"version": envelope.aggregate_version}}
        if envelope.event_type == "Review.Opened":
            update["$set"] = {
                "city_id": envelope.city_id,
                "practice_id": payload["practice_id"],
                "round": payload["round"],
                "interested": payload["interested"],
                "status": "open",
                "opened_at": envelope.occurred_at,
            }
        elif envelope.event_type == "Review.ExpertRecused":
            update["$addToSet"] = {"recused": payload["person_id"]}
        elif envelope.event_type == "Review.Scored":
            update["$addToSet"] = {"scored_by": payload["person_id"]}
        else:
            update["$set"] = {"status": "concluded", "verdict": payload["verdict"]}
        await db[REVIEWS].update_one(
            {"_id": str(envelope.aggregate_id)}, update, upsert=True, session=session
        )


class SessionsProjection:
    """Council sessions per city with the decisions taken at each."""

    event_types: frozenset[str] = frozenset(
        {"CouncilSession.Scheduled", "CouncilSession.Held", "Review.Concluded"}
    )
    collections: tuple[str, ...] = (SESSIONS,)

    async def apply(self, envelope: Envelope, db: Database, session: AsyncClientSession) -> None:
        payload = envelope.payload
        if envelope.event_type == "Review.Concluded":
            decision = {
                "review_id": str(envelope.aggregate_id),
                "practice_id": payload["practice_id"],
                "round": payload["round"],
                "verdict": payload["verdict"],
                "rationale": payload["rationale"],
                "priority_rank": payload.get("priority_rank"),
                "aggregate_score": payload.get("aggregate_score"),
            }
            await db[SESSIONS].update_one(
                {"_id": payload["session_id"]},
                {"$push": {"decisions": decision}},
                upsert=True,
                session=session,
            )
            return
        if envelope.event_type == "CouncilSession.Scheduled":
            fields: dict[str, Any] = {
                "city_id": envelope.city_id,
                "scheduled_on": payload["scheduled_on"],
                "agenda": payload["agenda"],
                "status": "scheduled",
            }
        else:
            fields = {
                "status": "held",
                "held_on": payload["held_on"],
                "attendees": payload["attendees"],
                "quorum_required": payload["quorum_required"],
                "quorum_met": payload["quorum_met"],
                "minutes": payload["minutes"],
            }
        await db[SESSIONS].update_one(
            {"_id": str(envelope.aggregate_id)},
            {"$set": fields, "$max": {"version": envelope.aggregate_version}},
            upsert=True,
            session=session,
        )
