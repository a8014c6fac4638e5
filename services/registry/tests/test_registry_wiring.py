from __future__ import annotations

from lmp_kit.settings import Settings
from registry.application import RegistryApplication
from registry.main import build

ENV = {"LMP_EVENT_STORE": "memory", "LMP_JWT_SECRET": "a-test-secret-that-is-long-enough-for-hs256"}


def test_registry_builds_from_settings_and_serves_the_registry_api():
    runtime = build(Settings.from_env("registry", ENV))

    assert isinstance(runtime.app, RegistryApplication)
    assert [r.service_name for r in runtime.registrations] == ["lmp.registry.v1.RegistryService"]
    assert not runtime.app.recorder.max_notification_id()
    runtime.app.register_problem("sarov", "Broken street lights", "")
    assert runtime.app.recorder.max_notification_id() == 1
    runtime.close()
