from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from lmp_kit.consumer import FENCES
from prometheus_client import Gauge

from kpi import views
from kpi.domain.periods import AWAITING_CURATOR
from kpi.domain.scoring import month_of

MONTHS_AWAITING_CURATOR = Gauge(
    "lmp_kpi_months_awaiting_curator_seconds",
    "Seconds since the end of the city's last month that still awaits the curator's signature",
    ["city"],
)
MONTH_SCORE = Gauge(
    "lmp_kpi_month_score", "Total score (0-100) of the city's last ended month", ["city"]
)
KNOCKOUTS_FAILED = Gauge(
    "lmp_kpi_knockouts_failed", "Knock-outs failed in the city's last ended month", ["city"]
)


def previous_month(now: datetime) -> str:
    month = month_of(now)
    year, number = int(month[:4]), int(month[5:7])
    year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return f"{year:04d}-{number:02d}"


# The cards are computed again at least this often even when no batch was applied (a hand-made
# change to the read model, say).
RECOMPUTE_AT_LEAST_EVERY_S = 300.0


@dataclass
class Gauges:
    """The scorecard gauges of each city's last ended month. Its cards depend on the month and
    the read model alone (an ended month is awaiting the curator or closed, whatever the
    clock), so they are computed again only when either changed: every batch a consumer
    applies to the generation, and every move of its positions, counts on the generation's
    fence of its upstream (`lmp_kit.consumer`), and a switch of generation changes the
    database. In between, one read of the fences and the waiting seconds from the kept
    moments. At a year of a 100-city federation one computation takes seconds of the
    server's time (bench/kpi_gauges.py): every 10 s, it kept the server busy."""

    computed_for: tuple[object, ...] | None = None
    computed_at: float = 0.0
    awaiting_since: dict[str, datetime | None] = field(default_factory=dict)
    computations: int = 0

    async def refresh(self, db: views.Database, now: datetime) -> None:
        month = previous_month(now)
        state = (month, *await read_model_state(db))
        stale = time.monotonic() - self.computed_at >= RECOMPUTE_AT_LEAST_EVERY_S
        if state != self.computed_for or stale:
            self.awaiting_since = await compute_cards(db, month, now)
            self.computed_for, self.computed_at = state, time.monotonic()
            self.computations += 1
        for city, since in self.awaiting_since.items():
            waiting = (now - since).total_seconds() if since is not None else 0.0
            MONTHS_AWAITING_CURATOR.labels(city=city).set(max(0.0, waiting))


async def read_model_state(db: views.Database) -> tuple[object, ...]:
    """What changes whenever the read model does: the generation's database and the batch
    count on each of its fences."""
    fences = db[FENCES]
    counts = sorted(
        [
            (str(doc["_id"]), int(doc.get("batches", 0)))
            async for doc in fences.find({}, {"batches": 1})
        ]
    )
    return (fences.database.name, tuple(counts))


async def compute_cards(
    db: views.Database, month: str, now: datetime
) -> dict[str, datetime | None]:
    """Each city's card of `month` into the score and knock-out gauges; since when each city's
    month awaits the curator (None: it does not)."""
    introduced = await views.policies(db)
    awaiting: dict[str, datetime | None] = {}
    for city in await views.cities(db):
        card = await views.month_card(db, city, month, now, introduced)
        MONTH_SCORE.labels(city=city).set(float(card.scorecard.total))
        KNOCKOUTS_FAILED.labels(city=city).set(len(card.scorecard.failed_knockouts))
        awaiting[city] = card.awaiting_since if card.status == AWAITING_CURATOR else None
    return awaiting


async def refresh_gauges(db: views.Database, now: datetime) -> None:
    """Every gauge computed now (bench/kpi_gauges.py times this)."""
    await Gauges().refresh(db, now)
