from __future__ import annotations

from lmp_kit.eventstore import event_store_env
from lmp_kit.runtime import ServiceRuntime
from lmp_kit.settings import Settings

from voting.application import VotingApplication


def build(settings: Settings) -> ServiceRuntime:
    return ServiceRuntime(
        settings=settings, app=VotingApplication(env=event_store_env(settings)), registrations=()
    )
