"""`lmp rebuild kpi` over a federation's year, against MongoDB's raw bulk insert, in one run.

1. Writes --cities x --months of events straight into registry's and voting's SQLite event
   stores through their eventsourcing applications (the services' own aggregates and
   application classes, `save` in batches; the event clock set to a moment of each month):
   cities, problems registered and some solved with external resources, improvement facts
   recorded and recognized, external-resource cases; per city-month --polls city-problem
   polls, each with --ballots ballots and its Created, Opened, Closing and Closed events.
2. Starts the embedded stack (Tansu, SecantusDB, registry, voting, kpi as `lmp serve`) on it
   and waits until kpi's live consumers applied every event (catch-up from ReadEvents);
   reads every city-month's scorecard (GetScorecard) from the live generation.
3. Runs `lmp rebuild kpi` (lmp_cli.rebuild, in this process, as the command does): a new
   generation through the real projections and TrackedConsumers, verified by a digest per
   collection and switched. Times it: events/s.
4. Reads the scorecards again and compares them with the live ones, one by one (--scorecards
   of them: every month of cities spread over the federation; the rebuild itself compared
   every collection of the read model by digest before it switched).
5. Inserts the rebuilt generation's read-model documents into a scratch database of the same
   SecantusDB with insert_many (1,000 a call, unordered), --raw-runs times (3), the fastest
   counting: the server's raw bulk-insert rate for the same documents, and the rebuild's rate
   as a share of it (the target's figure); then as often into collections given the read model's
   secondary indexes first (the same documents as the read model must keep them), and the
   share of that.

    uv run python bench/rebuild_kpi.py [--cities N] [--months N] [--ballots N] [--json]

The issue's size is 1M events (--ballots 420 --polls 2 --raw-runs 1 gives ~1.03M); the
default (~35k events) takes about 4 minutes on this 2-core machine, most of it kpi's live
consumers catching up before the rebuild can start (a rebuild never gets ahead of the live
generation).
MONGODB_URI / KAFKA_BOOTSTRAP_SERVERS are not used: the stack is always the embedded one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import grpc
from eventsourcing.domain import Aggregate, CanCreateTimestamp
from lmp.kpi.v1 import kpi_pb2, kpi_pb2_grpc
from lmp_kit.auth import issuer_of
from lmp_kit.eventstore import event_store_env
from lmp_kit.readmodels import ReadModels
from lmp_kit.runtime import mongo_client, read_models
from lmp_kit.settings import Settings
from prometheus_client.parser import text_string_to_metric_families
from registry.application import RegistryApplication
from registry.domain.cities import City
from registry.domain.facts import ExternalResourceCase, ImprovementFact
from registry.domain.problems import Problem
from voting.application import VotingApplication
from voting.domain.ballots import Ballot
from voting.domain.polls import OptionSpec, Poll, PollSpec

from lmp_cli import rebuild as rebuild_command
from lmp_cli.stack import StopSignals, embedded_stack, isolated_env

YEAR = 2026
SERVICES = ("registry", "voting", "kpi")
SAVE_BATCH = 500
INSERT_BATCH = 1_000
CATCH_UP_TIMEOUT_S = 1_800.0  # --live-timeout's default
QUIET_S = 3.0  # seconds without a delivery to any consumer: the backlog is through
TARGET_SHARE = 0.5
ISSUE_EVENTS = 1_000_000
TODAY = date(YEAR + 1, 1, 15)
SCORECARDS_IN_FLIGHT = 4
SCORECARD_ATTEMPTS = 10


# ---------------------------------------------------------------------------------------------
# The events, through the services' own applications


class Clock:
    """The moment the next event is stamped with (the library asks `create_timestamp`)."""

    def __init__(self) -> None:
        self.now = datetime(YEAR, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Written:
    registry: int = 0
    voting: int = 0
    seconds: float = 0.0


class Writer:
    """Saves aggregates in batches of SAVE_BATCH, each batch one transaction."""

    def __init__(self, app: RegistryApplication | VotingApplication) -> None:
        self.app = app
        self.pending: list[Aggregate] = []
        self.events = 0

    def add(self, *aggregates: Aggregate) -> None:
        self.pending.extend(aggregates)
        if len(self.pending) >= SAVE_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.events += len(self.app.save_directly(*self.pending))
            self.pending = []


def city_ids(count: int) -> list[str]:
    return [f"bench-city-{number:03d}" for number in range(count)]


def generate(env: dict[str, str], options: Options) -> Written:
    rng = random.Random(options.seed)  # noqa: S311  # reproducible data, not secrets
    clock = Clock()
    started = time.monotonic()
    registry_app = RegistryApplication(env=event_store_env(Settings.from_env("registry", env)))
    voting_app = VotingApplication(env=event_store_env(Settings.from_env("voting", env)))
    registry, voting = Writer(registry_app), Writer(voting_app)
    try:
        with mock.patch.object(CanCreateTimestamp, "create_timestamp", staticmethod(clock)):
            for city_id in city_ids(options.cities):
                clock.now = datetime(YEAR, 1, 1, tzinfo=UTC)
                registry.add(
                    City.register(
                        city_id,
                        name=f"City {city_id}",
                        region="Bench region",
                        kind="atom_city",
                        population=80_000,
                        voter_target=options.ballots,
                    )
                )
                for month in range(1, options.months + 1):
                    city_month(rng, clock, city_id, month, options, registry, voting)
        registry.flush()
        voting.flush()
    finally:
        registry_app.close()
        voting_app.close()
    return Written(registry.events, voting.events, time.monotonic() - started)


def city_month(  # noqa: PLR0913, PLR0917  # one city-month's parts, each named
    rng: random.Random,
    clock: Clock,
    city_id: str,
    month: int,
    options: Options,
    registry: Writer,
    voting: Writer,
) -> None:
    label = f"{YEAR}-{month:02d}"

    def at(day: int) -> datetime:
        clock.now = datetime(YEAR, month, day, rng.randint(8, 20), tzinfo=UTC)
        return clock.now

    problems = []
    for number in range(options.problems):
        at(rng.randint(1, 10))
        problem = Problem.register(city_id, f"Problem {label} {number}", "Dark courtyards")
        if rng.random() < 0.3:  # noqa: PLR2004  # share solved within the month
            at(rng.randint(11, 20))
            problem.mark_solved(with_external_resources=rng.random() < 0.5)  # noqa: PLR2004  # half with external money
        problems.append(problem)
    registry.add(*problems)
    for number in range(rng.randint(1, 3)):
        at(rng.randint(1, 27))
        fact = ImprovementFact.record(
            city_id, label, f"Improvement {number}", "Lamps", ["https://example.org"], today=TODAY
        )
        fact.recognize()
        registry.add(fact)
    at(rng.randint(1, 27))
    registry.add(
        ExternalResourceCase.record(
            city_id,
            month=label,
            title="Grant for the lamps",
            source_kind="donors",
            amount="100000",
            currency="RUB",
            partner="A fund",
            problem_id=str(problems[0].id) if problems else None,
            today=TODAY,
        )
    )
    for number in range(options.polls):
        poll_on(rng, at, city_id, f"{label}-{number}", problems, options, voting)


def poll_on(  # noqa: PLR0913, PLR0917  # one poll's parts, each named
    rng: random.Random,
    at: Any,  # noqa: ANN401  # the city-month's clock setter
    city_id: str,
    key: str,
    problems: Sequence[Problem],
    options: Options,
    voting: Writer,
) -> None:
    opens = at(12)
    choices = [OptionSpec("problem", str(p.id), p.title) for p in problems[:3]]
    poll = Poll.create(
        PollSpec(
            city_id=city_id,
            kind="city_problem",
            title=f"Which problem first, {key}?",
            description="",
            method="single_choice",
            options=choices,
            opens_at=opens,
            request_id=f"bench-{key}",
        ),
        opens,
    )
    # The log in the order a real poll has: Created and Opened, then its ballots, then Closing
    # and Closed (a ballot before its poll is what voting's tally cannot apply: it would fail
    # every catch-up page that ends between the two).
    voting.add(poll)
    voting.flush()
    option_ids = poll.option_ids
    votes = dict.fromkeys(option_ids, 0)
    ballots = []
    for voter in rng.sample(range(options.ballots * 4), options.ballots):
        now = at(rng.randint(12, 25))
        option = rng.choice(option_ids)
        votes[option] += 1
        ballots.append(
            Ballot.cast(
                city_id=city_id,
                poll_id=poll.id,
                pseudonym=f"{voter:064x}",
                choices={option: 1},
                nonce="bench",
                now=now,
            )
        )
    voting.add(*ballots)
    closing = at(26)
    poll.begin_closing(closing)
    ranked = sorted(option_ids, key=lambda o: (-votes[o], o))
    poll.close(
        closing + timedelta(minutes=1),
        results=[
            {
                "option_id": option,
                "ref_kind": "problem",
                "ref_id": next(o["ref_id"] for o in poll.options if o["option_id"] == option),
                "rank": rank,
                "score": str(votes[option]),
                "votes": votes[option],
                "tied": False,
            }
            for rank, option in enumerate(ranked, start=1)
        ],
        ballots_counted=len(ballots),
        digest="bench",
        counted_up_to=0,
    )
    voting.add(poll)


# ---------------------------------------------------------------------------------------------
# The stack: live catch-up, scorecards


def metrics(port: int) -> dict[tuple[str, str], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode("utf-8")
    values: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, sample.labels.get("upstream", ""))
            values[key] = values.get(key, 0.0) + float(sample.value)
    return values


def heads(env: dict[str, str]) -> dict[str, int]:
    found = {}
    for service in ("registry", "voting"):
        app = RegistryApplication(env=event_store_env(Settings.from_env(service, env)))
        try:
            found[service] = app.recorder.max_notification_id() or 0
        finally:
            app.close()
    return found


async def wait_live(env: dict[str, str], head: dict[str, int], timeout_s: float) -> float:
    """Until kpi's live consumers' positions reach the heads; seconds taken."""
    port = Settings.from_env("kpi", env).endpoint.metrics_port
    started = time.monotonic()
    last = 0.0
    while time.monotonic() - started < timeout_s:
        values = await asyncio.to_thread(metrics, port)
        positions = {u: values.get(("lmp_consumer_position", u), 0.0) for u in head}
        if all(positions[u] >= head[u] for u in head):
            return time.monotonic() - started
        if time.monotonic() - last > 10:  # noqa: PLR2004  # a line every 10 s
            last = time.monotonic()
            shown = ", ".join(f"{u} {positions[u]:,.0f}/{head[u]:,}" for u in head)
            print(f"  live kpi catching up: {shown}", flush=True)
        await asyncio.sleep(0.5)
    msg = f"kpi's live consumers did not reach {head} within {timeout_s:.0f} s (--live-timeout)"
    raise RuntimeError(msg)


def delivered(values: dict[tuple[str, str], float]) -> float:
    """What a service's consumers were handed so far, by either path: applied or duplicate."""
    names = ("lmp_consumer_applied_total", "lmp_consumer_duplicates_total")
    return sum(v for (name, _), v in values.items() if name in names)


