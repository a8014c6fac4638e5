from __future__ import annotations

from lmp_kit.eventstore import event_store_env
from lmp_kit.runtime import ServiceRuntime, mongo_client, read_models
from lmp_kit.settings import Settings

from registry.api import registrations
from registry.application import RegistryApplication
from registry.consumers import SUBSCRIPTIONS, reactions


def build(settings: Settings) -> ServiceRuntime:
    app = RegistryApplication(env=event_store_env(settings))
    mongo = mongo_client(settings)
    models = read_models(settings, mongo, SUBSCRIPTIONS)
    return ServiceRuntime(
        settings=settings,
        app=app,
        registrations=registrations(app, models.handle),
        mongo=mongo,
        subscriptions=SUBSCRIPTIONS,
        read_models=models,
        reactions=reactions(app),
    )
