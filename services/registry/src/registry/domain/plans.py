"""The implementation plan of a practice, its monthly progress reports and the decisions on it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from registry.domain.checks import (
    check_amount,
    check_choice,
    check_currency,
    check_date,
    check_number,
    check_people,
    check_text,
    check_texts,
    invalid,
)

MILESTONE_STATUSES = ("planned", "in_progress", "done", "missed")
RESOURCE_KINDS = (
    "own_budget",
    "co_financing_programme",
    "donors",
    "public_private_partnership",
    "residents_funds",
)
DECISIONS = ("continue", "change_resources", "stop")
# The status of a proposal to change local regulations (НПА): the seed's "предложения по
# внесению изменений в НПА" are proposed, drafted as an act, then adopted or rejected.
REGULATION_STATUSES = ("proposed", "drafted", "adopted", "rejected")
REGULATION_FINAL = frozenset({"adopted", "rejected"})
MAX_MILESTONES = 200
MAX_PROPOSALS = 100

Plan = dict[str, Any]


def check_milestone(number: int, milestone: Mapping[str, Any]) -> dict[str, Any]:
    label = f"milestone #{number}"
    owners = check_people(f"{label} owner", [dict(milestone.get("owner") or {})])
    return {
        "number": number,
        "title": check_text(
            f"{label} title", str(milestone.get("title", "")), minimum=1, maximum=300
        ),
        "owner": owners[0],
        "due_date": check_date(f"{label} due_date", str(milestone.get("due_date", ""))),
        "status": check_choice(
            f"{label} status", str(milestone.get("status") or "planned"), MILESTONE_STATUSES
        ),
    }


def check_milestones(milestones: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    checked = [check_milestone(n, m) for n, m in enumerate(milestones, start=1)]
    if not checked:
        msg = "an implementation plan needs at least one milestone"
        raise invalid(msg)
    if len(checked) > MAX_MILESTONES:
        msg = f"an implementation plan lists at most {MAX_MILESTONES} milestones"
        raise invalid(msg)
    titles = [m["title"].casefold() for m in checked]
    if len(set(titles)) != len(titles):
        msg = "milestones must have distinct titles"
        raise invalid(msg)
    return checked


def check_resource_sources(sources: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    checked: list[dict[str, str]] = []
    for number, source in enumerate(sources, start=1):
        label = f"resource source #{number}"
        checked.append(
            {
                "kind": check_choice(f"{label} kind", str(source.get("kind", "")), RESOURCE_KINDS),
                "amount": check_amount(f"{label} amount", str(source.get("amount", ""))),
                "currency": check_currency(f"{label} currency", str(source.get("currency", ""))),
            }
        )
    if not checked:
        msg = "an implementation plan needs at least one resource source"
        raise invalid(msg)
    keys = [(s["kind"], s["currency"]) for s in checked]
    if len(set(keys)) != len(keys):
        msg = "each resource source kind is listed at most once per currency"
        raise invalid(msg)
    return checked


def check_proposals(proposals: Iterable[str]) -> list[str]:
    checked = check_texts("regulation-change proposal", proposals, maximum=2000)
    if len(checked) > MAX_PROPOSALS:
        msg = f"a plan lists at most {MAX_PROPOSALS} regulation-change proposals"
        raise invalid(msg)
    return checked


def check_report_values(
    values: Iterable[Mapping[str, Any]], indicators: list[dict[str, str]]
) -> list[dict[str, str]]:
    """One planned and one actual value per result indicator of the passport, in its order."""
    if not indicators:
        msg = "the passport has no result indicators to report on"
        raise invalid(msg)
    known = {i["name"].casefold(): i for i in indicators}
    given: dict[str, dict[str, str]] = {}
    for number, value in enumerate(values, start=1):
        name = str(value.get("indicator", "")).strip()
        indicator = known.get(name.casefold())
        if indicator is None:
            msg = (
                f"value #{number}: {name!r} is not a result indicator of the passport "
                f"(known: {', '.join(i['name'] for i in indicators)})"
            )
            raise invalid(msg)
        if name.casefold() in given:
            msg = f"indicator {indicator['name']!r} is reported twice"
            raise invalid(msg)
        given[name.casefold()] = {
            "indicator": indicator["name"],
            "unit": indicator["unit"],
            "planned": check_number(f"{indicator['name']} planned", str(value.get("planned", ""))),
            "actual": check_number(f"{indicator['name']} actual", str(value.get("actual", ""))),
        }
    missing = [i["name"] for i in indicators if i["name"].casefold() not in given]
    if missing:
        msg = f"a progress report covers every result indicator; missing: {', '.join(missing)}"
        raise invalid(msg)
    return [given[i["name"].casefold()] for i in indicators]
