from __future__ import annotations

from lmp_kit.eventstore import event_store_env
from lmp_kit.runtime import ServiceRuntime, mongo_client
from lmp_kit.settings import Settings

from kpi.api import registrations
from kpi.application import KpiApplication
from kpi.consumers import SUBSCRIPTIONS


def build(settings: Settings) -> ServiceRuntime:
    mongo = mongo_client(settings)
    return ServiceRuntime(
        settings=settings,
        app=KpiApplication(env=event_store_env(settings)),
        registrations=registrations(mongo[settings.mongodb_database]),
        mongo=mongo,
        subscriptions=SUBSCRIPTIONS,
    )
