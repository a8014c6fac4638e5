from __future__ import annotations

from lmp_kit.settings import Settings
from voting.application import VotingApplication
from voting.main import build

ENV = {"LMP_EVENT_STORE": "memory", "LMP_JWT_SECRET": "a-test-secret-that-is-long-enough-for-hs256"}


def test_voting_builds_from_settings_with_an_empty_event_store():
    runtime = build(Settings.from_env("voting", ENV))

    assert isinstance(runtime.app, VotingApplication)
    assert runtime.settings.service == "voting"
    assert not runtime.app.recorder.max_notification_id()
    runtime.close()
