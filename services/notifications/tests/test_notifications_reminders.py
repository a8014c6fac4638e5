from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lmp_kit.settings import SettingsError
from notifications.config import DeliverySettings
from notifications.reminders import CityFacts, due_reminders

SETTINGS = DeliverySettings()


def activity(held_on, speakers=(), **parts):
    return {
        "_id": f"a-{held_on}",
        "title": "Стратсессия",
        "held_on": held_on,
        "speakers": list(speakers),
        **{f"has_{p}": parts.get(p, True) for p in ("announcement", "press_release", "report")},
    }


def kinds(notices):
    return sorted((n.kind, n.data.get("criterion", n.data.get("month", ""))) for n in notices)


def good_city(**overrides):
    facts = CityFacts(
        "sarov",
        "Саров",
        city_problem_poll_months={"2026-11"},
        activities=[activity("2026-11-05", speakers=("p1", "p2", "p3", "p4", "p5"))],
        approved_passports=3,
    )
    for key, value in overrides.items():
        setattr(facts, key, value)
    return facts


def test_a_city_doing_everything_is_only_reminded_of_last_months_curator_evaluation():
    due = due_reminders(good_city(), datetime(2026, 11, 21, tzinfo=UTC), SETTINGS)

    assert kinds(due) == [("reminder_curator_evaluation", "2026-10")]


def test_no_city_problem_poll_by_day_20_is_a_reminder_but_not_before():
    city = good_city(city_problem_poll_months={"2026-10"})

    assert "reminder_city_problem_poll" not in {
        n.kind for n in due_reminders(city, datetime(2026, 11, 19, 23, tzinfo=UTC), SETTINGS)
    }
    assert ("reminder_city_problem_poll", "2026-11") in kinds(
        due_reminders(city, datetime(2026, 11, 20, tzinfo=UTC), SETTINGS)
    )


def test_fewer_than_5_speakers_or_3_passports_puts_a_knockout_at_risk():
    city = good_city(
        activities=[
            activity("2026-11-05", speakers=("p1", "p2")),
            activity("2026-10-30", ("p3", "p4", "p5")),
        ],
        approved_passports=2,
    )

    due = [
        n
        for n in due_reminders(city, datetime(2026, 11, 20, tzinfo=UTC), SETTINGS)
        if n.kind == "reminder_knockout_at_risk"
    ]

    assert sorted((n.data["criterion"], n.data["actual"], n.data["required"]) for n in due) == [
        ("K1", 2, 3),
        ("K4", 2, 5),
    ]


def test_an_activity_past_its_grace_days_without_release_or_report_is_a_reminder():
    city = good_city(
        activities=[
            *good_city().activities,
            activity("2026-11-18", press_release=False, report=False),
        ]
    )

    early = due_reminders(city, datetime(2026, 11, 19, tzinfo=UTC), SETTINGS)
    late = due_reminders(city, datetime(2026, 11, 20, tzinfo=UTC), SETTINGS)

    assert "reminder_activity_incomplete" not in {n.kind for n in early}
    [incomplete] = [n for n in late if n.kind == "reminder_activity_incomplete"]
    assert incomplete.data["missing"] == "пресс-релиз, отчёт"


def test_a_reminder_keeps_its_id_however_often_it_is_computed():
    city = good_city(city_problem_poll_months=set())

    first = due_reminders(city, datetime(2026, 11, 20, tzinfo=UTC), SETTINGS)
    later = due_reminders(city, datetime(2026, 11, 28, 15, tzinfo=UTC), SETTINGS)

    assert {n.event_id for n in first} == {n.event_id for n in later}


def test_delivery_settings_come_from_the_environment():
    settings = DeliverySettings.from_env(
        {"LMP_SMTP_PORT": "2525", "LMP_DELIVERY_MAX_ATTEMPTS": "3"}
    )

    assert (settings.smtp_port, settings.max_attempts, settings.smtp_host) == (2525, 3, "127.0.0.1")


@pytest.mark.parametrize(
    "env",
    [{"LMP_SMTP_PORT": "smtp"}, {"LMP_DELIVERY_MAX_ATTEMPTS": "0"}, {"LMP_REMINDER_DAY": "31"}],
)
def test_bad_delivery_settings_are_refused(env):
    with pytest.raises(SettingsError):
        DeliverySettings.from_env(env)
