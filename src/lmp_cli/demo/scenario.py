"""The programme cycle of one month, walked stage by stage through the public APIs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from lmp_cli.demo.clients import Portals
from lmp_cli.demo.implementation import planning_and_implementation
from lmp_cli.demo.output import Printer, export_report
from lmp_cli.demo.programme import CityRun, Dates, DemoResult, load_federation
from lmp_cli.demo.scorecards import close_the_month
from lmp_cli.demo.selection import selection_and_passports


def scenario(
    env: Mapping[str, str], *, residents: int, printer: Printer, data_dir: Path | None = None
) -> DemoResult:
    federation = load_federation()
    dates = Dates.now()
    month = dates.month
    api = Portals(env)
    try:
        runs = [CityRun(city, n) for n, city in enumerate(federation.cities)]
        printer.line(f"month {month}; populations: {federation.source} ({federation.source_url})")
        adopted = selection_and_passports(api, printer, runs, residents, dates)
        planning_and_implementation(api, printer, runs, residents, dates)
        scorecards, board = close_the_month(api, printer, runs, residents, month)
        report = export_report(api, month, data_dir) if data_dir is not None else None
        return DemoResult(month, runs, scorecards, board, report, adopted)
    finally:
        api.close()
