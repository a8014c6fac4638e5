"""One refresh of kpi's scorecard gauges against a real read model: the time to compute every
city's scorecard of a month, with the read code of the working tree and, in the same run,
with that of an earlier commit (`--before REV`, the module loaded from git), and whether the
two give the same scorecards.

    uv run python bench/kpi_gauges.py --uri mongodb://127.0.0.1:PORT/?directConnection=true \\
        --database lmp_kpi__g1 --month 2026-11 [--before f9c784b~1] [--rounds 2] [--json]

The database is an existing kpi generation (e.g. the one bench/rebuild_kpi.py left in its
--data-dir: start SecantusDB on its `stack/mongodb` with lmp_devstack.secantus.start_secantus).
Nothing is written to it, except the indexes the working tree's projections declare, created
first when missing (timed and printed): the code under test reads by them.

Each revision's reads should meet the indexes of that revision (a planner may pick any index
whose leading field fits). `--before-database DB` runs the earlier reads on another copy of the
same documents (rebuild_kpi.py keeps both generations: `lmp_kpi` and `lmp_kpi__g1`, equal by
digest), where `--before-index COLLECTION:FIELD,FIELD` (repeatable; default: f9c784b~1's two
indexes of voting's facts) become that collection's only secondary indexes.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from kpi import views
from kpi.consumers import SUBSCRIPTIONS
from kpi.projections import FactsProjection
from pymongo import ASCENDING, AsyncMongoClient

ROOT = Path(__file__).resolve().parent.parent
VIEWS = "services/kpi/src/kpi/views.py"


def views_at(revision: str, directory: Path) -> ModuleType:
    """kpi.views as it was at `revision`, importable beside the installed kpi package."""
    source = subprocess.run(  # noqa: S603  # git with fixed arguments but the revision
        ["git", "show", f"{revision}:{VIEWS}"],  # noqa: S607  # git from PATH
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = directory / "kpi_views_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("kpi_views_before", path)
    if spec is None or spec.loader is None:
        msg = f"cannot load {VIEWS} of {revision}"
        raise RuntimeError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


async def refresh(module: Any, db: Any, month: str, now: datetime) -> tuple[float, dict[str, Any]]:  # noqa: ANN401  # kpi.views of either revision
    """What kpi.metrics.refresh_gauges reads: every city's card of the month; seconds, cards."""
    started = time.monotonic()
    introduced = await module.policies(db)
    cards = {
        city: (await module.month_card(db, city, month, now, introduced)).scorecard
        for city in await module.cities(db)
    }
    return time.monotonic() - started, cards


BEFORE_INDEXES = (
    "kpi_voting_facts:city_id,month",
    "kpi_voting_facts:city_id,occurred_month",
)


async def only_indexes(db: Any, specs: Sequence[str]) -> None:  # noqa: ANN401  # pymongo's database
    """Each named collection's secondary indexes made exactly those of `specs`."""
    wanted: dict[str, list[list[tuple[str, int]]]] = {}
    for spec in specs:
        collection, _, fields = spec.partition(":")
        wanted.setdefault(collection, []).append([(f, ASCENDING) for f in fields.split(",")])
    for collection, indexes in wanted.items():
        keep = {"_".join(f"{f}_1" for f, _ in keys) for keys in indexes}
        for name in await db[collection].index_information():
            if name != "_id_" and name not in keep:
                await db[collection].drop_index(name)
        for keys in indexes:
            await db[collection].create_index(keys)


async def measure(  # noqa: PLR0913  # the run's parameters, each named
    uri: str,
    database: str,
    month: str,
    before: str,
    rounds: int,
    *,
    before_database: str | None = None,
    before_indexes: Sequence[str] = (),
) -> dict[str, Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    db = client[database]
    old_db = client[before_database] if before_database else db
    now = datetime.now(UTC)
    try:
        started = time.monotonic()
        for subscription in SUBSCRIPTIONS:
            for projection in subscription.projections:
                if isinstance(projection, FactsProjection):
                    await projection.prepare(db)
        if before_database:
            await only_indexes(old_db, before_indexes)
        indexes_s = time.monotonic() - started
        with tempfile.TemporaryDirectory() as directory:
            old = views_at(before, Path(directory))
            timings: dict[str, list[float]] = {"before": [], "now": []}
            cards: dict[str, dict[str, Any]] = {}
            for _ in range(rounds):  # alternating, so a drift of the server touches both
                for name, module, on in (("before", old, old_db), ("now", views, db)):
                    seconds, cards[name] = await refresh(module, on, month, now)
                    timings[name].append(seconds)
                    print(f"  {name:<6} {seconds:8.2f} s for {len(cards[name])} cities", flush=True)
    finally:
        await client.close()
    best = {name: min(found) for name, found in timings.items()}
    same = cards["before"] == cards["now"]
    return {
        "database": database,
        "before_database": before_database or database,
        "month": month,
        "before": before,
        "cities": len(cards["now"]),
        "index_creation_s": round(indexes_s, 1),
        "refresh_s_before": round(best["before"], 2),
        "refresh_s_now": round(best["now"], 2),
        "speedup": round(best["before"] / best["now"], 1),
        "same_scorecards": same,
        "cities_only_before": sorted(set(cards["before"]) - set(cards["now"])),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uri", required=True)
    parser.add_argument("--database", required=True, help="a kpi generation, e.g. lmp_kpi__g1")
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--before", default="f9c784b~1", help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before-database", default=None)
    parser.add_argument("--before-index", action="append", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    views.check_month(args.month)
    result = asyncio.run(
        measure(
            args.uri,
            args.database,
            args.month,
            args.before,
            args.rounds,
            before_database=args.before_database,
            before_indexes=args.before_index or BEFORE_INDEXES,
        )
    )
    print(
        f"{result['cities']} cities, {args.month}: {result['refresh_s_before']} s with "
        f"{args.before}'s reads, {result['refresh_s_now']} s now ({result['speedup']}x); "
        f"same scorecards: {result['same_scorecards']}"
    )
    if args.json:
        print(json.dumps(result, indent=2))
    return 0 if result["same_scorecards"] else 1


if __name__ == "__main__":
    sys.exit(main())
