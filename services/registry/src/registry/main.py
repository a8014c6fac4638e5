from __future__ import annotations

from lmp_kit.eventstore import event_store_env
from lmp_kit.runtime import ServiceRuntime, mongo_client
from lmp_kit.settings import Settings

from registry.api import registrations
from registry.application import RegistryApplication
from registry.consumers import SUBSCRIPTIONS, reactions


def build(settings: Settings) -> ServiceRuntime:
    app = RegistryApplication(env=event_store_env(settings))
    mongo = mongo_client(settings)
    return ServiceRuntime(
        settings=settings,
        app=app,
        registrations=registrations(app, mongo[settings.mongodb_database]),
        mongo=mongo,
        subscriptions=SUBSCRIPTIONS,
        reactions=reactions(app),
    )
