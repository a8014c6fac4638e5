from __future__ import annotations

from expertise.application import ExpertiseApplication
from expertise.main import build
from lmp_kit.settings import Settings

ENV = {"LMP_EVENT_STORE": "memory", "LMP_JWT_SECRET": "a-test-secret-that-is-long-enough-for-hs256"}


def test_expertise_builds_from_settings_and_serves_the_expertise_api():
    runtime = build(Settings.from_env("expertise", ENV))

    assert isinstance(runtime.app, ExpertiseApplication)
    assert runtime.settings.service == "expertise"
    assert [r.service_name for r in runtime.registrations] == ["lmp.expertise.v1.ExpertiseService"]
    assert not runtime.app.recorder.max_notification_id()
    runtime.close()


def test_expertise_follows_registry_practices_and_its_own_reviews_and_sessions():
    runtime = build(Settings.from_env("expertise", ENV))

    subscribed = {
        s.upstream: set().union(*(p.event_types for p in s.projections))
        for s in runtime.subscriptions
    }

    assert subscribed == {
        "registry": {"Practice.Registered", "Practice.PeopleSet", "Practice.StatusChanged"},
        "expertise": {
            "Review.Opened",
            "Review.ExpertRecused",
            "Review.Scored",
            "Review.Assessed",
            "Review.Concluded",
            "CouncilSession.Scheduled",
            "CouncilSession.Held",
        },
    }
    runtime.close()
