"""Ballots per second over gRPC, end to end to the live tally.

Starts the embedded stack (Tansu, SecantusDB, registry and voting as `lmp serve` processes) in
a temporary directory (or --data-dir) on free ports and registers a few problems. Warm-up:
--warmup ballots on a poll of their own, then it waits until that poll's live tally counts
them all, voting's consumer has applied something from Kafka (it has its partitions) and a
reconcile with the event log has passed them (`lmp_consumer_position`), so joining the group
and the first catch-up are not in the measured window. Then it creates the measured poll and
for --duration seconds keeps --concurrency CastBallot calls in flight (each a new resident,
through a portal token) while a sampler reads GetLiveResults every --sample-interval s.

It prints ballots accepted per second, p50/p99/max accept latency (client side, with that many
calls in flight), and the projection lag: the sampler sorts the accepted ballots by the time
the client got their reply; when GetLiveResults reports n ballots, the first n of them count
as counted, with the lag = end of that GetLiveResults call - acceptance. So the lag is
over-estimated by up to one interval plus one call. --timeline also prints, every second,
the ballots accepted and counted and voting's relay and consumer metrics.

    uv run python bench/voting_throughput.py [--duration S] [--concurrency C] [--split] ...
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import itertools
import json
import os
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import grpc
import uvloop
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp.voting.v1 import voting_pb2, voting_pb2_grpc
from lmp_devstack import free_port, start_postgres
from lmp_kit.auth import issuer_of
from lmp_kit.settings import Settings
from prometheus_client.parser import text_string_to_metric_families

from lmp_cli.stack import ServiceProcess, Stack, embedded_stack, isolated_env

CITY = "bench-city"
Figures = dict[str, float | list[float]]
OPTIONS = 4
# Ballots cast after a quiet warm-up until one comes through Kafka (warm_up).
PROBE_BALLOTS = 10
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def bench_env(
    data_dir: Path, postgres_dsn: str | None, settings: list[str] | None = None
) -> dict[str, str]:
    chosen = {"LMP_LOG_LEVEL": "WARNING"}
    for setting in settings or ():
        key, sep, value = setting.partition("=")
        if not sep or not key.startswith("LMP_"):
            msg = f"--set takes LMP_NAME=VALUE, not {setting!r}"
            raise SystemExit(msg)
        chosen[key] = value
    return isolated_env(data_dir, prefix="bench", postgres_dsn=postgres_dsn, settings=chosen)


def cpu_seconds(pid: int, *, children: bool = True) -> float:
    """CPU time of a process, and with children of the ones it runs (Tansu and SecantusDB
    run under wrappers); the bench client's own children are the stack, counted apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    if not children:
        return sum(int(v) for v in fields[11:13]) / CLOCK_TICKS
    total = sum(int(v) for v in fields[11:15]) / CLOCK_TICKS
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for child_pid in child.read_text(encoding="ascii").split():
            total += cpu_seconds(int(child_pid))
    return total


def processes_of(stack: Stack, extra: list[ServiceProcess]) -> dict[str, int]:
    found = {s.name: s.process.popen.pid for s in stack.servers}
    for service in [*stack.services, *extra]:
        if service.process is not None:
            name = service.label or service.service
            found[name] = service.process.popen.pid
    return found


