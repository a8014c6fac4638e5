"""A month of the programme for the browser tests, driven through the public gRPC APIs by the
demo's own stages (src/lmp_cli/demo): two cities of the demo's federation go through stages 1-7
(working groups, problems, practices, the council's reviews, residents' votes, passports,
plans, activities with speakers, improvement facts, external resources, evaluations); the
programme office then ends the month's reporting for both, so each city's curator has a
month awaiting evaluation, which the browser test evaluates and signs."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2

from lmp_cli.demo import Printer, load_federation
from lmp_cli.demo.clients import TIMEOUT_S, Portals, eventually
from lmp_cli.demo.implementation import planning_and_implementation
from lmp_cli.demo.programme import CityData, CityRun, Dates
from lmp_cli.demo.scorecards import settled
from lmp_cli.demo.selection import selection_and_passports

if TYPE_CHECKING:
    from collections.abc import Mapping

# Residents voting in each of the month's polls: enough for ranked results, few for speed.
RESIDENTS = 6


@dataclass(frozen=True)
class Programme:
    month: str
    city_a: CityData
    city_b: CityData
    # Each city's scorecard as the seed left it (reporting closed, awaiting the curator).
    scorecards: dict[str, kpi_pb2.Scorecard]
    # Each city's activities of the month (the strategic session, the charity event, the
    # council's sitting).
    activities: dict[str, list[registry_pb2.ActivityEntry]]
    log: str

    def card(self, city_id: str) -> kpi_pb2.Scorecard:
        return self.scorecards[city_id]

    def session(self, city_id: str) -> str:
        """The id of the city's strategic session, whose speakers K4 counts."""
        return next(
            a.activity_id for a in self.activities[city_id] if a.kind == "strategic_session"
        )


def first_city() -> CityData:
    return load_federation().cities[0]


def seed(env: Mapping[str, str]) -> Programme:
    first, second = load_federation().cities[:2]
    dates = Dates.now()
    out = io.StringIO()
    printer = Printer(out)
    api = Portals(env)
    try:
        runs = [CityRun(city, n) for n, city in enumerate((first, second))]
        selection_and_passports(api, printer, runs, RESIDENTS, dates)
        planning_and_implementation(api, printer, runs, RESIDENTS, dates)
        cards, activities = {}, {}
        for run in runs:
            cid = run.city.city_id
            eventually(
                partial(scorecard, api, cid, dates.month),
                lambda card: settled(card, RESIDENTS),
                f"the scorecard of {cid}",
            )
            cards[cid] = api.kpi.CloseReporting(
                kpi_pb2.CloseReportingRequest(
                    city_id=cid, month=dates.month, reason="Браузерный тест: отчётность закрыта"
                ),
                metadata=api.office(),
                timeout=TIMEOUT_S,
            )
            # The command answers from the month's aggregate; the curator's pages read kpi's
            # read model, which follows kpi's own events a moment later.
            eventually(
                partial(scorecard, api, cid, dates.month),
                lambda card: card.status == "awaiting_curator",
                f"the scorecard of {cid} awaiting the curator",
            )
            activities[cid] = list(
                api.registry.ListActivities(
                    registry_pb2.ListActivitiesRequest(city_id=cid, month=dates.month),
                    metadata=api.working_group(cid),
                    timeout=TIMEOUT_S,
                ).activities
            )
        return Programme(dates.month, first, second, cards, activities, out.getvalue())
    finally:
        api.close()


def scorecard(api: Portals, city_id: str, month: str) -> kpi_pb2.Scorecard:
    return api.kpi.GetScorecard(
        kpi_pb2.GetScorecardRequest(city_id=city_id, month=month),
        metadata=api.working_group(city_id),
        timeout=TIMEOUT_S,
    )
