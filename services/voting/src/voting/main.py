from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from eventsourcing.persistence import IntegrityError
from lmp_kit.errors import DomainError
from lmp_kit.eventstore import event_store_env
from lmp_kit.metrics import WORKER_FAILURES
from lmp_kit.registry_client import RegistryClient
from lmp_kit.runtime import ServiceRuntime, mongo_client, read_models, service_token
from lmp_kit.settings import Settings
from lmp_kit.stopping import sleep_unless
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from voting import views
from voting.access import parse_poll_id
from voting.api import registrations
from voting.application import VotingApplication, utc_now
from voting.consumers import subscriptions
from voting.keys import PseudonymKeys

log = logging.getLogger(__name__)

SCHEDULE_INTERVAL_S = 1.0
SCHEDULE_FAILURES = WORKER_FAILURES.labels(worker="poll-schedule")
# Collect the youngest generation every 50,000 net allocations instead of 700: at a thousand
# ballots a second, fewer in-flight requests survive into the older generations, so full
# collections (each stops every request for tens of ms) run far less often.
GC_THRESHOLDS = (50_000, 20, 10)


def tune_gc() -> None:
    """Move everything built at start (modules, stubs, the application) out of the collector's
    sight and collect young objects less often: full collections get rare and short."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def close_due_polls(app: VotingApplication, db: AsyncDatabase[dict[str, Any]]) -> int:
    """Close every poll past its `closes_at`; one that cannot be closed (for any reason) is
    logged, counted and tried again next round, and the others are closed meanwhile."""
    closed = 0
    for poll_id in await views.due_polls(db, utc_now()):
        try:
            await asyncio.to_thread(app.close_poll, parse_poll_id(poll_id))
        except (DomainError, IntegrityError) as error:
            log.info("poll %s was not closed on schedule: %s", poll_id, error)
        except Exception:  # any other fault of one poll must not keep the others open
            SCHEDULE_FAILURES.inc()
            log.exception("poll %s could not be closed on schedule; trying again", poll_id)
        else:
            closed += 1
    return closed


def poll_schedule(
    app: VotingApplication,
    db: AsyncDatabase[dict[str, Any]],
    interval_s: float = SCHEDULE_INTERVAL_S,
) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    async def close_due_polls_until(stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await close_due_polls(app, db)
            except PyMongoError as error:
                SCHEDULE_FAILURES.inc()
                log.warning("cannot look for polls due to close: %s", error)
            except Exception:  # the schedule survives any one round and tries the next
                SCHEDULE_FAILURES.inc()
                log.exception("a round of the poll schedule failed; trying again")
            await sleep_unless(stopping, interval_s)

    return close_due_polls_until


def build(settings: Settings) -> ServiceRuntime:
    registry = RegistryClient(settings.endpoints["registry"].grpc_target, service_token(settings))
    app = VotingApplication(
        env=event_store_env(settings), keys=PseudonymKeys.from_env(settings), registry=registry
    )
    mongo = mongo_client(settings)
    models = read_models(settings, mongo, subscriptions())
    db = models.handle
    tune_gc()
    return ServiceRuntime(
        settings=settings,
        app=app,
        registrations=registrations(app, db),
        mongo=mongo,
        subscriptions=subscriptions(),
        read_models=models,
        workers=(poll_schedule(app, db),),
        # The thread that commits every ballot: without it no city can vote.
        vitals=(("ballot-writer", app.writer.is_alive),),
    )
