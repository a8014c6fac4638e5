from __future__ import annotations

from expertise.application import ExpertiseApplication
from expertise.main import build
from lmp_kit.settings import Settings

ENV = {"LMP_EVENT_STORE": "memory", "LMP_JWT_SECRET": "a-test-secret-that-is-long-enough-for-hs256"}


def test_expertise_builds_from_settings_with_an_empty_event_store():
    runtime = build(Settings.from_env("expertise", ENV))

    assert isinstance(runtime.app, ExpertiseApplication)
    assert runtime.settings.service == "expertise"
    assert not runtime.app.recorder.max_notification_id()
    runtime.app.close()
