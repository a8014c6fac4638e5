from __future__ import annotations

from lmp_kit.eventstore import event_store_env
from lmp_kit.registry_client import RegistryClient
from lmp_kit.runtime import ServiceRuntime, mongo_client, read_models, service_token
from lmp_kit.settings import Settings

from expertise.api import registrations
from expertise.application import ExpertiseApplication
from expertise.consumers import SUBSCRIPTIONS


def build(settings: Settings) -> ServiceRuntime:
    app = ExpertiseApplication(env=event_store_env(settings))
    mongo = mongo_client(settings)
    models = read_models(settings, mongo, SUBSCRIPTIONS)
    return ServiceRuntime(
        settings=settings,
        app=app,
        registrations=registrations(
            app,
            models.handle,
            RegistryClient(settings.endpoints["registry"].grpc_target, service_token(settings)),
        ),
        mongo=mongo,
        subscriptions=SUBSCRIPTIONS,
        read_models=models,
    )
