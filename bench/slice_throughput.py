"""Throughput of the first slice: RegisterProblem → event store → relay → Kafka → kpi → gRPC.

Starts the embedded stack (Tansu, SecantusDB and the five services, as `lmp up` does) in a
temporary directory on free ports, times it until all five are healthy, then registers N
problems through registry's gRPC API with bounded concurrency over K cities and waits until
kpi's read model, polled through kpi's gRPC API, counts all of them. While it runs it samples
registry's and kpi's /metrics and the CPU time of every process, and prints what it measured.

    uv run python bench/slice_throughput.py [--events N] [--concurrency C] [--cities K]
                                            [--store sqlite|postgres] [--json]
    uv run python bench/slice_throughput.py --rate 1000 --duration 60 --concurrency 64

With --rate R the load is open: the k-th RegisterProblem is due at start + k/R and its latency
counts from then (a stall is not hidden by clients that wait for it); with --duration S it
sends for S seconds (R x S problems with --rate) instead of --events.

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import math
import os
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import grpc
from lmp.kpi.v1 import kpi_pb2, kpi_pb2_grpc
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp_devstack import start_postgres
from lmp_kit.auth import issuer_of
from lmp_kit.settings import SERVICES, Settings
from prometheus_client.parser import text_string_to_metric_families

from lmp_cli.stack import Stack, embedded_stack, isolated_env

REGISTER_METHOD = "/lmp.registry.v1.RegistryService/RegisterProblem"
UPSTREAM = "registry"
# Tuning knobs of the services that a caller may set for an experiment; every other LMP_*
# variable of the caller's environment is dropped so the run is isolated and repeatable.
TUNING_VARIABLES = (
    "LMP_RELAY_BATCH_SIZE",
    "LMP_RELAY_POLL_INTERVAL_S",
    "LMP_RECONCILE_INTERVAL_S",
    "LMP_KAFKA_SESSION_TIMEOUT_MS",
    "LMP_LOG_LEVEL",
    "LMP_GROUP_COMMIT",
    "LMP_COMMAND_THREADS",
)
RPC_TIMEOUT_S = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PERCENT = 100.0
OTHERS = "other processes"
SINGLE_POLL_S = 0.02
SINGLE_PAUSE_S = 0.5
NOISY_PERCENT = 20.0
MAX_PROCESS_DEPTH = 16
# Sustained figures are given per slice of the sending window (10 s; shorter for short runs).
SLICE_S = 10.0
TARGET_EVENTS_PER_S = 1000.0
TARGET_P99_MS = 50.0


# ---------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class Options:
    events: int
    warmup: int
    settle: float
    singles: int
    concurrency: int
    cities: int
    store: str
    timeout: float
    sample_interval: float
    poll_interval: float
    data_dir: Path | None
    json: bool
    timeline: bool
    rate: float = 0.0
    duration: float | None = None


def parse_options(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000, help="problems to register (N)")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="RegisterProblem calls in flight (C)"
    )
    parser.add_argument("--cities", type=int, default=8, help="cities to spread them over (K)")
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="problems registered and awaited before the measured run "
        "(default: one per city; 0 measures from a cold slice)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds the read model may take to count all N after the last command",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds to wait after the warm-up (e.g. 30: until kpi's consumer group settled)",
    )
    parser.add_argument(
        "--singles",
        type=int,
        default=5,
        help="problems sent one at a time after the warm-up, to time one event on an idle slice",
    )
    parser.add_argument("--sample-interval", type=float, default=0.5, help="metrics sampling (s)")
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=0.5,
        help="how often to ask kpi for the counts (s); each poll is one call per city",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="keep data and logs here (default: temp dir)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="problems per second offered: the k-th is due at start + k/R and its latency "
        "counts from then (0: as fast as --concurrency calls in flight allow)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds of sending instead of --events (with --rate: R x S problems)",
    )
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    parser.add_argument("--timeline", action="store_true", help="also print every sample")
    args = parser.parse_args(argv)
    if args.events < 1 or args.concurrency < 1 or args.cities < 1:
        parser.error("--events, --concurrency and --cities must be at least 1")
    if args.warmup is not None and args.warmup < 0:
        parser.error("--warmup must not be negative")
    if args.settle < 0 or args.singles < 0:
        parser.error("--settle and --singles must not be negative")
    if args.rate < 0 or (args.duration is not None and args.duration <= 0):
        parser.error("--rate must not be negative and --duration must be positive")
    events = args.events
    if args.duration is not None:
        events = math.ceil(args.rate * args.duration) if args.rate else 0
    return Options(
        events=events,
        warmup=args.cities if args.warmup is None else args.warmup,
        settle=args.settle,
        singles=args.singles,
        concurrency=args.concurrency,
        cities=args.cities,
        store=args.store,
        timeout=args.timeout,
        sample_interval=args.sample_interval,
        poll_interval=args.poll_interval,
        data_dir=args.data_dir,
        json=args.json,
        timeline=args.timeline,
        rate=args.rate,
        duration=args.duration,
    )


def bench_env(data_dir: Path, postgres_dsn: str | None) -> dict[str, str]:
    """An isolated environment: free ports, own namespace, own secret, own event stores."""
    return isolated_env(data_dir, prefix="bench", postgres_dsn=postgres_dsn, keep=TUNING_VARIABLES)


def city_ids(count: int) -> list[str]:
    return [f"bench-city-{number:03d}" for number in range(count)]


# ---------------------------------------------------------------------------------------------
# Start-up: from the call that `lmp up` makes until all five services are healthy


@dataclass
class Startup:
    total_s: float = 0.0
    kafka_s: float | None = None
    mongodb_s: float | None = None
    services_s: float | None = None
    postgres_s: float | None = None


class StartupWatch:
    """Notes when each phase of `embedded_stack` ends, from the files each next phase creates.

    embedded_stack starts Tansu, waits until it answers, starts SecantusDB (which creates its
    log file), waits until it answers, then spawns the services (which create theirs).
    """

    def __init__(self, data_dir: Path, env: Mapping[str, str]) -> None:
        self.started = time.monotonic()
        self.kafka_embedded = not env.get("KAFKA_BOOTSTRAP_SERVERS")
        self.mongodb_embedded = not env.get("MONGODB_URI")
        self.mongodb_log = data_dir / "mongodb" / "secantusd.log"
        self.services_log = data_dir / "logs" / f"{SERVICES[0]}.log"
        self.mongodb_spawned: float | None = None
        self.services_spawned: float | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.stopping.is_set() and self.services_spawned is None:
            now = time.monotonic()
            if self.mongodb_spawned is None and self.mongodb_log.exists():
                self.mongodb_spawned = now
            if self.services_log.exists():
                self.services_spawned = now
            time.sleep(0.005)

    def __enter__(self) -> Self:
        self.started = time.monotonic()
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.thread.join()

    def result(self, healthy_at: float) -> Startup:
        startup = Startup(total_s=healthy_at - self.started)
        if self.services_spawned is None:
            return startup
        servers_done = self.services_spawned
        if self.kafka_embedded:
            kafka_done = self.mongodb_spawned if self.mongodb_embedded else servers_done
            startup.kafka_s = None if kafka_done is None else kafka_done - self.started
        if self.mongodb_embedded and self.mongodb_spawned is not None:
            startup.mongodb_s = servers_done - self.mongodb_spawned
        startup.services_s = healthy_at - servers_done
        return startup


# ---------------------------------------------------------------------------------------------
# /metrics and CPU sampling


Labels = dict[str, str]


@dataclass(frozen=True)
class Scrape:
    samples: list[tuple[str, Labels, float]]

    def value(self, name: str, **labels: str) -> float:
        """Sum of the samples called `name` whose labels include `labels`."""
        return sum(
            value
            for sample, sample_labels, value in self.samples
            if sample == name and labels.items() <= sample_labels.items()
        )

    def histogram_quantile(self, quantile: float, name: str, **labels: str) -> float | None:
        """Like PromQL's histogram_quantile: linear interpolation inside the bucket."""
        buckets = sorted(
            (float(sample_labels["le"]), value)
            for sample, sample_labels, value in self.samples
            if sample == f"{name}_bucket" and labels.items() <= sample_labels.items()
        )
        if not buckets or buckets[-1][1] <= 0:
            return None
        rank = quantile * buckets[-1][1]
        lower_bound, lower_count = 0.0, 0.0
        for bound, count in buckets:
            if count >= rank:
                if math.isinf(bound):
                    return lower_bound
                width = count - lower_count
                share = (rank - lower_count) / width if width else 1.0
                return lower_bound + (bound - lower_bound) * share
            lower_bound, lower_count = bound, count
        return lower_bound


