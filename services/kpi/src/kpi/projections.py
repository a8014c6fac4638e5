from __future__ import annotations

from datetime import UTC
from typing import Any

from lmp_kit.envelope import Envelope
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

PROBLEM_STATS = "problem_stats"


def month_of(envelope: Envelope) -> str:
    return envelope.occurred_at.astimezone(UTC).strftime("%Y-%m")


class ProblemStatsProjection:
    """Problems registered per city and calendar month (UTC until cities carry time zones)."""

    event_types: frozenset[str] = frozenset({"Problem.Registered"})
    collections: tuple[str, ...] = (PROBLEM_STATS,)

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[dict[str, Any]], session: AsyncClientSession
    ) -> None:
        month = month_of(envelope)
        await db[PROBLEM_STATS].update_one(
            {"_id": f"{envelope.city_id}:{month}"},
            {
                "$inc": {"problems_registered": 1},
                "$max": {"updated_at": envelope.occurred_at},
                "$set": {"city_id": envelope.city_id, "month": month},
            },
            upsert=True,
            session=session,
        )
