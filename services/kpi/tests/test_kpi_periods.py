from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from uuid import uuid4

import grpc
import pytest
from kpi.application import KpiApplication
from kpi.domain.periods import AWAITING_CURATOR, CLOSED, OPEN, KpiPeriod, month_end, status_of
from kpi.domain.policy import ScoringPolicy
from lmp_contracts.kpi import KpiPeriodSigned
from lmp_kit.auth import Principal
from lmp_kit.envelope import Envelope
from lmp_kit.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
DECEMBER = datetime(2026, 12, 3, tzinfo=UTC)
CURATOR = Principal("curator-1", frozenset({"curator"}), frozenset({"sarov"}), frozenset())
OFFICE = Principal("office", frozenset({"programme_office"}), frozenset({"*"}), frozenset())
CARD = {"total": "80.00", "verdict": "passed"}


@pytest.fixture
def app():
    application = KpiApplication(env=MEMORY, clock=lambda: DECEMBER)
    yield application
    application.close()


def events_of(app):
    return [
        n.topic.rpartition(":")[2]
        for n in app.recorder.select_notifications(start=None, limit=1000)
    ]


def evaluate(app, actor=CURATOR, month="2026-11", **changes):
    given = {
        "score": "0.8",
        "branding_used": True,
        "methodology_followed": True,
        "conclusion": "The city follows the methodology.",
    } | changes
    return app.evaluate(actor, "sarov", month, **given)


def sign(app, actor=CURATOR, month="2026-11"):
    basis = app.signing_basis("sarov", month)
    return app.sign(actor, "sarov", month, CARD, basis.version)


def test_a_month_is_open_until_it_ends_then_awaits_the_curator():
    assert month_end("2026-12") == datetime(2027, 1, 1, tzinfo=UTC)
    assert status_of("2026-12", closed=False, now=DECEMBER) == OPEN
    assert status_of("2026-11", closed=False, now=DECEMBER) == AWAITING_CURATOR
    assert status_of("2026-11", closed=True, now=DECEMBER) == CLOSED


def test_the_curator_evaluates_an_ended_month(app):
    period = evaluate(app)

    assert period.evaluation["score"] == "0.8"
    assert period.evaluation["curator"] == "curator-1"
    assert period.status(DECEMBER) == AWAITING_CURATOR
    assert events_of(app) == ["KpiPeriod.Opened", "KpiPeriod.Evaluated"]


def test_signing_closes_the_month_and_freezes_the_scorecard_in_the_event(app):
    evaluate(app)

    period = sign(app)

    assert period.status(DECEMBER) == CLOSED
    assert period.scorecard == CARD
    signed = app.mapper.to_domain_event(app.recorder.select_notifications(start=None, limit=10)[-1])
    assert signed.scorecard == CARD
    assert signed.curator == "curator-1"


def test_a_closed_month_refuses_a_new_evaluation(app):
    evaluate(app)
    sign(app)

    with pytest.raises(FailedPreconditionError, match="only an amendment with a reason"):
        evaluate(app, score="0.1")


def test_an_amendment_with_a_reason_reopens_a_closed_month(app):
    evaluate(app)
    sign(app)

    period = app.amend(CURATOR, "sarov", "2026-11", "A recognized fact arrived late")

    assert period.status(DECEMBER) == AWAITING_CURATOR
    assert period.amendments == [
        {"requested_by": "curator-1", "reason": "A recognized fact arrived late"}
    ]
    assert evaluate(app, score="0.9").evaluation["score"] == "0.9"
    assert sign(app).status(DECEMBER) == CLOSED


def test_an_amendment_needs_a_reason_and_a_closed_month(app):
    evaluate(app)
    sign(app)

    with pytest.raises(InvalidArgumentError, match="reason must be 1 to 2000"):
        app.amend(CURATOR, "sarov", "2026-11", "  ")
    app.amend(OFFICE, "sarov", "2026-11", "Correction")
    with pytest.raises(FailedPreconditionError, match="nothing to amend"):
        app.amend(CURATOR, "sarov", "2026-11", "Again")
    with pytest.raises(NotFoundError):
        app.amend(CURATOR, "sarov", "2026-10", "Never closed")


def test_an_open_month_cannot_be_evaluated_yet(app):
    with pytest.raises(FailedPreconditionError, match="still open"):
        evaluate(app, month="2026-12")

    assert events_of(app) == []


def test_signing_needs_an_evaluation(app):
    with pytest.raises(FailedPreconditionError, match="no evaluation yet"):
        sign(app)


def test_signing_refuses_when_the_evaluation_changed_meanwhile(app):
    evaluate(app)
    basis = app.signing_basis("sarov", "2026-11")
    evaluate(app, score="0.5")

    with pytest.raises(FailedPreconditionError, match="changed meanwhile"):
        app.sign(CURATOR, "sarov", "2026-11", CARD, basis.version)


