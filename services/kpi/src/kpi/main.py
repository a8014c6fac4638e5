from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from lmp_kit.eventstore import event_store_env
from lmp_kit.runtime import ServiceRuntime, mongo_client, read_models
from lmp_kit.settings import Settings
from lmp_kit.stopping import sleep_unless
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from kpi.api import registrations
from kpi.application import KpiApplication
from kpi.consumers import SUBSCRIPTIONS
from kpi.metrics import Gauges

log = logging.getLogger(__name__)


def gauges(
    db: AsyncDatabase[dict[str, Any]], interval_s: float
) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    async def refresh_gauges_forever(stopping: asyncio.Event) -> None:
        kept = Gauges()
        while not stopping.is_set():
            try:
                await kept.refresh(db, datetime.now(UTC))
            except PyMongoError as error:
                log.warning("cannot refresh the scorecard gauges: %s", error)
            await sleep_unless(stopping, interval_s)

    return refresh_gauges_forever


def build(settings: Settings) -> ServiceRuntime:
    mongo = mongo_client(settings)
    models = read_models(settings, mongo, SUBSCRIPTIONS)
    db = models.handle
    app = KpiApplication(env=event_store_env(settings))
    return ServiceRuntime(
        settings=settings,
        app=app,
        registrations=registrations(db, app),
        mongo=mongo,
        subscriptions=SUBSCRIPTIONS,
        read_models=models,
        workers=(gauges(db, max(1.0, settings.reconcile_interval_s)),),
    )
