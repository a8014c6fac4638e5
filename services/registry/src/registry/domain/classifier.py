"""The classifier of docs/domain.md: OMSU functions (rows) by improvement methods (columns)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from registry.domain.checks import invalid


class Function(StrEnum):
    INFRASTRUCTURE = "infrastructure"
    HEALTH = "health"
    SAFETY = "safety"
    EMPLOYMENT = "employment"
    EDUCATION = "education"
    CULTURE = "culture"
    SOCIAL = "social"
    ECOLOGY = "ecology"
    REGIONAL_REQUIREMENTS = "regional_requirements"


class Method(StrEnum):
    OWN_RESOURCES = "own_resources"
    INTERNAL_MECHANISMS = "internal_mechanisms"
    EXTERNAL_INTERACTION = "external_interaction"
    EXTERNAL_RESOURCES = "external_resources"


SUB_METHODS: Mapping[Method, tuple[str, ...]] = {
    Method.OWN_RESOURCES: (
        "finance_management",
        "property_management",
        "municipal_enterprises_management",
        "own_revenue_growth",
    ),
    Method.INTERNAL_MECHANISMS: (
        "staff_qualification",
        "automated_management_systems",
        "shorter_approval_times",
    ),
    Method.EXTERNAL_INTERACTION: ("business_conditions", "authority_openness"),
    Method.EXTERNAL_RESOURCES: (
        "co_financing_programmes",
        "donors",
        "public_private_partnership",
        "residents_funds",
    ),
}


def cell_key(function: str, method: str) -> str:
    return f"{function}:{method}"


def check_cells(cells: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    checked: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, cell in enumerate(cells, start=1):
        function = str(cell.get("function", ""))
        method = str(cell.get("method", ""))
        if function not in Function.__members__.values():
            msg = (
                f"classifier cell #{number}: unknown function {function!r}; "
                f"known: {', '.join(Function)}"
            )
            raise invalid(msg)
        if method not in Method.__members__.values():
            msg = (
                f"classifier cell #{number}: unknown method {method!r}; known: {', '.join(Method)}"
            )
            raise invalid(msg)
        allowed = SUB_METHODS[Method(method)]
        sub_methods = [str(s) for s in cell.get("sub_methods", ())]
        for sub_method in sub_methods:
            if sub_method not in allowed:
                msg = (
                    f"classifier cell #{number}: {sub_method!r} is not a sub-method of "
                    f"{method}; known: {', '.join(allowed)}"
                )
                raise invalid(msg)
        key = cell_key(function, method)
        if key in seen:
            msg = f"classifier cell {key} is listed twice"
            raise invalid(msg)
        seen.add(key)
        checked.append(
            {
                "function": function,
                "method": method,
                "sub_methods": sorted(set(sub_methods), key=allowed.index),
            }
        )
    return checked
