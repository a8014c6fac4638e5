# ruff: noqa: RUF001  # Russian texts are Cyrillic on purpose
from __future__ import annotations

import hashlib
import hmac
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from notifications.domain.kinds import KINDS
from notifications.domain.messages import (
    Notice,
    backoff_delay,
    delivery_id,
    signature,
    single_line,
)
from notifications.projections import SCORECARD_ACTIONS

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SAMPLES: dict[str, dict[str, Any]] = {
    "scorecard_changed": {
        "month": "2026-11",
        "action": "куратор подписал и закрыл месяц",
        "curator": "curator-sarov",
        "reason": "",
    },
    "practice_approved_for_vote": {"practice_title": "Светлые дворы"},
    "passport_approved": {"practice_title": "Светлые дворы", "version": 2},
    "activity_registered": {"title": "Стратсессия", "held_on": "2026-12-03"},
    "poll_opened": {"poll_title": "Что чинить первым", "opens_at": "2026-11-27 09:00"},
    "poll_closed": {
        "poll_title": "Что чинить первым",
        "distinct_voters": 412,
        "turnout": "12.50",
        "leader": "Освещение дворов",
    },
    "review_assigned": {"practice_title": "Светлые дворы", "round": "первичная"},
    "review_concluded": {
        "practice_title": "Светлые дворы",
        "round": "первичная",
        "verdict": "допущена к голосованию",
        "rationale": "",
    },
    "reminder_city_problem_poll": {"month": "2026-11", "day": 20},
    "reminder_activity_incomplete": {
        "title": "Стратсессия",
        "held_on": "2026-11-03",
        "missing": "пресс-релиз, отчёт",
    },
    "reminder_curator_evaluation": {"month": "2026-10"},
    "reminder_knockout_at_risk": {
        "month": "2026-11",
        "criterion": "K4",
        "criterion_text": "меньше 5 спикеров",
        "actual": 3,
        "required": 5,
    },
}


def test_every_kind_has_a_sample_here():
    assert set(SAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_kind_reads_as_russian_text_naming_the_city(kind):
    notice = Notice("e1", "sarov", kind, NOW, {"city_name": "Саров", **SAMPLES[kind]})

    subject, body = notice.render()

    assert subject.strip()
    assert body.strip()
    assert "{{" not in subject + body
    assert any("а" <= c <= "я" for c in body)
    if kind != "review_assigned":
        assert subject.startswith("Саров: ")


def test_the_poll_result_names_the_turnout_and_the_leader():
    _, body = Notice("e1", "sarov", "poll_closed", NOW, SAMPLES["poll_closed"]).render()

    assert body == (
        "Голосование «Что чинить первым» завершено.\n"
        "Проголосовали: 412 (явка 12.50 %).\nПервое место: «Освещение дворов»."
    )


def test_a_signed_month_tells_who_signed_it():
    _, body = Notice("e1", "sarov", "scorecard_changed", NOW, SAMPLES["scorecard_changed"]).render()

    assert body == (
        "Показатели города за 2026-11: куратор подписал и закрыл месяц.\n"
        "Куратор: curator-sarov.\n"
        "Карточка показателей доступна в сервисе KPI."
    )


def test_a_month_closed_early_tells_the_curator_why():
    data = {
        "month": "2026-12",
        "action": SCORECARD_ACTIONS["KpiPeriod.ReportingClosed"],
        "curator": "",
        "reason": "Отчёт за декабрь до праздников",
        "city_name": "Саров",
    }

    subject, body = Notice("e1", "sarov", "scorecard_changed", NOW, data).render()

    assert subject == (
        "Саров: показатели за 2026-12 — отчётный период закрыт досрочно, месяц ждёт оценки куратора"
    )
    assert "Причина: Отчёт за декабрь до праздников" in body


def test_a_city_without_a_known_name_is_called_by_its_id():
    subject, _ = Notice(
        "e1", "sarov", "reminder_curator_evaluation", NOW, {"month": "2026-10"}
    ).render()

    assert subject == "sarov: ожидается оценка куратора за 2026-10"


def test_a_delivery_id_is_stable_and_distinct_per_event_subscription_and_channel():
    ids = {
        delivery_id(e, s, c) for e in ("e1", "e2") for s in ("s1", "s2") for c in ("inbox", "email")
    }

    assert len(ids) == 8
    assert delivery_id("e1", "s1", "inbox") == delivery_id("e1", "s1", "inbox")


def test_the_signature_is_the_hmac_of_timestamp_dot_body():
    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()

    assert signature("k", "1700000000", b"{}") == f"sha256={expected}"


def test_backoff_is_full_jitter_below_a_doubling_ceiling_and_the_cap():
    rng = random.Random(7)  # noqa: S311  # jitter is not a secret; a seed makes it repeatable
    for attempts, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (10, 30.0)):
        delays = [backoff_delay(attempts, 1.0, 30.0, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8
        assert min(delays) < ceiling * 0.2


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("Стратсессия\r\nBcc: all@example.org", "Стратсессия Bcc: all@example.org"),
        ("a\x00b\x1b[31mc", "a b [31mc"),
        ("абв\u202eгде\u2066ж\u2069", "абв где ж "),
        ("line\u2028sep\x85next\x7f", "line sep next "),
        ("Совет жителей «Двор» — 2026", "Совет жителей «Двор» — 2026"),
    ],
)
def test_a_header_text_has_each_run_of_control_characters_replaced_by_one_space(text, safe):
    assert single_line(text) == safe