async def wait_quiet(env: dict[str, str], timeout_s: float) -> float:
    """Until every relay has published its log and no consumer is handed anything for
    QUIET_S: the bench wrote the events straight into the stores, so each relay has a whole
    year to publish and each consumer to be handed again (duplicates, a transaction each);
    neither the rebuild nor the raw insert measured after it should share the server with
    that backlog. Seconds taken."""
    ports = [Settings.from_env(s, env).endpoint.metrics_port for s in ("registry", "voting", "kpi")]
    started = time.monotonic()
    last: list[float] = []
    still_since = time.monotonic()
    while time.monotonic() - started < timeout_s:
        found = [await asyncio.to_thread(metrics, port) for port in ports]
        now = [delivered(values) for values in found]
        relays_done = all(v.get(("lmp_relay_lag_events", ""), 0.0) == 0 for v in found)
        if now != last or not relays_done:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= QUIET_S:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    msg = f"the stack did not become quiet within {timeout_s:.0f} s (--live-timeout)"
    raise RuntimeError(msg)


def sampled(options: Options) -> list[tuple[str, str]]:
    """--scorecards city-months: every month of cities spread evenly over the federation."""
    cities = city_ids(options.cities)
    months = [f"{YEAR}-{m:02d}" for m in range(1, options.months + 1)]
    every = [(c, m) for c in cities for m in months]
    if options.scorecards <= 0 or options.scorecards >= len(every):
        return every
    wanted = max(1, options.scorecards // len(months))
    step = max(1, len(cities) // wanted)
    return [(c, m) for c in cities[::step][:wanted] for m in months]


async def scorecards(env: dict[str, str], options: Options) -> dict[tuple[str, str], bytes]:
    settings = Settings.from_env("kpi", env)
    cities = city_ids(options.cities)
    token = issuer_of(settings).issue("bench:reader", roles=["curator"], cities=cities)
    metadata = (("authorization", f"Bearer {token}"),)
    cards: dict[tuple[str, str], bytes] = {}
    async with grpc.aio.insecure_channel(settings.endpoint.grpc_target) as channel:
        stub = kpi_pb2_grpc.KpiServiceStub(channel)
        semaphore = asyncio.Semaphore(SCORECARDS_IN_FLIGHT)

        async def one(city: str, month: str) -> None:
            request = kpi_pb2.GetScorecardRequest(city_id=city, month=month)
            async with semaphore:
                for attempt in range(1, SCORECARD_ATTEMPTS + 1):
                    try:
                        card = await stub.GetScorecard(request, metadata=metadata, timeout=60)
                        break
                    except grpc.aio.AioRpcError as error:
                        # kpi answers UNAVAILABLE (retry in 2 s) when MongoDB is slow to answer
                        if error.code() != grpc.StatusCode.UNAVAILABLE:
                            raise
                        if attempt == SCORECARD_ATTEMPTS:
                            raise
                        await asyncio.sleep(2.0)
            cards[city, month] = card.SerializeToString(deterministic=True)

        await asyncio.gather(*(one(c, m) for c, m in sampled(options)))
    return cards


# ---------------------------------------------------------------------------------------------
# The rebuild and the raw insert


@dataclass
class Rebuilt:
    exit_code: int
    seconds: float
    applied: int
    generation: int
    documents: int


async def run_rebuild(env: dict[str, str]) -> Rebuilt:
    settings = Settings.from_env("kpi", env)
    subscriptions = rebuild_command.subscriptions_of("kpi")
    started = time.monotonic()
    code = await rebuild_command.rebuild(
        "kpi", env, projection=None, keep_old=True, abandon=False, out=sys.stdout
    )
    seconds = time.monotonic() - started - rebuild_command_grace()
    client = mongo_client(settings)
    try:
        models = read_models(settings, client, subscriptions)
        control = await models.read_control()
        last = control.get("last", {})
        generation = int(control.get("active", 0))
        documents = 0
        db = models.database(generation)
        for name in read_model_collections(models):
            documents += await db[name].count_documents({})
        return Rebuilt(code, seconds, int(last.get("applied", 0)), generation, documents)
    finally:
        await client.close()


def rebuild_command_grace() -> float:
    """The rebuild waits this long after the switch for calls still reading the old one."""
    from lmp_kit.rebuild import SWITCH_GRACE_S  # noqa: PLC0415  # only for this figure

    return SWITCH_GRACE_S


def read_model_collections(models: ReadModels) -> list[str]:
    del models
    subscriptions = rebuild_command.subscriptions_of("kpi")
    return sorted({c for s in subscriptions for p in s.projections for c in p.collections})


async def raw_insert(env: dict[str, str], generation: int, runs: int) -> tuple[int, float, float]:
    """The rebuilt documents, read once, inserted again into a scratch database `runs` times
    into bare collections and as often into collections given the rebuilt ones' secondary
    indexes first (what the read model has to keep; SecantusDB's cost per insert grows with
    them): (documents, fastest seconds bare, fastest seconds indexed). The server's own rate
    moves from one run to the next (2.5x seen): the fastest counts."""
    settings = Settings.from_env("kpi", env)
    subscriptions = rebuild_command.subscriptions_of("kpi")
    client = mongo_client(settings)
    try:
        models = read_models(settings, client, subscriptions)
        source = models.database(generation)
        collections = {
            name: [doc async for doc in source[name].find({})]
            for name in read_model_collections(models)
        }
        indexes = {
            name: [i async for i in await source[name].list_indexes() if i["name"] != "_id_"]
            for name in collections
        }
        scratch = client[f"{env['LMP_MONGODB_DB_PREFIX']}bench_raw"]

        async def once(*, indexed: bool) -> float:
            await client.drop_database(scratch.name)
            if indexed:
                for name, found in indexes.items():
                    for index in found:
                        keys = list(index["key"].items())
                        await scratch[name].create_index(keys, name=index["name"])
            started = time.monotonic()
            for name, docs in collections.items():
                for first in range(0, len(docs), INSERT_BATCH):
                    batch = docs[first : first + INSERT_BATCH]
                    await scratch[name].insert_many(batch, ordered=False)
            seconds = time.monotonic() - started
            await client.drop_database(scratch.name)
            return seconds

        bare = min([await once(indexed=False) for _ in range(runs)])
        indexed = min([await once(indexed=True) for _ in range(runs)])
        return sum(len(docs) for docs in collections.values()), bare, indexed
    finally:
        await client.close()


# ---------------------------------------------------------------------------------------------
# Main


@dataclass(frozen=True)
class Options:
    cities: int
    months: int
    problems: int
    polls: int
    ballots: int
    seed: int
    data_dir: Path | None
    json: bool
    scorecards: int = 0
    raw_runs: int = 3
    live_timeout_s: float = CATCH_UP_TIMEOUT_S


def parse_options(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cities", type=int, default=100)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--problems", type=int, default=6, help="registered per city-month")
    parser.add_argument("--polls", type=int, default=1, help="closed per city-month")
    parser.add_argument("--ballots", type=int, default=12, help="per poll")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument(
        "--scorecards",
        type=int,
        default=48,
        help="city-months whose scorecards are compared (every month of evenly spread cities; "
        "0: all). GetScorecard takes seconds each on SecantusDB after a large catch-up",
    )
    parser.add_argument(
        "--raw-runs",
        type=int,
        default=3,
        help="raw inserts of each kind, the fastest counting (1 for the issue's 1M events: "
        "each takes minutes there)",
    )
    parser.add_argument(
        "--live-timeout",
        type=float,
        default=CATCH_UP_TIMEOUT_S,
        help="seconds the live consumers may take to reach the heads, and again to fall quiet "
        "(the 1M-event run needs 35-45 minutes on two cores)",
    )
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if min(args.cities, args.months, args.problems, args.ballots, args.raw_runs) < 1:
        parser.error("--cities, --months, --problems, --ballots and --raw-runs must be at least 1")
    if args.polls < 0:
        parser.error("--polls cannot be negative")
    if args.live_timeout <= 0:
        parser.error("--live-timeout must be positive")
    if args.months > 12:  # noqa: PLR2004  # one year
        parser.error("--months is at most 12 (one year)")
    if args.problems < 2 and args.polls:  # noqa: PLR2004  # a poll needs two options
        parser.error("a poll needs at least 2 problems a month (--problems)")
    return Options(
        args.cities,
        args.months,
        args.problems,
        args.polls,
        args.ballots,
        args.seed,
        args.data_dir,
        args.json,
        args.scorecards,
        args.raw_runs,
        args.live_timeout,
    )


@contextmanager
def data_directory(chosen: Path | None) -> Iterator[Path]:
    if chosen is not None:
        chosen.mkdir(parents=True, exist_ok=True)
        yield chosen.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="lmp-rebuild-bench-") as temporary:
        yield Path(temporary)


async def measured(env: dict[str, str], options: Options, written: Written) -> dict[str, Any]:
    head = heads(env)
    print(f"kpi's live consumers catching up to {head} ...", flush=True)
    live_s = await wait_live(env, head, options.live_timeout_s)
    quiet_s = await wait_quiet(env, options.live_timeout_s)
    print(f"relays published, consumers idle {quiet_s:.1f} s later", flush=True)
    read_started = time.monotonic()
    live_cards = await scorecards(env, options)
    read_s = time.monotonic() - read_started
    load_before = os.getloadavg()
    print(f"live: all applied in {live_s:.1f} s; {len(live_cards)} scorecards read", flush=True)
    print("lmp rebuild kpi ...", flush=True)
    rebuilt = await run_rebuild(env)
    rebuilt_cards = await scorecards(env, options)
    different = sorted(k for k in live_cards if live_cards[k] != rebuilt_cards.get(k))
    print("raw insert_many of the same documents ...", flush=True)
    raw_count, raw_s, indexed_s = await raw_insert(env, rebuilt.generation, options.raw_runs)
    rebuild_docs_per_s = rebuilt.documents / rebuilt.seconds
    raw_docs_per_s = raw_count / raw_s
    events_per_s = rebuilt.applied / rebuilt.seconds
    return {
        "cities": options.cities,
        "months": options.months,
        "events_registry": written.registry,
        "events_voting": written.voting,
        "events": written.registry + written.voting,
        "generated_s": round(written.seconds, 1),
        "live_catch_up_s": round(live_s, 1),
        "live_events_per_s": round((written.registry + written.voting) / live_s, 1),
        "quiet_after_s": round(quiet_s, 1),
        "scorecards_read_s": round(read_s, 1),
        "load_average_before_rebuild": [round(v, 2) for v in load_before],
        "rebuild_exit_code": rebuilt.exit_code,
        "rebuild_applied": rebuilt.applied,
        "rebuild_s": round(rebuilt.seconds, 2),
        "rebuild_events_per_s": round(events_per_s, 1),
        "read_model_documents": rebuilt.documents,
        "rebuild_documents_per_s": round(rebuild_docs_per_s, 1),
        "raw_documents": raw_count,
        "raw_insert_s": round(raw_s, 2),
        "raw_documents_per_s": round(raw_docs_per_s, 1),
        "share_of_raw": round(rebuild_docs_per_s / raw_docs_per_s, 3),
        "raw_indexed_insert_s": round(indexed_s, 2),
        "raw_indexed_documents_per_s": round(raw_count / indexed_s, 1),
        "share_of_raw_indexed": round(rebuild_docs_per_s / (raw_count / indexed_s), 3),
        "scorecards": len(live_cards),
        "scorecards_different": [f"{c} {m}" for c, m in different],
        "issue_size_extrapolated_s": round(ISSUE_EVENTS / events_per_s, 0),
    }


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    with data_directory(options.data_dir) as root:
        stack_dir = root / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}" / "stack"
        stack_dir.mkdir(parents=True)
        env = isolated_env(stack_dir, prefix="rebuild")
        print(f"writing {options.cities} cities x {options.months} months of events ...")
        written = generate(env, options)
        total = written.registry + written.voting
        print(
            f"wrote {total:,} events (registry {written.registry:,}, voting "
            f"{written.voting:,}) in {written.seconds:.1f} s; starting the stack ...",
            flush=True,
        )
        # SIGTERM as Ctrl-C: leaving the stack's context stops every server it started.
        with StopSignals(), embedded_stack(stack_dir, env, SERVICES) as stack:
            result = asyncio.run(measured(stack.env, options, written))
    print()
    print(
        f"rebuild of kpi: {result['events']:,} events, {options.cities} cities x "
        f"{options.months} months"
    )
    for key, value in result.items():
        print(f"  {key:32} {value}")
    equal = not result["scorecards_different"]
    print(
        f"rebuilt {result['rebuild_events_per_s']:,.0f} events/s "
        f"({result['rebuild_documents_per_s']:,.0f} documents/s) against raw insert_many "
        f"{result['raw_documents_per_s']:,.0f} documents/s: {100 * result['share_of_raw']:.0f} % "
        f"(target >= {100 * TARGET_SHARE:.0f} %: "
        f"{'met' if result['share_of_raw'] >= TARGET_SHARE else 'not met'}); "
        f"into collections with the read model's indexes "
        f"{result['raw_indexed_documents_per_s']:,.0f} documents/s: "
        f"{100 * result['share_of_raw_indexed']:.0f} %; "
        f"scorecards {'equal' if equal else 'DIFFERENT'} ({result['scorecards']}); "
        f"1M events would take ~{result['issue_size_extrapolated_s']:.0f} s (extrapolated)"
    )
    if options.json:
        print(json.dumps(result))
    return 0 if equal and result["rebuild_exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
