from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from html import escape

from kpi.domain.policy import INDICATORS
from kpi.views import Ranked

BAR_WIDTH = 240
ROW_HEIGHT = 18
LABEL_WIDTH = 130


def month_csv(month: str, rows: Sequence[Ranked]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "month",
            "rank",
            "city_id",
            "status",
            "verdict",
            "total",
            *(f"{name}_points" for name in INDICATORS),
            "failed_knockouts",
            "policy_version",
        ]
    )
    for row in rows:
        card = row.card.scorecard
        writer.writerow(
            [
                month,
                row.rank,
                card.city_id,
                row.card.status,
                card.verdict,
                card.total,
                *(card.indicator(name).points for name in INDICATORS),
                " ".join(card.failed_knockouts),
                card.policy_version,
            ]
        )
    return out.getvalue().encode()


def city_chart(row: Ranked) -> str:
    """A horizontal bar per indicator: points reached against the indicator's weight."""
    card = row.card.scorecard
    height = ROW_HEIGHT * len(card.indicators) + 4
    width = LABEL_WIDTH + BAR_WIDTH + 70
    heaviest = max((i.weight for i in card.indicators), default=1) or 1
    bars = []
    for number, indicator in enumerate(card.indicators):
        y = number * ROW_HEIGHT + 2
        full = BAR_WIDTH * indicator.weight / heaviest
        reached = full * float(indicator.attainment)
        bars.append(
            f'<text x="0" y="{y + 12}" font-size="11">{escape(indicator.name)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{full:.1f}" height="14" fill="#e5e7eb"/>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{reached:.1f}" height="14" fill="#2563eb"/>'
            f'<text x="{LABEL_WIDTH + full + 4:.1f}" y="{y + 12}" font-size="11">'
            f"{indicator.points}/{indicator.weight}</text>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="indicators of {escape(card.city_id)}">{"".join(bars)}</svg>'
    )


def month_html(month: str, rows: Sequence[Ranked]) -> bytes:
    sections = []
    for row in rows:
        card = row.card.scorecard
        knockouts = "".join(
            f"<li><b>{k.code}</b> {escape(k.title)}: {k.outcome} — {escape(k.reason)}</li>"
            for k in card.knockouts
        )
        sections.append(
            f'<section class="city"><h2>#{row.rank} {escape(card.city_id)} — {card.total} '
            f"({card.verdict}, {row.card.status})</h2>{city_chart(row)}"
            f"<ul>{knockouts}</ul>"
            f"<p>Policy {escape(card.policy_version)}. Curator: "
            f"{escape(row.card.curator or '—')}. {escape(row.card.conclusion)}</p></section>"
        )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>KPI scorecards {month}</title><style>"
        "body{font-family:sans-serif;margin:2em}section{page-break-inside:avoid;"
        "border-bottom:1px solid #ccc;padding:1em 0}"
        "</style></head><body>"
        f"<h1>Best Municipal Practices — KPI scorecards for {month}</h1>"
        f"{''.join(sections)}</body></html>"
    ).encode()
