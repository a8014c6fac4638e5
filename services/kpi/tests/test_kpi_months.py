from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import grpc
import pytest
from kpi.projections import ProblemStatsProjection, month_of
from kpi.views import check_month
from lmp_kit.envelope import Envelope
from lmp_kit.errors import InvalidArgumentError


def registered_at(occurred_at):
    return Envelope(
        event_id=uuid4(),
        event_type="Problem.Registered",
        schema_version=1,
        service="registry",
        city_id="sarov",
        aggregate_id=uuid4(),
        aggregate_version=1,
        notification_id=1,
        occurred_at=occurred_at,
        traceparent="",
        payload={"title": "Broken street lights", "description": ""},
    )


@pytest.mark.parametrize("month", ["2026-11", "2026-01", "2026-12", "1999-10"])
def test_a_year_and_month_is_a_month(month):
    assert check_month(month) == month


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "November", "2026-1", "26-11", ""])
def test_anything_else_is_not_a_month(month):
    with pytest.raises(InvalidArgumentError) as raised:
        check_month(month)

    assert raised.value.message == f"month must be YYYY-MM (e.g. 2026-11), not {month!r}"
    assert raised.value.status == grpc.StatusCode.INVALID_ARGUMENT


def test_the_month_of_an_event_is_the_month_it_occurred_in():
    assert month_of(registered_at(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))) == "2026-11"
    assert month_of(registered_at(datetime(2026, 12, 1, 0, 0, tzinfo=UTC))) == "2026-12"


def test_the_month_of_an_event_read_back_from_json_is_unchanged():
    envelope = registered_at(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))

    assert month_of(Envelope.model_validate_json(envelope.to_json())) == "2026-11"


def test_the_month_of_an_event_is_counted_in_utc_whatever_its_offset():
    moscow = timezone(timedelta(hours=3))

    assert month_of(registered_at(datetime(2026, 12, 1, 1, 0, tzinfo=moscow))) == "2026-11"


def test_problem_stats_count_only_registered_problems():
    assert ProblemStatsProjection.event_types == frozenset({"Problem.Registered"})