def percentile(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def scrape(port: int) -> dict[str, float]:
    """The samples of a /metrics page, each summed over its labels but `path` (kept); none
    while the process does not answer yet."""
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # a local http URL
            text = response.read().decode("utf-8")
    except OSError:
        return {}
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.name
            if "path" in sample.labels:
                name = f"{name}:{sample.labels['path']}"
            values[name] = values.get(name, 0.0) + float(sample.value)
    return values


def bearer(env: dict[str, str], subject: str, role: str) -> tuple[tuple[str, str], ...]:
    issuer = issuer_of(Settings.from_env("voting", env))
    token = issuer.issue(subject, roles=[role], cities=[CITY], ttl_seconds=7200)
    return (("authorization", f"Bearer {token}"),)


def fewer_than(load: Load, count: int) -> bool:
    """Whether the load has had fewer than `count` ballots accepted."""
    return len(load.accepted_at) < count


def choices_for(method: str, number: int) -> list[voting_pb2.Choice]:
    options = [f"o{i}" for i in range(1, OPTIONS + 1)]
    shift = number % OPTIONS
    order = options[shift:] + options[:shift]
    if method == "single_choice":
        return [voting_pb2.Choice(option_id=order[0], value=1)]
    return [voting_pb2.Choice(option_id=o, value=r + 1) for r, o in enumerate(order)]


def stamp(moment: datetime) -> Timestamp:
    message = Timestamp()
    message.FromDatetime(moment)
    return message


def register_problems(env: dict[str, str]) -> list[str]:
    organizer = bearer(env, "bench", "working_group")
    registry = registry_pb2_grpc.RegistryServiceStub(
        grpc.insecure_channel(Settings.from_env("registry", env).endpoint.grpc_target)
    )
    return [
        registry.RegisterProblem(
            registry_pb2.RegisterProblemRequest(city_id=CITY, title=f"Bench problem {n}"),
            metadata=organizer,
            timeout=30,
        ).problem.problem_id
        for n in range(OPTIONS)
    ]


def create_poll(env: dict[str, str], method: str, problems: list[str], title: str) -> str:
    """A poll open for a day, once voting's read model knows it (GetLiveResults answers)."""
    settings = Settings.from_env("voting", env)
    organizer = bearer(env, "bench", "working_group")
    stub = voting_pb2_grpc.VotingServiceStub(grpc.insecure_channel(settings.endpoint.grpc_target))
    now = datetime.now(UTC)
    poll = stub.CreatePoll(
        voting_pb2.CreatePollRequest(
            city_id=CITY,
            kind="city_problem",
            title=title,
            method=method,
            options=[voting_pb2.OptionRef(ref_kind="problem", ref_id=p) for p in problems],
            opens_at=stamp(now - timedelta(minutes=1)),
            closes_at=stamp(now + timedelta(days=1)),
        ),
        metadata=organizer,
        timeout=30,
    )
    ready_by = time.monotonic() + 60
    while True:
        try:
            stub.GetLiveResults(
                voting_pb2.GetLiveResultsRequest(poll_id=poll.poll_id),
                metadata=organizer,
                timeout=30,
            )
        except grpc.RpcError as error:
            # UNAVAILABLE: not in the read model yet
            if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > ready_by:
                raise
            time.sleep(0.2)
        else:
            return poll.poll_id


@dataclass
class Load:
    """What the clients saw of one poll's ballots, and when its live tally counted them."""

    poll_id: str
    accepted_at: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    lags: list[float] = field(default_factory=list)
    counted: int = 0
    sending: bool = True


def by_minute(load: Load, started: float) -> list[float]:
    """Accept p99 (ms) of the ballots accepted in each minute of sending: does it drift?"""
    minutes: dict[int, list[float]] = {}
    for accepted, latency in zip(load.accepted_at, load.latencies, strict=True):
        minutes.setdefault(int((accepted - started) // 60), []).append(latency)
    return [round(percentile(minutes[m], 99) * 1000, 1) for m in sorted(minutes)]


class Bench:
    def __init__(self, env: dict[str, str], args: argparse.Namespace, metrics_port: int) -> None:
        target = Settings.from_env("voting", env).endpoint.grpc_target
        self.args = args
        self.metrics_port = metrics_port
        self.portal = bearer(env, "portal", "portal")
        self.reader = bearer(env, "bench", "working_group")
        # each channel its own connection (gRPC would share one between equal channels)
        self.channels = [
            grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
            for _ in range(args.channels)
        ]
        self.stubs = [voting_pb2_grpc.VotingServiceStub(c) for c in self.channels]
        self.numbers = itertools.count()
        self.started = time.monotonic()
        self.timeline: list[tuple[float, ...]] = []
        self.current: Load | None = None
        self.loads: list[Load] = []

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close(None)

    async def cast(self, load: Load, more: Callable[[], bool]) -> None:
        """Keep up to --concurrency CastBallot calls in flight (a new resident each) while
        `more()`; with --rate R, the k-th ballot is due at start + k/R and its latency counts
        from when it was due (no coordinated omission: a late send is part of the latency)."""
        issued = itertools.count()
        start = time.monotonic()
        rate = self.args.rate

        async def client(index: int) -> None:
            stub = self.stubs[index % len(self.stubs)]
            while more():
                number = next(self.numbers)
                sent = time.monotonic()
                if rate:
                    due = start + next(issued) / rate
                    if due > sent:
                        await asyncio.sleep(due - sent)
                    sent = due
                try:
                    await stub.CastBallot(
                        voting_pb2.CastBallotRequest(
                            poll_id=load.poll_id,
                            voter_id=f"bench-resident-{number}",
                            choices=choices_for(self.args.method, number),
                        ),
                        metadata=self.portal,
                        timeout=30,
                    )
                except grpc.aio.AioRpcError as error:
                    load.refused[error.code().name] = load.refused.get(error.code().name, 0) + 1
                    continue
                done = time.monotonic()
                load.latencies.append(done - sent)
                load.accepted_at.append(done)

        await asyncio.gather(*(client(i) for i in range(self.args.concurrency)))

    async def follow(self, load: Load, until: float) -> None:
        """Sample the poll's live tally every --sample-interval s until it counts every accepted
        ballot (or `until`). A ballot's lag is the time from its acceptance (the client got the
        reply) until the end of the first GetLiveResults whose count reached its rank in order of
        acceptance: over-estimated by up to one interval plus one GetLiveResults call."""
        while True:
            live = await self.stubs[0].GetLiveResults(
                voting_pb2.GetLiveResultsRequest(poll_id=load.poll_id),
                metadata=self.reader,
                timeout=30,
            )
            now = time.monotonic()
            # in order already: each is appended right after reading the clock, on one loop
            accepted = load.accepted_at
            counted = min(live.ballots, len(accepted))
            load.lags.extend(now - t for t in accepted[load.counted : counted])
            load.counted = max(load.counted, counted)
            if not load.sending and load.counted >= len(load.accepted_at):
                return
            if now > until:
                return
            await asyncio.sleep(self.args.sample_interval)

    async def metrics(self) -> dict[str, float]:
        return await asyncio.to_thread(scrape, self.metrics_port)

    async def watch(self) -> None:
        """Every second: ballots accepted and counted (of the current poll), and voting's relay
        and consumer metrics (all polls)."""
        while True:
            values = await self.metrics()
            load = self.current
            self.timeline.append(
                (
                    time.monotonic() - self.started,
                    len(load.accepted_at) if load else 0,
                    load.counted if load else 0,
                    values.get("lmp_relay_published_total", 0.0),
                    values.get("lmp_relay_lag_events", 0.0),
                    values.get("lmp_consumer_applied_total:kafka", 0.0),
                    values.get("lmp_consumer_applied_total:catch-up", 0.0),
                    values.get("lmp_projection_staleness_seconds", 0.0),
                )
            )
            await asyncio.sleep(1.0)

    def second_p99(self, end: float) -> float:
        """Accept p99 (ms) of the ballots accepted in the second before `end` (bench time)."""
        latencies: list[float] = []
        for load in self.loads:
            first = bisect.bisect_left(load.accepted_at, self.started + end - 1)
            last = bisect.bisect_left(load.accepted_at, self.started + end)
            latencies += load.latencies[first:last]
        return round(percentile(latencies, 99) * 1000, 1) if latencies else 0.0

    async def warm_up(self, load: Load) -> Figures:
        """--warmup ballots on their own poll, then wait until the tally counts them all, the
        consumer has its Kafka partitions (something came from Kafka), and a reconcile
        with the event log has passed them (so start-up work is not in the measured window)."""
        started = time.monotonic()
        self.current = load
        self.loads.append(load)
        follower = asyncio.create_task(self.follow(load, started + self.args.drain_timeout))
        await self.cast(load, partial(fewer_than, load, self.args.warmup))
        load.sending = False
        await follower
        sent_s = time.monotonic() - started
        head: float | None = None
        while time.monotonic() < started + self.args.drain_timeout:
            values = await self.metrics()
            # Kafka's deliveries show as applied, or as duplicates when the catch-up applied
            # them first. A quiet warm-up can show neither: the catch-up applied every ballot
            # before the consumer had its partitions, which then start past them (the offsets
            # kept with the read model). A few more ballots then show the fast path working.
            delivered = values.get("lmp_consumer_applied_total:kafka", 0.0) + values.get(
                "lmp_consumer_duplicates_total", 0.0
            )
            if not delivered:
                await self.cast(
                    load, partial(fewer_than, load, len(load.accepted_at) + PROBE_BALLOTS)
                )
                await asyncio.sleep(0.5)
                continue
            if head is None:
                head = values.get("lmp_relay_position", 0.0)
            if values.get("lmp_consumer_position", 0.0) >= head:
                break
            await asyncio.sleep(0.2)
        return {
            "warmup_ballots": len(load.accepted_at),
            "warmup_seconds": round(time.monotonic() - started, 2),
            "warmup_all_counted_s": round(sent_s, 2),
        }

    async def measure(self, load: Load) -> Figures:
        self.current = load
        self.loads.append(load)
        started = time.monotonic()
        deadline = started + self.args.duration
        follower = asyncio.create_task(self.follow(load, deadline + self.args.drain_timeout))
        await self.cast(load, lambda: time.monotonic() < deadline)
        load.sending = False
        sending_s = time.monotonic() - started
        await follower
        drained_s = time.monotonic() - started
        accepted = sorted(load.accepted_at)
        windows = [bisect.bisect_left(accepted, started + s) for s in range(int(sending_s) + 1)]
        per_second = [b - a for a, b in itertools.pairwise(windows)]
        return {
            "ballots_accepted": len(accepted),
            "refused": sum(load.refused.values()),
            "seconds_sending": round(sending_s, 2),
            "ballots_per_s": round(len(accepted) / sending_s, 1),
            "worst_second_ballots": min(per_second) if per_second else 0,
            "accept_p50_ms": round(percentile(load.latencies, 50) * 1000, 1),
            "accept_p99_ms": round(percentile(load.latencies, 99) * 1000, 1),
            "accept_max_ms": round(max(load.latencies, default=float("nan")) * 1000, 1),
            "accept_p99_ms_by_minute": by_minute(load, started),
            "lag_p50_s": round(percentile(load.lags, 50), 3),
            "lag_p99_s": round(percentile(load.lags, 99), 3),
            "lag_max_s": round(max(load.lags, default=float("nan")), 3),
            "counted_live": len(load.lags),
            "seconds_until_all_counted": round(drained_s, 2),
        }

    def print_timeline(self) -> None:
        print(
            "      t  accepted   counted  published relay_lag kafka_applied catchup staleness"
            "  p99_ms"
        )
        for row in self.timeline:
            print(
                "{:7.1f} {:9.0f} {:9.0f} {:10.0f} {:9.0f} {:13.0f} {:7.0f} {:9.2f}".format(*row),
                f"{self.second_p99(row[0]):7.1f}",
            )


class CpuMeter:
    """CPU time of the stack's processes and of this client, as % of one core."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.before: dict[str, float] = {}
        self.started = 0.0

    def begin(self) -> None:
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.before["bench client"] = cpu_seconds(os.getpid(), children=False)
        self.started = time.monotonic()

    def end(self) -> dict[str, int]:
        seconds = time.monotonic() - self.started
        now = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        now["bench client"] = cpu_seconds(os.getpid(), children=False)
        return {name: round((now[name] - self.before[name]) / seconds * 100) for name in now}


async def workload(
    env: dict[str, str], args: argparse.Namespace, metrics_port: int, cpu: CpuMeter
) -> tuple[Figures, dict[str, int]]:
    problems = await asyncio.to_thread(register_problems, env)
    bench = Bench(env, args, metrics_port)
    watching = asyncio.create_task(bench.watch()) if args.timeline else None
    try:
        figures: Figures = {}
        if args.warmup:
            poll_id = await asyncio.to_thread(create_poll, env, args.method, problems, "Warm-up")
            figures |= await bench.warm_up(Load(poll_id))
        poll_id = await asyncio.to_thread(create_poll, env, args.method, problems, "Benchmark")
        cpu.begin()
        figures |= await bench.measure(Load(poll_id))
        percent = cpu.end()
    finally:
        if watching is not None:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
            bench.print_timeline()
        await bench.close()
    return figures, percent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of sending")
    parser.add_argument("--concurrency", type=int, default=64, help="CastBallot calls in flight")
    parser.add_argument(
        "--method", choices=("single_choice", "borda", "schulze"), default="single_choice"
    )
    parser.add_argument("--channels", type=int, default=1, help="gRPC channels of the client")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="ballots per second offered (0: as fast as --concurrency calls in flight allow)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=5000,
        help="ballots cast on a separate poll before the measured one (0: none)",
    )
    parser.add_argument("--sample-interval", type=float, default=0.1)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="print voting's relay and consumer metrics every second",
    )
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="voting's event store (the throwaway PostgreSQL runs without fsync)",
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="run voting's API and its relay+consumers as two processes",
    )
    parser.add_argument(
        "--api-processes",
        type=int,
        default=1,
        help="with --split: voting API processes sharing the gRPC port (LMP_GRPC_REUSE_PORT; "
        "the kernel spreads connections, so give --channels at least as many)",
    )
    parser.add_argument(
        "--data-dir", type=Path, help="keep the stack's data and logs here (default: a temp dir)"
    )
    parser.add_argument(
        "--set",
        action="append",
        metavar="LMP_NAME=VALUE",
        help="a setting for every process of the stack (README, Configuration); repeatable",
    )
    return parser.parse_args()


def start_split_voting(
    stack_env: dict[str, str], logs: Path, args: argparse.Namespace, started: list[ServiceProcess]
) -> None:
    """Voting as --api-processes API processes (sharing the gRPC port when more than one) and
    one relay+consumers process; the first API process keeps voting's metrics port."""
    labels = ["voting-api"]
    if args.api_processes > 1:
        labels = [f"voting-api-{n + 1}" for n in range(args.api_processes)]
    roles: list[tuple[tuple[str, ...], str]] = [(("api",), label) for label in labels]
    roles.append((("relay", "consumers"), "voting-relay+consumers"))
    for index, (components, label) in enumerate(roles):
        env = dict(stack_env)
        if index > 0:
            env["LMP_VOTING_METRICS_PORT"] = str(free_port())
        if args.api_processes > 1:
            env["LMP_GRPC_REUSE_PORT"] = "true"
        process = ServiceProcess("voting", env, logs, components, label)
        started.append(process)
        process.start()


def main() -> None:
    args = parse_args()
    if args.api_processes > 1 and not args.split:
        msg = "--api-processes needs --split"
        raise SystemExit(msg)
    services = ("registry",) if args.split else ("registry", "voting")
    with contextlib.ExitStack() as resources:
        if args.data_dir is None:
            tmp = resources.enter_context(tempfile.TemporaryDirectory(prefix="lmp-voting-bench-"))
        else:
            tmp = str(args.data_dir)
        dsn = None
        if args.store == "postgres":
            dsn = resources.enter_context(start_postgres(Path(tmp) / "postgres")).address
        env = bench_env(Path(tmp) / "stack", dsn, args.set)
        stack = resources.enter_context(embedded_stack(Path(tmp) / "stack", env, services))
        extra: list[ServiceProcess] = []
        try:
            if args.split:
                start_split_voting(stack.env, Path(tmp) / "stack" / "logs", args, extra)
            # the relay's and consumers' /metrics: voting's, or the relay+consumers process's
            follower = extra[-1].settings if extra else Settings.from_env("voting", stack.env)
            meter = CpuMeter(processes_of(stack, extra))
            # the client on uvloop too, as the services: less of the machine's CPU for the load
            figures, cpu = uvloop.run(
                workload(stack.env, args, follower.endpoint.metrics_port, meter)
            )
        finally:
            for process in extra:
                process.stop()
    print(
        f"voting throughput ({args.method}, {args.concurrency} in flight, "
        f"{f'{args.rate:.0f} ballots/s offered, ' if args.rate else ''}"
        f"{args.duration:.0f} s, {args.store}"
        f"{', api split from relay+consumers' if args.split else ''}"
        f"{f', {args.api_processes} api processes' if args.api_processes > 1 else ''}"
        f"{f', {args.channels} channels' if args.channels > 1 else ''}, "
        f"warm-up {args.warmup} ballots)"
    )
    for name, value in figures.items():
        print(f"  {name:28} {value}")
    print("  CPU % of one core while sending and draining (measured poll), per process:")
    for name, percent in sorted(cpu.items(), key=lambda item: -item[1]):
        print(f"    {name:26} {percent}")
    print(json.dumps(figures | {"cpu_percent": cpu}))


if __name__ == "__main__":
    main()
