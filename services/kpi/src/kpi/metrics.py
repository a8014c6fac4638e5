from __future__ import annotations

from datetime import datetime

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


async def refresh_gauges(db: views.Database, now: datetime) -> None:
    month = previous_month(now)
    introduced = await views.policies(db)
    for city in await views.cities(db):
        card = await views.month_card(db, city, month, now, introduced)
        MONTH_SCORE.labels(city=city).set(float(card.scorecard.total))
        KNOCKOUTS_FAILED.labels(city=city).set(len(card.scorecard.failed_knockouts))
        waiting = (
            (now - card.awaiting_since).total_seconds()
            if card.status == AWAITING_CURATOR and card.awaiting_since is not None
            else 0.0
        )
        MONTHS_AWAITING_CURATOR.labels(city=city).set(max(0.0, waiting))
