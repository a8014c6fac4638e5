"""What the demo prints (progress, vote results, scorecards, leaderboard, where to look next)
and the printable report it exports."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

from lmp.kpi.v1 import kpi_pb2
from lmp_kit.settings import SERVICES, Settings

from lmp_cli.demo.clients import TIMEOUT_S, Portals
from lmp_cli.demo.programme import DemoResult

T = TypeVar("T")


@dataclass
class Printer:
    out: TextIO = field(default_factory=lambda: sys.stdout)

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def stage(self, text: str) -> None:
        self.line(f"\n== {text}")

    def city(self, name: str, text: str) -> None:
        """One line of a stage about one city, the names in a column."""
        self.line(f"  {name:<14} {text}")

    def progress(self, label: str, items: Sequence[T], work: Callable[[T], Any]) -> list[Any]:
        """Run `work` over the items on a few threads, drawing a text progress bar (on a
        terminal; elsewhere, as in a log file, one line when done)."""
        total = len(items)
        results: list[Any] = [None] * total
        done = 0
        started = time.monotonic()
        live = self.out.isatty()
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = {pool.submit(work, item): n for n, item in enumerate(items)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                done += 1
                if live and (done == total or done % max(1, total // 40) == 0):
                    self.out.write(f"\r{self._bar(label, done, total)}")
                    self.out.flush()
        took = f" in {time.monotonic() - started:.1f} s"
        self.out.write(f"\r{self._bar(label, done, total)}{took}\n")
        self.out.flush()
        return results

    @staticmethod
    def _bar(label: str, done: int, total: int) -> str:
        width = 30
        filled = width * done // max(1, total)
        bar = "#" * filled + "." * (width - filled)
        return f"  {label:<38} [{bar}] {done}/{total}"


def print_results(printer: Printer, result: DemoResult, env: Mapping[str, str]) -> None:
    printer.stage("ranked vote results")
    for run in result.runs:
        for poll in (run.rating, run.problem_vote, run.evaluation_poll):
            if poll is None:
                continue
            printer.line(f"  {poll.title} ({poll.ballots_counted} ballots, {poll.method})")
            for entry in poll.results:
                printer.line(
                    f"    {entry.rank}. {entry.label:<44} score {entry.score:>6}  "
                    f"votes {entry.votes}{'  (tied)' if entry.tied else ''}"
                )
    for run in result.runs:
        print_scorecard(printer, run.city.name, result.scorecards[run.city.city_id])
    printer.stage(f"federation leaderboard {result.month}")
    for place in result.leaderboard.entries:
        card = place.scorecard
        failed = (
            f"  knock-outs: {', '.join(card.failed_knockouts)}" if card.failed_knockouts else ""
        )
        printer.line(f"  {place.rank}. {card.city_id:<14} {card.total:>6}  {card.verdict}{failed}")
    print_next_steps(printer, result, env)


def print_scorecard(printer: Printer, name: str, card: kpi_pb2.Scorecard) -> None:
    printer.stage(f"scorecard {name} {card.month}: {card.status}, policy {card.policy_version}")
    for indicator in card.indicators:
        printer.line(
            f"  {indicator.name:<20} {indicator.points:>6} / {indicator.weight:<3} "
            f"({indicator.achieved} of {indicator.target}) {indicator.note}"
        )
    for knockout in card.knockouts:
        evidence = f" [evidence: {', '.join(knockout.evidence[:3])}]" if knockout.evidence else ""
        reason = f": {knockout.reason}" if knockout.reason else ""
        printer.line(f"  {knockout.code} {knockout.outcome:<8} {knockout.title}{reason}{evidence}")
    printer.line(f"  total {card.total}, verdict {card.verdict}")


def print_next_steps(printer: Printer, result: DemoResult, env: Mapping[str, str]) -> None:
    printer.stage("where to look next")
    for service in SERVICES:
        endpoint = Settings.from_env(service, env).endpoint
        printer.line(f"  {service:<14} metrics http://127.0.0.1:{endpoint.metrics_port}/metrics")
    kpi = Settings.from_env("kpi", env).endpoint.grpc_target
    registry = Settings.from_env("registry", env).endpoint.grpc_target
    printer.line("  with the stack up (./lmp demo --keep-running, or ./lmp up then ./lmp demo):")
    printer.line("  TOKEN=$(./lmp token --role programme_office --all-cities)")
    printer.line(f'  grpcurl -plaintext -H "authorization: Bearer $TOKEN" {kpi} list')
    printer.line(
        f'  grpcurl -plaintext -H "authorization: Bearer $TOKEN" '
        f'-d \'{{"month": "{result.month}"}}\' {kpi} lmp.kpi.v1.KpiService/GetLeaderboard'
    )
    printer.line(
        f'  grpcurl -plaintext -H "authorization: Bearer $TOKEN" '
        f'-d \'{{"city_id": "sarov"}}\' {registry} lmp.registry.v1.RegistryService/GetCity'
    )
    if result.report is not None:
        printer.line(f"  printable report: {result.report}")


def export_report(api: Portals, month: str, data_dir: Path) -> Path:
    """The month's printable HTML report (kpi's ExportMonth), written into `data_dir`."""
    export = api.kpi.ExportMonth(
        kpi_pb2.ExportMonthRequest(month=month, format="html"),
        metadata=api.office(),
        timeout=TIMEOUT_S,
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    report = data_dir / (export.filename or f"lmp-{month}.html")
    report.write_bytes(export.content)
    return report
