from __future__ import annotations

from lmp.notifications.v1 import notifications_pb2
from lmp_kit.settings import Settings
from notifications.application import NotificationsApplication
from notifications.config import DeliverySettings
from notifications.main import build

ENV = {"LMP_EVENT_STORE": "memory", "LMP_JWT_SECRET": "a-test-secret-that-is-long-enough-for-hs256"}


def test_notifications_builds_from_settings_with_an_empty_event_store():
    runtime = build(Settings.from_env("notifications", ENV), DeliverySettings(smtp_port=2525))

    assert isinstance(runtime.app, NotificationsApplication)
    assert runtime.settings.service == "notifications"
    assert len(runtime.workers) == 4  # deliveries, reminders, gauges, end of the streams
    assert not runtime.app.recorder.max_notification_id()
    runtime.app.close()


def test_notifications_serves_its_api_and_consumes_every_publishing_service():
    runtime = build(Settings.from_env("notifications", ENV), DeliverySettings())

    assert [r.service_name for r in runtime.registrations] == [
        notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"].full_name
    ]
    assert {s.upstream for s in runtime.subscriptions} == {"registry", "voting", "expertise", "kpi"}
    runtime.app.close()
