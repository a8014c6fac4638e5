from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lmp_kit.errors import InvalidArgumentError
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from kpi.projections import PROBLEM_STATS

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class ProblemStats:
    city_id: str
    month: str
    problems_registered: int
    updated_at: datetime | None


def check_month(month: str) -> str:
    if not MONTH.fullmatch(month):
        msg = f"month must be YYYY-MM (e.g. 2026-11), not {month!r}"
        raise InvalidArgumentError(msg)
    return month


async def problem_stats(
    db: AsyncDatabase[dict[str, Any]], city_id: str, month: str
) -> ProblemStats:
    found = await db[PROBLEM_STATS].find_one({"_id": f"{city_id}:{check_month(month)}"})
    if found is None:
        return ProblemStats(city_id, month, 0, None)
    return _stats(found)


async def problem_stats_by_month(
    db: AsyncDatabase[dict[str, Any]], city_id: str
) -> list[ProblemStats]:
    cursor = db[PROBLEM_STATS].find({"city_id": city_id}).sort("month", ASCENDING)
    return [_stats(doc) async for doc in cursor]


def _stats(doc: dict[str, Any]) -> ProblemStats:
    return ProblemStats(
        city_id=doc["city_id"],
        month=doc["month"],
        problems_registered=int(doc["problems_registered"]),
        updated_at=doc.get("updated_at"),
    )
