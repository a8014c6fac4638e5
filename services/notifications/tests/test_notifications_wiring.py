from __future__ import annotations

from lmp_kit.settings import Settings
from notifications.application import NotificationsApplication
from notifications.main import build

ENV = {"LMP_EVENT_STORE": "memory", "LMP_JWT_SECRET": "a-test-secret-that-is-long-enough-for-hs256"}


def test_notifications_builds_from_settings_with_an_empty_event_store():
    runtime = build(Settings.from_env("notifications", ENV))

    assert isinstance(runtime.app, NotificationsApplication)
    assert runtime.settings.service == "notifications"
    assert not runtime.app.recorder.max_notification_id()
    runtime.app.close()
