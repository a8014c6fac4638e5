from __future__ import annotations

import asyncio
from typing import Any

from lmp_kit.changes import HUB
from lmp_kit.runtime import ServiceRuntime, mongo_client, read_models
from lmp_kit.settings import Settings
from pymongo import AsyncMongoClient

from notifications.api import registrations
from notifications.application import utc_now
from notifications.config import DeliverySettings
from notifications.consumers import SUBSCRIPTIONS
from notifications.delivery import (
    DeliveryWorker,
    EmailSender,
    WebhookSender,
    refresh_metrics_forever,
)
from notifications.reminders import remind_forever


def background_work(
    mongo: AsyncMongoClient[dict[str, Any]], database: str, delivery: DeliverySettings
) -> tuple[Any, ...]:
    """The delivery worker, the reminders, the gauges and the end of the live streams.

    `mongo[database]` is the read models' handle (lmp_kit.runtime.read_models): the reminders
    read the projections' facts of the active generation through it."""
    db = mongo[database]
    worker = DeliveryWorker(
        db,
        {
            "email": EmailSender(delivery),
            "webhook": WebhookSender(delivery.webhook_timeout_s, delivery.webhook_targets),
        },
        delivery,
    )

    async def remind(stopping: asyncio.Event) -> None:
        await remind_forever(mongo, database, delivery, stopping, utc_now)

    async def refresh(stopping: asyncio.Event) -> None:
        await refresh_metrics_forever(db, stopping, delivery.metrics_interval_s)

    async def end_streams(stopping: asyncio.Event) -> None:
        # Live streams end with OK while the server's grace runs, instead of being cancelled.
        await stopping.wait()
        HUB.close()

    return (worker.run, remind, refresh, end_streams)


def build(settings: Settings, delivery: DeliverySettings | None = None) -> ServiceRuntime:
    mongo = mongo_client(settings)
    delivery = delivery or DeliverySettings.from_env()
    models = read_models(settings, mongo, SUBSCRIPTIONS)
    return ServiceRuntime(
        settings=settings,
        registrations=registrations(models.handle, delivery.webhook_targets),
        mongo=mongo,
        subscriptions=SUBSCRIPTIONS,
        read_models=models,
        workers=background_work(mongo, settings.mongodb_database, delivery),
    )
