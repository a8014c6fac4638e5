"""The passport of a practice: what, why, how, with what, for how much, what came out."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from registry.domain.checks import (
    check_amount,
    check_currency,
    check_number,
    check_text,
    invalid,
)

TEXT_SECTIONS = ("what", "why", "how", "with_what", "sustainability", "scalability")
SECTIONS = (
    "what",
    "why",
    "how",
    "with_what",
    "cost",
    "result",
    "effects",
    "sustainability",
    "scalability",
)
EFFECTS = ("social", "economic", "political")
MAX_INDICATORS = 50

Content = dict[str, Any]


def check_section(section: str, content: Mapping[str, Any]) -> Content:
    if section in TEXT_SECTIONS:
        return {"text": check_text(f"passport section {section}", str(content.get("text", "")))}
    if section == "cost":
        return {
            "amount": check_amount("cost amount", str(content.get("amount", "")), allow_zero=True),
            "currency": check_currency("cost currency", str(content.get("currency", ""))),
        }
    if section == "result":
        return {"indicators": check_indicators(content.get("indicators", ()))}
    if section == "effects":
        return {
            effect: check_text(f"{effect} effect", str(content.get(effect, "")))
            for effect in EFFECTS
        }
    msg = f"passport section {section!r} is not one of: {', '.join(SECTIONS)}"
    raise invalid(msg)


def check_indicators(indicators: Any) -> list[dict[str, str]]:  # noqa: ANN401  # decoded input
    checked: list[dict[str, str]] = []
    for number, indicator in enumerate(indicators, start=1):
        label = f"result indicator #{number}"
        actual = str(indicator.get("actual", "")).strip()
        checked.append(
            {
                "name": check_text(
                    f"{label} name", str(indicator.get("name", "")), minimum=1, maximum=300
                ),
                "unit": check_text(
                    f"{label} unit", str(indicator.get("unit", "")), minimum=1, maximum=50
                ),
                "baseline": check_number(f"{label} baseline", str(indicator.get("baseline", ""))),
                "target": check_number(f"{label} target", str(indicator.get("target", ""))),
                "actual": check_number(f"{label} actual", actual) if actual else "",
            }
        )
    if len(checked) > MAX_INDICATORS:
        msg = f"a result lists at most {MAX_INDICATORS} indicators"
        raise invalid(msg)
    names = [i["name"].casefold() for i in checked]
    if len(set(names)) != len(names):
        msg = "result indicators must have distinct names"
        raise invalid(msg)
    return checked


def is_empty(section: str, content: Content | None) -> bool:
    if content is None:
        return True
    if section in TEXT_SECTIONS:
        return not content["text"]
    if section == "result":
        return not content["indicators"]
    if section == "effects":
        return not any(content.values())
    return False


def render(section: str, content: Content | None) -> list[str]:
    if content is None:
        return []
    if section in TEXT_SECTIONS:
        return str(content["text"]).splitlines()
    if section == "cost":
        return [f"{content['amount']} {content['currency']}"]
    if section == "result":
        return [
            f"{i['name']} ({i['unit']}): baseline {i['baseline']}, target {i['target']}, "
            f"actual {i['actual'] or '-'}"
            for i in content["indicators"]
        ]
    return [f"{effect}: {content[effect]}" for effect in EFFECTS]


def diff(section: str, old: Content | None, new: Content | None, versions: tuple[int, int]) -> str:
    return "\n".join(
        difflib.unified_diff(
            render(section, old),
            render(section, new),
            fromfile=f"{section} v{versions[0]}",
            tofile=f"{section} v{versions[1]}",
            lineterm="",
        )
    )


def searchable_text(section: str, content: Content | None) -> str:
    return " ".join(render(section, content))
