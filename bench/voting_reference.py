"""Voting end to end against the eventsourcing library's own pipeline, measured in one run.

The reference is what the library offers for the same work in one process: an application
(`Ballots`) saving one ballot aggregate per voter, its id a uuid5 of poll and voter (a second
ballot of the same voter conflicts), and a process application (`Tallies`) following it with
tracking, keeping the poll's tally as an aggregate; both on SQLite files (WAL), run by the
library's `SingleThreadedRunner` (each ballot counted before the next is cast) or
`MultiThreadedRunner` (the tally follows in its own thread), with the aggregate cache the
library's documentation recommends for a process application (`AGGREGATE_CACHE_MAXSIZE`).

Then, in the same run, bench/voting_throughput.py (the whole embedded stack: gRPC, the ballot
writer's group commit, relay, Kafka, the MongoDB live tally) for the same number of seconds,
and it prints ballots/s end to end for each and the ratio. The reference runs again after
ours, so that a change in the machine's other load shows as a difference between its two runs.

    uv run python bench/voting_reference.py [--duration S] [--runner single|multi|both]
                                            [-- voting_throughput.py options]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError
from eventsourcing.system import (
    MultiThreadedRunner,
    ProcessApplication,
    Runner,
    SingleThreadedRunner,
    System,
)

OPTIONS = ("a", "b", "c", "d")
POLL = "bench-poll"
CACHE_SIZE = "1000"
DRAIN_TIMEOUT_S = 120.0
OURS = ("--split", "--concurrency", "32")
TARGET_RATIO = 2.0


class Ballot(Aggregate):
    class Cast(Aggregate.Created):
        poll_id: str
        voter_id: str
        option_id: str

    @staticmethod
    def create_id(poll_id: str, voter_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/polls/{poll_id}/voters/{voter_id}")

    @event(Cast)
    def __init__(self, poll_id: str, voter_id: str, option_id: str) -> None:
        self.poll_id = poll_id
        self.voter_id = voter_id
        self.option_id = option_id


class Tally(Aggregate):
    @staticmethod
    def create_id(poll_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/polls/{poll_id}/tally")

    @event("Started")
    def __init__(self, poll_id: str) -> None:
        self.poll_id = poll_id
        self.counts: dict[str, int] = {}
        self.ballots = 0

    @event("Counted")
    def count(self, option_id: str) -> None:
        self.counts[option_id] = self.counts.get(option_id, 0) + 1
        self.ballots += 1


class AlreadyVotedError(Exception):
    pass


class Ballots(Application[UUID]):
    def cast(self, poll_id: str, voter_id: str, option_id: str) -> None:
        try:
            self.save(Ballot(poll_id, voter_id, option_id))
        except IntegrityError:
            raise AlreadyVotedError(voter_id) from None


class Tallies(ProcessApplication[UUID]):
    @singledispatchmethod
    def policy(self, domain_event: Any, processing_event: ProcessingEvent[UUID]) -> None:  # noqa: ANN401  # the library's signature
        """Other events: nothing to do."""

    @policy.register
    def _(self, domain_event: Ballot.Cast, processing_event: ProcessingEvent[UUID]) -> None:
        tally_id = Tally.create_id(domain_event.poll_id)
        try:
            tally: Tally = self.repository.get(tally_id)
        except AggregateNotFoundError:
            tally = Tally(domain_event.poll_id)
        tally.count(domain_event.option_id)
        processing_event.collect_events(tally)

    def counted(self, poll_id: str) -> int:
        try:
            tally: Tally = self.repository.get(Tally.create_id(poll_id))
        except AggregateNotFoundError:
            return 0
        return tally.ballots


def reference(runner_kind: str, duration: float, directory: Path) -> dict[str, Any]:
    """Ballots cast for `duration` seconds, then until the tally counts them all."""
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "BALLOTS_SQLITE_DBNAME": str(directory / f"{runner_kind}-ballots.sqlite"),
        "TALLIES_SQLITE_DBNAME": str(directory / f"{runner_kind}-tallies.sqlite"),
        "TALLIES_AGGREGATE_CACHE_MAXSIZE": CACHE_SIZE,
    }
    system = System(pipes=[[Ballots, Tallies]])
    runner: Runner[UUID] = (
        SingleThreadedRunner(system, env=env)
        if runner_kind == "single"
        else MultiThreadedRunner(system, env=env)
    )
    runner.start()
    try:
        ballots = runner.get(Ballots)
        tallies = runner.get(Tallies)
        refused = 0
        cast = 0
        cpu_started = time.process_time()
        started = time.monotonic()
        deadline = started + duration
        for number in itertools.count():
            if time.monotonic() >= deadline:
                break
            try:
                ballots.cast(POLL, f"resident-{number}", OPTIONS[number % len(OPTIONS)])
            except AlreadyVotedError:
                refused += 1
            else:
                cast += 1
        sent_s = time.monotonic() - started
        # A repeated voter is refused (the uuid5 id): one check that the rule holds here too.
        try:
            ballots.cast(POLL, "resident-0", OPTIONS[0])
        except AlreadyVotedError:
            refused += 1
        while tallies.counted(POLL) < cast and time.monotonic() < deadline + DRAIN_TIMEOUT_S:
            time.sleep(0.01)
        counted_s = time.monotonic() - started
        counted = tallies.counted(POLL)
        cpu = time.process_time() - cpu_started
    finally:
        runner.stop()
    return {
        "runner": runner_kind,
        "ballots": cast,
        "counted": counted,
        "second_ballot_refused": refused == 1,
        "seconds_sending": round(sent_s, 2),
        "seconds_until_all_counted": round(counted_s, 2),
        "ballots_per_s": round(counted / counted_s, 1),
        "cpu_percent_of_one_core": round(100 * cpu / counted_s),
    }


def ours(duration: float, extra: Sequence[str]) -> dict[str, Any]:
    """bench/voting_throughput.py in a process of its own; its last line is its figures."""
    command = [
        sys.executable,
        str(Path(__file__).with_name("voting_throughput.py")),
        "--duration",
        str(duration),
        *(extra or OURS),
    ]
    print("$", " ".join(command[1:]), flush=True)
    finished = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603  # our own script
    print(finished.stdout, end="", flush=True)
    figures: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    figures["ballots_per_s_end_to_end"] = round(
        figures["counted_live"] / figures["seconds_until_all_counted"], 1
    )
    return figures


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of casting, each")
    parser.add_argument("--runner", choices=("single", "multi", "both"), default="both")
    parser.add_argument("--skip-ours", action="store_true", help="only the reference")
    args, rest = parser.parse_known_args(argv)
    if rest and rest[0] == "--":
        rest = rest[1:]
    return args, rest


def main(argv: Sequence[str] | None = None) -> int:
    args, extra = parse_args(argv)
    kinds = ("single", "multi") if args.runner == "both" else (args.runner,)
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    results: dict[str, Any] = {"duration_s": args.duration, "reference_before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="lmp-voting-reference-") as temporary:
        directory = Path(temporary)
        for kind in kinds:
            result = reference(kind, args.duration, directory / "before")
            print(f"reference before, {kind}: {json.dumps(result)}", flush=True)
            results["reference_before"].append(result)
        if not args.skip_ours:
            results["ours"] = ours(args.duration, extra)
        for kind in kinds:
            result = reference(kind, args.duration, directory / "after")
            print(f"reference after, {kind}: {json.dumps(result)}", flush=True)
            results["after"].append(result)
    runs = [*results["reference_before"], *results["after"]]
    best = max(runs, key=lambda r: r["ballots_per_s"])
    results["reference_best_ballots_per_s"] = best["ballots_per_s"]
    results["reference_best_runner"] = best["runner"]
    print()
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for run in runs:
        print(
            f"reference ({run['runner']}-threaded runner): {run['ballots_per_s']:,.1f} ballots/s "
            f"end to end ({run['counted']:,} counted in {run['seconds_until_all_counted']} s, "
            f"{run['cpu_percent_of_one_core']} % of a core)"
        )
    if "ours" in results:
        mine = results["ours"]["ballots_per_s_end_to_end"]
        ratio = mine / best["ballots_per_s"]
        results["ratio"] = round(ratio, 2)
        print(
            f"ours (voting_throughput.py): {mine:,.1f} ballots/s end to end "
            f"({results['ours']['counted_live']:,} counted in "
            f"{results['ours']['seconds_until_all_counted']} s; accepted "
            f"{results['ours']['ballots_per_s']:,.1f}/s)"
        )
        verdict = "met" if ratio >= TARGET_RATIO else "not met"
        print(
            f"ratio to the best reference run: {ratio:.2f}x (target >= {TARGET_RATIO:.0f}x: "
            f"{verdict})"
        )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
