from __future__ import annotations

from decimal import Decimal

from kpi.domain.policy import DEFAULT_POLICY
from kpi.domain.scoring import Scorecard, score_month
from kpi.reports import month_csv, month_html
from kpi.views import MonthCard, months_between, ranked


def card(city, total, verdict):
    empty = score_month(
        city, "2026-10", facts=[], closures={}, evaluation=None, policy=DEFAULT_POLICY
    )
    scored = Scorecard(
        city_id=city,
        month="2026-10",
        policy_version=empty.policy_version,
        indicators=empty.indicators,
        knockouts=empty.knockouts,
        total=Decimal(total),
        verdict=verdict,
    )
    return MonthCard(scorecard=scored, status="awaiting_curator")


def test_a_month_failed_by_a_knock_out_ranks_below_passing_months_and_ties_share_a_rank():
    rows = ranked(
        [
            card("zarechny", "90.00", "failed"),
            card("sarov", "70.00", "passed"),
            card("seversk", "70.00", "pending"),
            card("novouralsk", "50.00", "passed"),
        ]
    )

    assert [(r.rank, r.card.scorecard.city_id) for r in rows] == [
        (1, "sarov"),
        (1, "seversk"),
        (3, "novouralsk"),
        (4, "zarechny"),
    ]


def test_the_csv_export_has_a_row_per_city_with_its_points_and_knock_outs():
    rows = ranked([card("sarov", "70.00", "failed")])

    lines = month_csv("2026-10", rows).decode().splitlines()

    header = (
        "month,rank,city_id,status,verdict,total,packaged_points,voting_points,"
        "improvement_points,external_resources_points,expert_points,failed_knockouts,"
        "policy_version"
    )
    row = (
        "2026-10,1,sarov,awaiting_curator,failed,70.00,0.00,0.00,0.00,0.00,0.00,K1 K3 K4 K5,2026.1"
    )
    assert lines == [header, row]


def test_the_html_report_draws_a_chart_per_city_and_escapes_text():
    rows = ranked([card("sarov", "70.00", "failed"), card("seversk", "10.00", "failed")])

    html = month_html("2026-10", rows).decode()

    assert html.count("<svg") == 2
    assert "#1 sarov" in html
    assert "K4</b>" in html


def test_history_months_run_across_a_year_end():
    assert months_between("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
