from __future__ import annotations

from lmp.notifications.v1 import notifications_pb2
from lmp_kit.settings import Settings
from notifications.config import DeliverySettings
from notifications.main import build

ENV = {"LMP_EVENT_STORE": "memory", "LMP_JWT_SECRET": "a-test-secret-that-is-long-enough-for-hs256"}


def test_notifications_builds_from_settings_without_an_event_store():
    runtime = build(Settings.from_env("notifications", ENV), DeliverySettings(smtp_port=2525))

    assert runtime.app is None  # subscriptions and deliveries live in MongoDB only
    assert runtime.settings.service == "notifications"
    assert len(runtime.workers) == 4  # deliveries, reminders, gauges, end of the streams
    assert runtime.build_reactors() == []


def test_notifications_serves_its_api_and_consumes_every_publishing_service():
    runtime = build(Settings.from_env("notifications", ENV), DeliverySettings())

    assert [r.service_name for r in runtime.served()] == [
        notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"].full_name
    ]  # no EventLog: it records no events
    assert {s.upstream for s in runtime.subscriptions} == {"registry", "voting", "expertise", "kpi"}
