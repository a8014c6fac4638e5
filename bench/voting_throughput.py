"""Ballots per second over gRPC, end to end to the live tally.

Starts the embedded stack (Tansu, SecantusDB, registry and voting as `lmp serve` processes) in
a temporary directory on free ports, registers a few problems, creates a city-problem poll,
then for --duration seconds keeps --concurrency CastBallot calls in flight (each a new
resident, through a portal token) while a sampler reads GetLiveResults. It prints ballots
accepted per second, p50/p99 accept latency, and the projection lag: for every accepted ballot,
the time from its acceptance until the live tally first counted it (sampled every
--sample-interval s, so the lag is over-estimated by up to that interval).

    uv run python bench/voting_throughput.py [--duration S] [--concurrency C] [--method M]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import itertools
import json
import os
import secrets
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from lmp.voting.v1 import voting_pb2, voting_pb2_grpc
from lmp_kit.runtime import issuer_of
from lmp_kit.servers import free_port, start_postgres
from lmp_kit.settings import SERVICES, Settings

from lmp_cli.stack import ServiceProcess, Stack, embedded_stack

CITY = "bench-city"
OPTIONS = 4
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def bench_env(data_dir: Path, postgres_dsn: str | None) -> dict[str, str]:
    tag = uuid.uuid4().hex[:10]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMP_")}
    env |= {
        "LMP_DATA_DIR": str(data_dir),
        "LMP_JWT_SECRET": secrets.token_urlsafe(32),
        "LMP_VOTING_PSEUDONYM_KEY": secrets.token_urlsafe(32),
        "LMP_KAFKA_NAMESPACE": f"bench{tag}",
        "LMP_MONGODB_DB_PREFIX": f"bench{tag}_",
        "LMP_EMBEDDED_KAFKA_PORT": str(free_port()),
        "LMP_EMBEDDED_MONGODB_PORT": str(free_port()),
        "LMP_EVENT_STORE": "sqlite",
        "LMP_LOG_LEVEL": "WARNING",
    }
    if postgres_dsn is not None:
        env |= {
            "LMP_EVENT_STORE": "postgres",
            "POSTGRES_DSN": postgres_dsn,
            "LMP_POSTGRES_SCHEMA_PREFIX": f"bench{tag}_",
        }
    for name in SERVICES:
        env[f"LMP_{name.upper()}_GRPC_PORT"] = str(free_port())
        env[f"LMP_{name.upper()}_METRICS_PORT"] = str(free_port())
    return env


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


def bearer(env: dict[str, str], subject: str, role: str) -> tuple[tuple[str, str], ...]:
    issuer = issuer_of(Settings.from_env("voting", env))
    token = issuer.issue(subject, roles=[role], cities=[CITY], ttl_seconds=7200)
    return (("authorization", f"Bearer {token}"),)


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


def prepare(env: dict[str, str], method: str) -> str:
    settings = Settings.from_env("voting", env)
    organizer = bearer(env, "bench", "working_group")
    registry = registry_pb2_grpc.RegistryServiceStub(
        grpc.insecure_channel(Settings.from_env("registry", env).endpoint.grpc_target)
    )
    problems = [
        registry.RegisterProblem(
            registry_pb2.RegisterProblemRequest(city_id=CITY, title=f"Bench problem {n}"),
            metadata=organizer,
            timeout=30,
        ).problem.problem_id
        for n in range(OPTIONS)
    ]
    stub = voting_pb2_grpc.VotingServiceStub(grpc.insecure_channel(settings.endpoint.grpc_target))
    now = datetime.now(UTC)
    poll = stub.CreatePoll(
        voting_pb2.CreatePollRequest(
            city_id=CITY,
            kind="city_problem",
            title="Benchmark poll",
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
            if error.code() != grpc.StatusCode.NOT_FOUND or time.monotonic() > ready_by:
                raise
            time.sleep(0.2)
        else:
            return poll.poll_id


async def run(env: dict[str, str], poll_id: str, args: argparse.Namespace) -> dict[str, float]:
    settings = Settings.from_env("voting", env)
    portal = bearer(env, "portal", "portal")
    reader = bearer(env, "bench", "working_group")
    channels = [
        grpc.aio.insecure_channel(settings.endpoint.grpc_target) for _ in range(args.channels)
    ]
    stubs = [voting_pb2_grpc.VotingServiceStub(c) for c in channels]
    accepted_at: list[float] = []
    latencies: list[float] = []
    refused: dict[str, int] = {}
    lags: list[float] = []
    counter = iter(range(10**9))
    started = time.monotonic()
    deadline = started + args.duration

    async def client(index: int) -> None:
        stub = stubs[index % len(stubs)]
        while time.monotonic() < deadline:
            number = next(counter)
            sent = time.monotonic()
            try:
                await stub.CastBallot(
                    voting_pb2.CastBallotRequest(
                        poll_id=poll_id,
                        voter_id=f"bench-resident-{number}",
                        choices=choices_for(args.method, number),
                    ),
                    metadata=portal,
                    timeout=30,
                )
            except grpc.aio.AioRpcError as error:
                refused[error.code().name] = refused.get(error.code().name, 0) + 1
                continue
            done = time.monotonic()
            latencies.append(done - sent)
            accepted_at.append(done)

    async def sampler() -> None:
        seen = 0
        accepted_sorted: list[float] = []
        while True:
            live = await stubs[0].GetLiveResults(
                voting_pb2.GetLiveResultsRequest(poll_id=poll_id), metadata=reader, timeout=30
            )
            now = time.monotonic()
            accepted_sorted = sorted(accepted_at)
            counted = min(live.ballots, len(accepted_sorted))
            lags.extend(now - t for t in accepted_sorted[seen:counted])
            seen = max(seen, counted)
            if time.monotonic() >= deadline and seen >= len(accepted_at):
                return
            if time.monotonic() > deadline + args.drain_timeout:
                return
            await asyncio.sleep(args.sample_interval)

    sampling = asyncio.create_task(sampler())
    await asyncio.gather(*(client(i) for i in range(args.concurrency)))
    sending_s = time.monotonic() - started
    await sampling
    drained_s = time.monotonic() - started
    for channel in channels:
        await channel.close(None)
    windows = [
        bisect.bisect_left(sorted(accepted_at), started + s) for s in range(int(sending_s) + 1)
    ]
    per_second = [b - a for a, b in itertools.pairwise(windows)]
    return {
        "ballots_accepted": len(accepted_at),
        "refused": sum(refused.values()),
        "seconds_sending": round(sending_s, 2),
        "ballots_per_s": round(len(accepted_at) / sending_s, 1),
        "worst_second_ballots": min(per_second) if per_second else 0,
        "accept_p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "accept_p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "lag_p50_s": round(percentile(lags, 50), 3),
        "lag_p99_s": round(percentile(lags, 99), 3),
        "counted_live": len(lags),
        "seconds_until_all_counted": round(drained_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of sending")
    parser.add_argument("--concurrency", type=int, default=64, help="CastBallot calls in flight")
    parser.add_argument(
        "--method", choices=("single_choice", "borda", "schulze"), default="single_choice"
    )
    parser.add_argument("--channels", type=int, default=1, help="gRPC channels of the client")
    parser.add_argument("--sample-interval", type=float, default=0.1)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
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
    args = parser.parse_args()
    services = ("registry",) if args.split else ("registry", "voting")
    with contextlib.ExitStack() as resources:
        tmp = resources.enter_context(tempfile.TemporaryDirectory(prefix="lmp-voting-bench-"))
        dsn = None
        if args.store == "postgres":
            dsn = resources.enter_context(start_postgres(Path(tmp) / "postgres")).address
        stack = resources.enter_context(
            embedded_stack(Path(tmp) / "stack", bench_env(Path(tmp) / "stack", dsn), services)
        )
        extra = []
        try:
            if args.split:
                for components in (("api",), ("relay", "consumers")):
                    label = f"voting-{'+'.join(components)}"
                    env = dict(stack.env)
                    if "api" not in components:
                        env["LMP_VOTING_METRICS_PORT"] = str(free_port())
                    process = ServiceProcess(
                        "voting", env, Path(tmp) / "stack" / "logs", components, label
                    )
                    extra.append(process)
                    process.start()
            poll_id = prepare(stack.env, args.method)
            pids = processes_of(stack, extra)
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            client_before = cpu_seconds(os.getpid(), children=False)
            figures = asyncio.run(run(stack.env, poll_id, args))
            seconds = figures["seconds_until_all_counted"]
            cpu = {
                name: round((cpu_seconds(pid) - before[name]) / seconds * 100)
                for name, pid in pids.items()
            }
            client = cpu_seconds(os.getpid(), children=False) - client_before
            cpu["bench client"] = round(client / seconds * 100)
        finally:
            for process in extra:
                process.stop()
    print(
        f"voting throughput ({args.method}, {args.concurrency} in flight, "
        f"{args.duration:.0f} s, {args.store}"
        f"{', api split from relay+consumers' if args.split else ''})"
    )
    for name, value in figures.items():
        print(f"  {name:28} {value}")
    print("  CPU % of one core while sending and draining, per process:")
    for name, percent in sorted(cpu.items(), key=lambda item: -item[1]):
        print(f"    {name:26} {percent}")
    print(json.dumps(figures | {"cpu_percent": cpu}))


if __name__ == "__main__":
    main()
