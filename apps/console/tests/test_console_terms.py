"""The console's formatting of months, figures and times, and its print stylesheet."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from lmp_console import terms
from lmp_console.templating import month_ru, points, ts
from starlette.exceptions import HTTPException

STATIC = Path(terms.__file__).parent / "static"


def test_months_read_in_russian():
    assert month_ru("2026-11") == "ноябрь 2026"
    assert month_ru("2027-01") == "январь 2027"
    assert month_ru("not a month") == "not a month"


def test_months_back_cross_the_year():
    assert terms.months_back("2027-02", 4) == ["2026-11", "2026-12", "2027-01", "2027-02"]


def test_a_bad_month_is_a_400_naming_the_format():
    with pytest.raises(HTTPException) as refused:
        terms.checked_month("2026-13")
    assert refused.value.status_code == 400
    assert "ГГГГ-ММ" in refused.value.detail


def test_timestamps_show_in_moscow_time_and_unset_as_a_dash():
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2026, 11, 3, 11, 5, tzinfo=UTC))
    assert ts(stamp) == "3 ноября 2026, 14:05"
    assert ts(Timestamp()) == "—"
    assert points(78.64) == "78,6"


def test_print_hides_navigation_and_forms_but_never_the_figures():
    css = (STATIC / "console.css").read_text(encoding="utf-8")
    print_rules = css.split("@media print", 1)[1]
    hidden = print_rules.split("{", 2)[1].split("display: none", 1)[0]
    assert "form" in hidden
    assert "nav" in hidden
    assert "data-live" not in hidden
    assert "#figures" not in hidden
