from __future__ import annotations

from lmp_kit.eventstore import event_store_env
from lmp_kit.runtime import ServiceRuntime
from lmp_kit.settings import Settings

from registry.api import registrations
from registry.application import RegistryApplication


def build(settings: Settings) -> ServiceRuntime:
    app = RegistryApplication(env=event_store_env(settings))
    return ServiceRuntime(settings=settings, app=app, registrations=registrations(app))
