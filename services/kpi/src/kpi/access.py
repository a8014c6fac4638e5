"""Who may call what in kpi (docs/decisions/0011-access-policy.md, 0006-kpi.md): the guard
checks this table before any handler.

Every kpi request names its city (`city_id`) and month rather than a record id, so the city
comes from the request; the scorecard of a city is anyone's of that city. Curators evaluate
and sign their cities' months; the programme office closes a city's reporting early, and
introduces the scoring policy of every city (a federation-wide command). The leaderboard and
its export compare every city: a caller sees its own cities' cards whole and the others'
figures only (views.outsider_view).
"""

from __future__ import annotations

from collections.abc import Mapping

from lmp.kpi.v1 import kpi_pb2
from lmp_kit.access import (
    ANY_ROLE,
    AccessPolicy,
    Federation,
    Filtered,
    InRequest,
    Rule,
    rule,
)

SERVICE_NAME = kpi_pb2.DESCRIPTOR.services_by_name["KpiService"].full_name
CURATOR = ("curator",)
OFFICE = ("programme_office",)
CITY = InRequest("city_id")
RANKING = Filtered(
    "every city's figures (rank, status, total, verdict, points, knock-out outcomes); "
    "evidence, notes, reasons, the curator's conclusion, signatures and amendments only "
    "of the caller's cities"
)

RULES: Mapping[str, Rule] = {
    "GetProblemStats": rule(ANY_ROLE, CITY),
    "ListProblemStats": rule(ANY_ROLE, CITY),
    "GetScorecard": rule(ANY_ROLE, CITY),
    "GetIndicatorHistory": rule(ANY_ROLE, CITY),
    "WatchScorecards": rule(ANY_ROLE, CITY),
    "EvaluateMonth": rule(CURATOR, CITY, note="only after the month ended or closed early"),
    "SignMonth": rule(CURATOR, CITY, note="the evaluation signed is the one the card shows"),
    "CloseReporting": rule(OFFICE, CITY, note="only the current month, once"),
    "AmendMonth": rule((*CURATOR, *OFFICE), CITY, note="a closed month, with a reason"),
    "IntroducePolicy": rule(
        OFFICE, Federation(all_cities=True), note="a policy scores every city's months"
    ),
    "ListPolicies": rule(ANY_ROLE, Federation(all_cities=False)),
    "GetLeaderboard": rule(ANY_ROLE, RANKING),
    "ExportMonth": rule(ANY_ROLE, RANKING),
}


def policy() -> AccessPolicy:
    """kpi's table; its requests name no record, so there is nothing to locate."""
    return AccessPolicy(SERVICE_NAME, RULES)