def test_the_evaluation_names_its_event_for_the_evidence(app):
    evaluate(app)

    basis = app.signing_basis("sarov", "2026-11")

    assert basis.evaluation.event_id
    assert basis.version == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"score": "1.5"}, "score must be a decimal number in [0, 1]"),
        ({"score": "-0.1"}, "score must be a decimal number in [0, 1]"),
        ({"score": "high"}, "score must be a decimal number in [0, 1]"),
        ({"score": "NaN"}, "score must be a decimal number in [0, 1]"),
        ({"conclusion": ""}, "conclusion must be 1 to 10000 characters"),
    ],
)
def test_bad_evaluations_are_refused_and_record_nothing(app, changes, message):
    with pytest.raises(InvalidArgumentError) as raised:
        evaluate(app, **changes)

    assert message in raised.value.message
    assert raised.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert events_of(app) == []


def test_bad_month_or_city_is_refused(app):
    with pytest.raises(InvalidArgumentError, match="month must be YYYY-MM"):
        evaluate(app, month="2026-13")
    with pytest.raises(InvalidArgumentError, match="city slug"):
        app.evaluate(
            CURATOR,
            "Sarov!",
            "2026-11",
            score="1",
            branding_used=True,
            methodology_followed=True,
            conclusion="x",
        )


def test_the_programme_office_introduces_a_policy_for_a_programme_year(app):
    policy = ScoringPolicy(
        version="2027.1",
        year=2027,
        weights=MappingProxyType(
            {
                "packaged": 20,
                "voting": 20,
                "improvement": 30,
                "external_resources": 10,
                "expert": 20,
            }
        ),
    )

    app.introduce_policy(policy)

    assert app.policies() == [policy]
    with pytest.raises(AlreadyExistsError):
        app.introduce_policy(policy)


def test_the_programme_office_closes_the_current_months_reporting_early(app):
    early = app.close_reporting(OFFICE, "sarov", "2026-12", "Reporting ends before the holidays")

    assert early.status(DECEMBER) == AWAITING_CURATOR
    assert early.reporting_closed_by == "office"
    assert evaluate(app, month="2026-12").evaluation["score"] == "0.8"
    assert sign(app, month="2026-12").status(DECEMBER) == CLOSED
    assert events_of(app) == [
        "KpiPeriod.Opened",
        "KpiPeriod.ReportingClosed",
        "KpiPeriod.Evaluated",
        "KpiPeriod.Signed",
    ]
    assert app.amend(OFFICE, "sarov", "2026-12", "Late fact").status(DECEMBER) == AWAITING_CURATOR


@pytest.mark.parametrize(
    ("actor", "month", "reason", "refusal"),
    [
        (OFFICE, "2026-12", " ", (InvalidArgumentError, "reason must be 1 to 2000")),
        (OFFICE, "2027-01", "Holidays", (FailedPreconditionError, "has not begun")),
        (OFFICE, "2026-11", "Holidays", (FailedPreconditionError, "already closed")),
        (OFFICE, "2026-13", "Holidays", (InvalidArgumentError, "month")),
    ],
)
def test_closing_reporting_early_is_refused_clearly_and_records_nothing(
    app, actor, month, reason, refusal
):
    error, message = refusal
    with pytest.raises(error, match=message):
        app.close_reporting(actor, "sarov", month, reason)

    assert events_of(app) == []


def test_reporting_closes_early_once(app):
    app.close_reporting(OFFICE, "sarov", "2026-12", "Holidays")

    with pytest.raises(FailedPreconditionError, match="already closed \\(by office\\)"):
        app.close_reporting(OFFICE, "sarov", "2026-12", "Again")


V1_CARD = {
    "city_id": "sarov",
    "month": "2026-10",
    "policy_version": "2026.1",
    "total": "80.00",
    "verdict": "passed",
    "indicators": [
        {
            "name": "voting",
            "weight": 20,
            "achieved": 10,
            "target": 100,
            "attainment": "0.1000",
            "points": "2.00",
            "evidence": [],
            "note": "",
        }
    ],
    "knockouts": [],
}


def test_a_card_signed_before_the_voting_base_reads_back_with_an_empty_base():
    stored: dict[str, Any] = {"month": "2026-10", "curator": "curator-1", "scorecard": V1_CARD}
    KpiPeriod.Signed.upcast_v1_v2(stored)
    in_flight = Envelope(
        event_id=uuid4(),
        event_type="KpiPeriod.Signed",
        schema_version=1,
        service="kpi",
        city_id="sarov",
        aggregate_id=uuid4(),
        aggregate_version=3,
        notification_id=7,
        occurred_at=DECEMBER,
        traceparent="",
        payload={"month": "2026-10", "curator": "curator-1", "scorecard": V1_CARD},
    ).parse(KpiPeriodSigned)

    assert stored["scorecard"]["indicators"][0]["by_direction"] == []
    assert in_flight.scorecard.indicators[0].by_direction == []
    assert KpiPeriod.Signed.class_version == KpiPeriodSigned.schema_version == 2
