"""How the scorecard page places kpi's evidence on records, and words the knock-outs."""

import uuid

from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2
from lmp_console.evidence import Activity, MonthRecords, Record, event_ids
from lmp_console.pages.scorecard import current_evaluation, knockout_reason
from lmp_kit.envelope import EVENT_ID_NAMESPACE

ACTIVITY_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "an activity"))


def activity(title, *, announced=True, released=True, reported=True, speakers=(), joint=False):  # noqa: PLR0913
    entry = registry_pb2.ActivityEntry(
        activity_id=ACTIVITY_ID if title == "Сессия" else str(uuid.uuid4()),
        title=title,
        announced=announced,
        press_released=released,
        reported=reported,
    )
    full = registry_pb2.Activity(
        activity_id=entry.activity_id,
        title=title,
        speakers=[registry_pb2.Person(person_id=s, name=s.title()) for s in speakers],
        joint_action=joint,
    )
    return Activity(entry, full)


def test_an_event_id_leads_to_the_record_whose_version_it_is():
    records = MonthRecords(city_id="sarov", month="2026-12")
    record = Record("activity", ACTIVITY_ID, "Сессия", "/cities/sarov/activities/x")
    records.place(record, versions=5)
    third = str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{ACTIVITY_ID}:3"))
    ballot = str(uuid.uuid4())
    assert records.linked([third, ballot, third]) == ([record], 1)
    assert list(event_ids("not-a-uuid")) == []


def test_k2_and_k8_name_each_activity_and_what_it_lacks():
    records = MonthRecords(city_id="sarov", month="2026-12")
    records.activities = [
        activity("Сессия"),
        activity("Акция", announced=False, reported=False),
        activity("Встреча", announced=False, released=False),
    ]
    card = kpi_pb2.Scorecard(city_id="sarov", month="2026-12")
    assert knockout_reason("K2", "failed", card, records, None) == (
        "без анонса или релиза: «Акция» (нет анонса); «Встреча» (нет анонса и релиза)"
    )
    assert knockout_reason("K8", "failed", card, records, None) == (
        "без отчёта (списка участников и фото): «Акция»"
    )


def test_k4_counts_distinct_speakers_against_the_policys_minimum():
    records = MonthRecords(city_id="sarov", month="2026-12")
    records.activities = [
        activity("Сессия", speakers=("anna", "boris")),
        activity("Акция", speakers=("anna", "vera")),
    ]
    policy = kpi_pb2.ScoringPolicy(version="2026.1", minimum_speakers=5)
    card = kpi_pb2.Scorecard(city_id="sarov", month="2026-12")
    reason = knockout_reason("K4", "failed", card, records, policy)
    assert reason == "разных спикеров за декабрь 2026: 3; нужно не менее 5"
    assert [name for name, _ in records.speakers] == ["Anna", "Boris", "Vera"]


def test_the_curators_knockouts_wait_for_the_curator():
    records = MonthRecords(city_id="sarov", month="2026-12")
    card = kpi_pb2.Scorecard(city_id="sarov", month="2026-12")
    assert "ждёт суждения куратора" in knockout_reason("K6", "pending", card, records, None)
    assert knockout_reason("K6", "failed", card, records, None).endswith("не используется")


def test_evaluating_again_starts_from_the_evaluation_on_record():
    card = kpi_pb2.Scorecard(
        curator="curator-sarov",
        conclusion="Хорошо",
        indicators=[kpi_pb2.Indicator(name="expert", attainment="0.8500")],
        knockouts=[
            kpi_pb2.KnockOut(code="K6", outcome="passed"),
            kpi_pb2.KnockOut(code="K7", outcome="failed"),
        ],
    )
    assert current_evaluation(card) == {
        "score": "0,85",
        "branding_used": "on",
        "methodology_followed": "",
        "conclusion": "Хорошо",
    }
    assert current_evaluation(kpi_pb2.Scorecard()) == {}