def scrape(port: int) -> Scrape:
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode("utf-8")
    return Scrape(
        [
            (sample.name, dict(sample.labels), float(sample.value))
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]
    )


@dataclass(frozen=True)
class ProcStat:
    parent: int
    group: int
    cpu_ticks: int


def process_table() -> dict[int, ProcStat]:
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        # After the command name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
        # cutime(13) cstime(14); the last two hold children already reaped.
        fields = stat.rpartition(")")[2].split()
        ticks = sum(int(f) for f in fields[11:15])
        table[int(entry.name)] = ProcStat(int(fields[1]), int(fields[2]), ticks)
    return table


def tree_cpu_seconds(leaders: Mapping[str, int]) -> dict[str, float]:
    """CPU time of each leader's process group and descendants (PostgreSQL's backends leave
    the postmaster's group), live ones and those already reaped."""
    table = process_table()
    owner = {pid: name for name, pid in leaders.items()}
    ticks = dict.fromkeys(leaders, 0)
    for pid, stat in table.items():
        name = owner.get(stat.group)
        ancestor, hops = pid, 0
        while name is None and ancestor in table and hops < MAX_PROCESS_DEPTH:
            name = owner.get(ancestor)
            ancestor, hops = table[ancestor].parent, hops + 1
        if name is not None:
            ticks[name] += stat.cpu_ticks
    return {name: count / CLOCK_TICKS for name, count in ticks.items()}


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (all cores), from /proc/stat."""
    with Path("/proc/stat").open(encoding="ascii") as stat:
        fields = stat.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


@dataclass(frozen=True)
class Sample:
    at_s: float
    relay_lag: float
    relay_published: float
    consumer_applied: float
    consumer_lag_gauge: float
    staleness_s: float
    read_model: int


@dataclass
class Progress:
    """What the writers and the read-model poller have seen so far (one event loop)."""

    # Problems the read model counted before this phase.
    baseline: int = 0
    accepted_at: list[float] = field(default_factory=list)
    read_model: int = 0
    writes_done: bool = False
    complete_at: float | None = None
    # Age of the oldest accepted command not yet counted by the read model, at each poll.
    max_unseen_age_s: float = 0.0
    # Each accepted command's wait until a poll of the read model counted it (in order of
    # acceptance: the n counted are the first n accepted), and (time, counted) of every poll.
    lags_s: list[float] = field(default_factory=list)
    polls: list[tuple[float, int]] = field(default_factory=list)


class Sampler:
    def __init__(
        self, stack: Stack, progress: Progress, interval: float, extra: Mapping[str, int]
    ) -> None:
        self.progress = progress
        self.interval = interval
        self.registry_metrics = Settings.from_env("registry", stack.env).endpoint.metrics_port
        self.kpi_metrics = Settings.from_env("kpi", stack.env).endpoint.metrics_port
        self.samples: list[Sample] = []
        self.leaders = process_leaders(stack) | dict(extra)
        self.started = time.monotonic()
        self.cpu_start: dict[str, float] = {}
        self.cpu_end: dict[str, float] = {}
        self.last_registry: Scrape | None = None
        self.last_kpi: Scrape | None = None

    def cpu(self) -> dict[str, float]:
        seconds = tree_cpu_seconds(self.leaders)
        seconds["bench client"] = own_cpu_seconds()
        # Whatever else ran on the machine meanwhile: the noise in every wall-clock figure.
        seconds[OTHERS] = machine_busy_seconds() - sum(seconds.values())
        return seconds

    def begin(self) -> None:
        self.started = time.monotonic()
        self.cpu_start = self.cpu()

    def end(self) -> None:
        self.cpu_end = self.cpu()

    def sample_now(self) -> None:
        registry = scrape(self.registry_metrics)
        kpi = scrape(self.kpi_metrics)
        self.last_registry, self.last_kpi = registry, kpi
        self.samples.append(
            Sample(
                at_s=time.monotonic() - self.started,
                relay_lag=registry.value("lmp_relay_lag_events"),
                relay_published=registry.value("lmp_relay_published_total"),
                consumer_applied=kpi.value("lmp_consumer_applied_total", upstream=UPSTREAM),
                consumer_lag_gauge=kpi.value("lmp_consumer_lag_events", upstream=UPSTREAM),
                staleness_s=kpi.value("lmp_projection_staleness_seconds", upstream=UPSTREAM),
                read_model=self.progress.read_model,
            )
        )

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            await asyncio.to_thread(self.sample_now)
            try:
                await asyncio.wait_for(stopping.wait(), self.interval)
            except TimeoutError:
                continue


def process_leaders(stack: Stack) -> dict[str, int]:
    leaders = {server.name: server.process.pid for server in stack.servers}
    for service in stack.services:
        if service.process is not None:
            leaders[service.service] = service.process.pid
    return leaders


# ---------------------------------------------------------------------------------------------
# The workload


@dataclass
class Writes:
    accepted: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)
    first_sent: float = 0.0
    last_answered: float = 0.0


async def register_all(  # noqa: PLR0913  # one phase's parameters, each named
    target: str,
    bearer: str,
    *,
    cities: Sequence[str],
    count: int,
    concurrency: int,
    progress: Progress,
    rate: float = 0.0,
    duration: float | None = None,
) -> Writes:
    """`count` problems (or, closed loop with `duration`, as many as fit in it); with `rate`
    the k-th is due at start + k/rate and its latency counts from when it was due."""
    writes = Writes()
    metadata = (("authorization", f"Bearer {bearer}"),)
    numbers = iter(range(count)) if count or duration is None else itertools.count()
    run = uuid.uuid4().hex[:8]
    async with grpc.aio.insecure_channel(target) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        start = time.monotonic()
        deadline = None if duration is None or rate else start + duration

        async def worker() -> None:
            for number in numbers:
                request = registry_pb2.RegisterProblemRequest(
                    city_id=cities[number % len(cities)],
                    title=f"Benchmark problem {run}-{number}",
                    description="registered by bench/slice_throughput.py",
                )
                sent = time.monotonic()
                if deadline is not None and sent >= deadline:
                    return
                if rate:
                    due = start + number / rate
                    if due > sent:
                        await asyncio.sleep(due - sent)
                    sent = due
                try:
                    await stub.RegisterProblem(request, metadata=metadata, timeout=RPC_TIMEOUT_S)
                except grpc.aio.AioRpcError as error:
                    writes.failures[error.code().name] += 1
                    continue
                answered = time.monotonic()
                writes.latencies_s.append(answered - sent)
                progress.accepted_at.append(answered)
                writes.accepted += 1

        writes.first_sent = start
        workers = min(concurrency, count) if count else concurrency
        await asyncio.gather(*(worker() for _ in range(workers)))
        writes.last_answered = time.monotonic()
    progress.writes_done = True
    return writes


async def follow_read_model(
    target: str, bearer: str, cities: Sequence[str], progress: Progress, options: Options
) -> None:
    """Poll kpi until it counts every accepted problem, or --timeout seconds past the writes."""
    metadata = (("authorization", f"Bearer {bearer}"),)
    writes_done_at: float | None = None
    async with grpc.aio.insecure_channel(target) as channel:
        stub = kpi_pb2_grpc.KpiServiceStub(channel)
        while True:
            responses = await asyncio.gather(
                *(
                    stub.ListProblemStats(
                        kpi_pb2.ListProblemStatsRequest(city_id=city),
                        metadata=metadata,
                        timeout=RPC_TIMEOUT_S,
                    )
                    for city in cities
                )
            )
            now = time.monotonic()
            total = sum(month.problems_registered for r in responses for month in r.months)
            seen = total - progress.baseline
            accepted = progress.accepted_at
            counted = min(max(seen, 0), len(accepted))
            previous = min(max(progress.read_model, 0), counted)
            progress.lags_s.extend(now - t for t in accepted[previous:counted])
            progress.read_model = seen
            progress.polls.append((now, seen))
            if 0 <= seen < len(accepted):
                progress.max_unseen_age_s = max(progress.max_unseen_age_s, now - accepted[seen])
            if progress.writes_done:
                writes_done_at = writes_done_at or now
                if seen >= len(accepted):
                    progress.complete_at = now
                    return
                if now - writes_done_at > options.timeout:
                    return
            await asyncio.sleep(options.poll_interval)


@dataclass(frozen=True)
class Single:
    total_s: float
    register_s: float


@dataclass
class Run:
    writes: Writes
    progress: Progress
    sampler: Sampler
    warmup: Writes | None = None
    warmup_progress: Progress | None = None
    load_before: float = 0.0
    single_delays: list[Single] = field(default_factory=list)


@dataclass(frozen=True)
class Client:
    registry: str
    kpi: str
    writer: str
    reader: str
    cities: Sequence[str]
    options: Options

    @classmethod
    def of(cls, stack: Stack, options: Options) -> Client:
        settings = Settings.from_env("registry", stack.env)
        issuer = issuer_of(settings)
        cities = city_ids(options.cities)
        return cls(
            registry=settings.endpoint.grpc_target,
            kpi=Settings.from_env("kpi", stack.env).endpoint.grpc_target,
            writer=issuer.issue("bench:writer", roles=["working_group"], cities=cities),
            reader=issuer.issue("bench:reader", roles=["curator"], cities=cities),
            cities=cities,
            options=options,
        )

    async def phase(
        self, count: int, progress: Progress, rate: float = 0.0, duration: float | None = None
    ) -> Writes:
        """Register `count` problems while polling kpi until it counts them all."""
        following = asyncio.create_task(
            follow_read_model(self.kpi, self.reader, self.cities, progress, self.options)
        )
        writes = await register_all(
            self.registry,
            self.writer,
            cities=self.cities,
            count=count,
            concurrency=self.options.concurrency,
            progress=progress,
            rate=rate,
            duration=duration,
        )
        await following
        return writes

    async def single_delays(self, count: int) -> list[Single]:
        """One problem at a time on an idle slice: from sending it until kpi counts it."""
        delays: list[Single] = []
        city = self.cities[0]
        request = kpi_pb2.ListProblemStatsRequest(city_id=city)
        reader = (("authorization", f"Bearer {self.reader}"),)
        writer = (("authorization", f"Bearer {self.writer}"),)
        async with (
            grpc.aio.insecure_channel(self.registry) as registry_channel,
            grpc.aio.insecure_channel(self.kpi) as kpi_channel,
        ):
            registry = registry_pb2_grpc.RegistryServiceStub(registry_channel)
            kpi = kpi_pb2_grpc.KpiServiceStub(kpi_channel)

            async def counted() -> int:
                response = await kpi.ListProblemStats(
                    request, metadata=reader, timeout=RPC_TIMEOUT_S
                )
                return sum(month.problems_registered for month in response.months)

            for number in range(count):
                before = await counted()
                await asyncio.sleep(SINGLE_PAUSE_S)
                sent = time.monotonic()
                await registry.RegisterProblem(
                    registry_pb2.RegisterProblemRequest(
                        city_id=city,
                        title=f"Benchmark single {uuid.uuid4().hex[:8]}-{number}",
                        description="registered by bench/slice_throughput.py",
                    ),
                    metadata=writer,
                    timeout=RPC_TIMEOUT_S,
                )
                answered = time.monotonic()
                while await counted() <= before:
                    if time.monotonic() - sent > self.options.timeout:
                        return delays
                    await asyncio.sleep(SINGLE_POLL_S)
                delays.append(Single(time.monotonic() - sent, answered - sent))
        return delays


async def workload(stack: Stack, options: Options, extra: Mapping[str, int]) -> Run:
    load_before = os.getloadavg()[0]
    client = Client.of(stack, options)
    warmup = warmup_progress = None
    if options.warmup:
        warmup_progress = Progress()
        warmup = await client.phase(options.warmup, warmup_progress)
    await asyncio.sleep(options.settle)
    single = await client.single_delays(options.singles)
    progress = Progress(
        baseline=(warmup_progress.read_model if warmup_progress else 0) + len(single)
    )
    sampler = Sampler(stack, progress, options.sample_interval, extra)
    stopping = asyncio.Event()
    sampler.begin()
    sampling = asyncio.create_task(sampler.run(stopping))
    writes = await client.phase(options.events, progress, options.rate, options.duration)
    sampler.end()
    stopping.set()
    await sampling
    # One sample more once everything has settled: the relay's final lag.
    relay_poll_s = Settings.from_env("registry", stack.env).relay_poll_interval_s
    await asyncio.sleep(max(relay_poll_s * 4, 0.2))
    await asyncio.to_thread(sampler.sample_now)
    return Run(writes, progress, sampler, warmup, warmup_progress, load_before, single)


# ---------------------------------------------------------------------------------------------
# Figures


def percentile(values: Sequence[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def figures(options: Options, startup: Startup, run: Run, env: Mapping[str, str]) -> dict[str, Any]:
    writes, progress, sampler = run.writes, run.progress, run.sampler
    samples = sampler.samples
    write_window = writes.last_answered - writes.first_sent
    end_to_end = (
        progress.complete_at - writes.first_sent if progress.complete_at is not None else None
    )
    derived_consumer_lag = [max(0.0, s.relay_published - s.consumer_applied) for s in samples]
    wall = (progress.complete_at or time.monotonic()) - writes.first_sent
    cpu = {
        name: sampler.cpu_end.get(name, 0.0) - sampler.cpu_start.get(name, 0.0)
        for name in sorted(sampler.cpu_start, key=lambda name: (name == OTHERS, name))
    }
    totals = [single.total_s for single in run.single_delays]
    applied_by_path = {
        labels["path"]: value
        for name, labels, value in (sampler.last_kpi.samples if sampler.last_kpi else [])
        if name == "lmp_consumer_applied_total" and labels.get("upstream") == UPSTREAM
    }
    registry = sampler.last_registry
    server_p50 = server_p99 = None
    if registry is not None:
        server_p50 = registry.histogram_quantile(
            0.5, "lmp_grpc_request_duration_seconds", method=REGISTER_METHOD
        )
        server_p99 = registry.histogram_quantile(
            0.99, "lmp_grpc_request_duration_seconds", method=REGISTER_METHOD
        )
    return {
        "store": options.store,
        "events": options.events or writes.accepted,
        "rate_offered_per_s": options.rate or None,
        "duration_s": options.duration,
        "concurrency": options.concurrency,
        "cities": options.cities,
        "cpus": os.cpu_count(),
        "load_average_before": round(run.load_before, 2),
        "tuning": {key: env[key] for key in TUNING_VARIABLES if key in env},
        "kafka": "external" if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else "embedded Tansu",
        "mongodb": "external" if os.environ.get("MONGODB_URI") else "embedded SecantusDB",
        "startup_s": rounded(startup.total_s, 2),
        "startup_kafka_s": rounded(startup.kafka_s, 2),
        "startup_mongodb_s": rounded(startup.mongodb_s, 2),
        "startup_services_s": rounded(startup.services_s, 2),
        "postgres_start_s": rounded(startup.postgres_s, 2),
        "warmup": options.warmup,
        "settle_s": options.settle,
        "warmup_first_through_s": rounded(first_through(run), 2),
        "singles": len(run.single_delays),
        "single_delays_s": [round(single.total_s, 3) for single in run.single_delays],
        "single_register_s": [round(single.register_s, 3) for single in run.single_delays],
        "single_delay_p50_s": rounded(percentile(totals, 0.5)),
        "single_delay_max_s": rounded(max(totals, default=None)),
        "accepted": writes.accepted,
        "failed": dict(writes.failures),
        "write_seconds": rounded(write_window, 2),
        "write_rate_per_s": rounded(writes.accepted / write_window if write_window else None, 1),
        "read_model_count": progress.read_model,
        "end_to_end_seconds": rounded(end_to_end, 2),
        "end_to_end_rate_per_s": rounded(writes.accepted / end_to_end if end_to_end else None, 1),
        "drain_after_last_write_s": rounded(
            progress.complete_at - writes.last_answered if progress.complete_at else None, 2
        ),
        "register_p50_ms": rounded(_ms(percentile(writes.latencies_s, 0.5)), 1),
        "register_p99_ms": rounded(_ms(percentile(writes.latencies_s, 0.99)), 1),
        "register_max_ms": rounded(_ms(max(writes.latencies_s, default=None)), 1),
        "server_register_p50_ms": rounded(_ms(server_p50), 1),
        "server_register_p99_ms": rounded(_ms(server_p99), 1),
        "relay_lag_max": max((s.relay_lag for s in samples), default=None),
        "relay_lag_final": samples[-1].relay_lag if samples else None,
        "relay_published": samples[-1].relay_published if samples else None,
        "consumer_applied": samples[-1].consumer_applied if samples else None,
        "consumer_applied_by_path": applied_by_path,
        "consumer_duplicates": (
            sampler.last_kpi.value("lmp_consumer_duplicates_total", upstream=UPSTREAM)
            if sampler.last_kpi
            else None
        ),
        "consumer_lag_max": max(derived_consumer_lag, default=None),
        "consumer_lag_final": derived_consumer_lag[-1] if derived_consumer_lag else None,
        "consumer_lag_gauge_max": max((s.consumer_lag_gauge for s in samples), default=None),
        **window_figures(options, writes, progress),
        "staleness_max_s": rounded(max_staleness(samples), 2),
        "unseen_age_max_s": rounded(progress.max_unseen_age_s, 2),
        "samples": len(samples),
        "cpu_seconds": {name: round(seconds, 1) for name, seconds in cpu.items()},
        "cpu_percent_of_one_core": {
            name: round(PERCENT * seconds / wall, 0) if wall > 0 else None
            for name, seconds in cpu.items()
        },
        "ok": progress.complete_at is not None
        and (writes.accepted == options.events or (options.duration and not options.rate))
        and not writes.failures
        and (run.warmup_progress is None or run.warmup_progress.complete_at is not None),
    }


def counted_at(polls: Sequence[tuple[float, int]], moment: float) -> int:
    """What the read model counted at the last poll at or before `moment`."""
    index = bisect.bisect_right([at for at, _ in polls], moment)
    return max(0, polls[index - 1][1]) if index else 0


def window_figures(options: Options, writes: Writes, progress: Progress) -> dict[str, Any]:
    """Sustained rates over the sending window, per-slice accept p99, the read model's lag."""
    start = writes.first_sent
    window = options.duration or (writes.last_answered - start)
    slice_s = SLICE_S if window >= 2 * SLICE_S else max(1.0, window / 4)
    edges = [start + n * slice_s for n in range(int(window // slice_s) + 1)]
    counts = [counted_at(progress.polls, edge) for edge in edges]
    read_rates = [(b - a) / slice_s for a, b in itertools.pairwise(counts)]
    accepted = progress.accepted_at
    accepted_rates = [
        (bisect.bisect_left(accepted, b) - bisect.bisect_left(accepted, a)) / slice_s
        for a, b in itertools.pairwise(edges)
    ]
    p99_by_slice = []
    for a, b in itertools.pairwise(edges):
        first, last = bisect.bisect_left(accepted, a), bisect.bisect_left(accepted, b)
        p99_by_slice.append(rounded(_ms(percentile(writes.latencies_s[first:last], 0.99)), 1))
    in_window = counted_at(progress.polls, start + window)
    return {
        "window_s": rounded(window, 2),
        "slice_s": rounded(slice_s, 2),
        "read_model_counted_in_window": in_window,
        "read_model_rate_in_window_per_s": rounded(in_window / window if window else None, 1),
        "read_model_rate_by_slice_per_s": [round(r, 1) for r in read_rates],
        "read_model_worst_slice_per_s": rounded(min(read_rates, default=None), 1),
        "accepted_rate_by_slice_per_s": [round(r, 1) for r in accepted_rates],
        "register_p95_ms": rounded(_ms(percentile(writes.latencies_s, 0.95)), 1),
        "register_p99_ms_by_slice": p99_by_slice,
        "lag_p50_s": rounded(percentile(progress.lags_s, 0.5)),
        "lag_p99_s": rounded(percentile(progress.lags_s, 0.99)),
        "lag_max_s": rounded(max(progress.lags_s, default=None)),
    }


def max_staleness(samples: Sequence[Sample]) -> float | None:
    """The gauge is set when a batch is applied: only samples after this run's first count."""
    if not samples:
        return None
    before = samples[0].consumer_applied
    return max((s.staleness_s for s in samples if s.consumer_applied > before), default=None)


def first_through(run: Run) -> float | None:
    """Warm-up: from its first command until kpi counted all of it (a cold slice)."""
    if run.warmup is None or run.warmup_progress is None:
        return None
    if run.warmup_progress.complete_at is None:
        return None
    return run.warmup_progress.complete_at - run.warmup.first_sent


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _show(*values: object, unit: str = "") -> str:
    """Values joined by " / ", "-" for a missing one, whole floats without ".0"."""
    shown = []
    for value in values:
        if value is None:
            shown.append("-")
        elif isinstance(value, float) and value.is_integer() and unit not in ("s", "ms"):
            shown.append(str(int(value)))
        else:
            shown.append(str(value))
    return " / ".join(shown) + (f" {unit}" if unit else "")


def summary_rows(r: Mapping[str, Any]) -> list[tuple[str, str]]:
    tuning = ", ".join(f"{k}={v}" for k, v in r["tuning"].items()) or "service defaults"
    failed = ", ".join(f"{k} {v}" for k, v in r["failed"].items()) or "none"
    offered = (
        f"{_show(r['rate_offered_per_s'])}/s offered for {_show(r['duration_s'])} s (open load), "
        if r["rate_offered_per_s"]
        else ""
    )
    run = (
        f"{offered}{r['events']} events, {r['concurrency']} in flight, {r['cities']} cities, "
        f"{r['store']} event store, {r['cpus']} CPUs"
    )
    rows = [
        ("run", run),
        ("servers", f"Kafka {r['kafka']}, MongoDB {r['mongodb']}"),
        ("load average (1 min) before the run", _show(r["load_average_before"])),
        ("tuning", tuning),
        ("start-up until all five healthy", _show(r["startup_s"], unit="s")),
        ("  Tansu answering", _show(r["startup_kafka_s"], unit="s")),
        ("  then SecantusDB answering", _show(r["startup_mongodb_s"], unit="s")),
        ("  then five services healthy", _show(r["startup_services_s"], unit="s")),
    ]
    if r["postgres_start_s"] is not None:
        rows.append(("  (PostgreSQL cluster, beforehand)", _show(r["postgres_start_s"], unit="s")))
    rows += [
        (
            f"warm-up: {r['warmup']} problems through a cold slice",
            _show(r["warmup_first_through_s"], unit="s"),
        ),
        ("then waited", _show(r["settle_s"], unit="s")),
        (
            f"one event on an idle slice, p50 / max of {r['singles']}",
            _show(r["single_delay_p50_s"], r["single_delay_max_s"], unit="s"),
        ),
        ("commands accepted / failed", f"{r['accepted']} / {failed}"),
        ("write rate (registry accepted)", _show(r["write_rate_per_s"], unit="commands/s")),
        ("  first command to last answer", _show(r["write_seconds"], unit="s")),
        ("end-to-end rate (kpi read model)", _show(r["end_to_end_rate_per_s"], unit="events/s")),
        ("  first command to all N counted", _show(r["end_to_end_seconds"], unit="s")),
        ("  last answer to all N counted", _show(r["drain_after_last_write_s"], unit="s")),
        (
            f"read model within the {_show(r['window_s'])}-s window",
            (
                f"{r['read_model_counted_in_window']} counted, "
                f"{_show(r['read_model_rate_in_window_per_s'], unit='events/s')}"
            ),
        ),
        (
            f"  events/s counted per {_show(r['slice_s'])} s (worst)",
            (
                f"{', '.join(_show(v) for v in r['read_model_rate_by_slice_per_s'])} "
                f"({_show(r['read_model_worst_slice_per_s'])})"
            ),
        ),
        (
            f"  commands/s accepted per {_show(r['slice_s'])} s",
            ", ".join(_show(v) for v in r["accepted_rate_by_slice_per_s"]),
        ),
        (
            "RegisterProblem client p50 / p95 / p99 / max",
            _show(
                r["register_p50_ms"],
                r["register_p95_ms"],
                r["register_p99_ms"],
                r["register_max_ms"],
                unit="ms",
            ),
        ),
        (
            f"  p99 per {_show(r['slice_s'])} s",
            ", ".join(_show(v) for v in r["register_p99_ms_by_slice"]) + " ms",
        ),
        (
            "read-model lag p50 / p99 / max (accepted to counted)",
            _show(r["lag_p50_s"], r["lag_p99_s"], r["lag_max_s"], unit="s"),
        ),
        (
            "RegisterProblem server p50 / p99",
            _show(r["server_register_p50_ms"], r["server_register_p99_ms"], unit="ms"),
        ),
        ("relay lag max / final", _show(r["relay_lag_max"], r["relay_lag_final"], unit="events")),
        (
            "consumer lag max / final",
            _show(r["consumer_lag_max"], r["consumer_lag_final"], unit="events"),
        ),
        (
            "  applied from Kafka / from the event log",
            _show(
                r["consumer_applied_by_path"].get("kafka", 0.0),
                r["consumer_applied_by_path"].get("catch-up", 0.0),
                unit="events",
            ),
        ),
        ("  skipped as already applied", _show(r["consumer_duplicates"], unit="events")),
        ("  lmp_consumer_lag_events max", _show(r["consumer_lag_gauge_max"], unit="events")),
        ("end-to-end delay max (staleness)", _show(r["staleness_max_s"], unit="s")),
        ("  oldest uncounted command, max age", _show(r["unseen_age_max_s"], unit="s")),
        ("read model counted", f"{r['read_model_count']} of {r['accepted']}"),
        ("metric samples", _show(r["samples"])),
        ("CPU s (% of a core), first command to all counted", ""),
    ]
    rows += [
        (f"  {name}", f"{seconds} s ({_show(r['cpu_percent_of_one_core'][name])} %)")
        for name, seconds in r["cpu_seconds"].items()
    ]
    noise = r["cpu_percent_of_one_core"].get(OTHERS) or 0.0
    if noise > NOISY_PERCENT:
        rows.append(
            ("warning", f"other processes used {noise:.0f} % of a core: wall-clock figures suffer")
        )
    rows.append(("target", target_verdict(r)))
    rows.append(("result", "OK" if r["ok"] else "FAILED"))
    return rows


def target_verdict(r: Mapping[str, Any]) -> str:
    rate = r["read_model_rate_in_window_per_s"] or 0.0
    worst = r["read_model_worst_slice_per_s"] or 0.0
    p99 = r["register_p99_ms"]
    rate_ok = min(rate, worst) >= TARGET_EVENTS_PER_S
    p99_ok = p99 is not None and p99 <= TARGET_P99_MS
    return (
        f">= {TARGET_EVENTS_PER_S:.0f} events/s end to end (every slice): "
        f"{'met' if rate_ok else 'not met'}; accept p99 <= {TARGET_P99_MS:.0f} ms: "
        f"{'met' if p99_ok else 'not met'}"
    )


def print_timeline(samples: Sequence[Sample]) -> None:
    print()
    header = ("t s", "relay lag", "published", "applied", "staleness s", "kpi counted")
    print(" ".join(f"{h:>11}" for h in header))
    for s in samples:
        print(
            f"{s.at_s:11.2f} {s.relay_lag:11.0f} {s.relay_published:11.0f} "
            f"{s.consumer_applied:11.0f} {s.staleness_s:11.2f} {s.read_model:11d}"
        )


def print_summary(result: Mapping[str, Any]) -> None:
    rows = summary_rows(result)
    width = max(len(label) for label, _ in rows)
    print()
    print("slice throughput")
    print("=" * (width + 40))
    for label, value in rows:
        print(f"{label:<{width}}  {value}".rstrip())


# ---------------------------------------------------------------------------------------------
# Main


def report_dead_services(stack: Stack) -> None:
    for service in stack.services:
        process = service.process
        if process is not None and not process.alive:
            print(
                f"{service.service} exited with code {process.returncode}; its log ends with:\n"
                f"{process.log_tail()}",
                file=sys.stderr,
            )


@contextmanager
def data_directory(chosen: Path | None) -> Iterator[Path]:
    if chosen is not None:
        chosen.mkdir(parents=True, exist_ok=True)
        yield chosen.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="lmp-bench-") as temporary:
        yield Path(temporary)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    with ExitStack() as resources:
        # A directory of its own for each run, so a kept --data-dir never mixes two runs.
        data_dir = resources.enter_context(data_directory(options.data_dir))
        data_dir /= f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        startup_postgres: float | None = None
        dsn: str | None = None
        extra: dict[str, int] = {}
        if options.store == "postgres":
            dsn = os.environ.get("POSTGRES_DSN") or None
            if dsn is None:
                began = time.monotonic()
                server = resources.enter_context(start_postgres(data_dir / "postgres"))
                startup_postgres = time.monotonic() - began
                dsn = server.address
                extra["postgres"] = server.process.pid
        stack_dir = data_dir / "stack"
        env = bench_env(stack_dir, dsn)
        print(f"starting the embedded stack in {stack_dir} ...", flush=True)
        with StartupWatch(stack_dir, env) as watch:
            stack = resources.enter_context(embedded_stack(stack_dir, env))
            healthy_at = time.monotonic()
        startup = watch.result(healthy_at)
        startup.postgres_s = startup_postgres
        print(f"all {len(stack.services)} services healthy in {startup.total_s:.2f} s", flush=True)
        print(
            f"registering {options.events} problems over {options.cities} cities, "
            f"{options.concurrency} in flight ...",
            flush=True,
        )
        try:
            run = asyncio.run(workload(stack, options, extra))
        except (grpc.RpcError, OSError):
            report_dead_services(stack)
            raise
        result = figures(options, startup, run, env)
        if not result["ok"]:
            where = (
                f"logs in {stack_dir / 'logs'}"
                if options.data_dir
                else "run again with --data-dir to keep the logs"
            )
            print(
                f"the read model counted {result['read_model_count']} of {result['accepted']} "
                f"accepted ({options.events} sent) within {options.timeout:.0f} s of the last "
                f"command; {where}",
                file=sys.stderr,
            )
    if options.timeline:
        print_timeline(run.sampler.samples)
    print_summary(result)
    if options.json:
        print(json.dumps(result, sort_keys=True))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
