"""The notification service's metrics; the kit's are exported next to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client import Counter, Gauge
from pymongo.asynchronous.database import AsyncDatabase

from notifications.domain.kinds import CHANNELS

DELIVERIES = Counter(
    "lmp_notification_deliveries_total",
    "Delivery attempts by channel and outcome (delivered, retried, dead, cancelled)",
    ["channel", "outcome"],
)
PENDING = Gauge("lmp_notification_pending_deliveries", "Deliveries waiting to be sent", ["channel"])
RETRY_QUEUE = Gauge(
    "lmp_notification_retry_queue_length",
    "Pending deliveries that failed at least once and wait for their next attempt",
    ["channel"],
)
OLDEST_PENDING = Gauge(
    "lmp_notification_oldest_pending_age_seconds",
    "Age of the oldest delivery still pending (0 when none)",
    ["channel"],
)
WEBHOOK_DEAD_LETTERS = Gauge(
    "lmp_webhook_dead_letters", "Webhook deliveries that gave up, awaiting redelivery", ["city"]
)


async def refresh(db: AsyncDatabase[dict[str, Any]], deliveries: str, now: datetime) -> None:
    for channel in CHANNELS:
        pending = {"channel": channel, "status": "pending"}
        PENDING.labels(channel=channel).set(await db[deliveries].count_documents(pending))
        RETRY_QUEUE.labels(channel=channel).set(
            await db[deliveries].count_documents({**pending, "attempts": {"$gt": 0}})
        )
        oldest = await db[deliveries].find_one(pending, sort=[("created_at", 1)])
        age = (now - oldest["created_at"]).total_seconds() if oldest else 0.0
        OLDEST_PENDING.labels(channel=channel).set(max(0.0, age))
    dead: dict[str, int] = {}
    async for doc in db[deliveries].find({"channel": "webhook", "status": "dead"}, {"city_id": 1}):
        dead[doc["city_id"]] = dead.get(doc["city_id"], 0) + 1
    for labels in list(WEBHOOK_DEAD_LETTERS._metrics):  # noqa: SLF001  # cities no longer dead
        if labels[0] not in dead:
            WEBHOOK_DEAD_LETTERS.labels(city=labels[0]).set(0)
    for city, count in dead.items():
        WEBHOOK_DEAD_LETTERS.labels(city=city).set(count)
