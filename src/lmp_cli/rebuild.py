"""`lmp rebuild SERVICE`: rebuild a service's read models blue/green (lmp_kit.rebuild)."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from lmp_kit.rebuild import Outcome, Progress, Rebuild, RebuildError
from lmp_kit.runtime import Subscription, mongo_client, read_models, service_token
from lmp_kit.settings import Settings

# What an API writes into a generation as a cache of what the events determine: copied from the
# live generation at the switch, not compared (a rebuilt generation would build it again).
CACHES: Mapping[str, tuple[str, ...]] = {"voting": ("receipt_trees",)}
EXIT_SWITCHED = 0
EXIT_DIFFERENT = 1
EXIT_REFUSED = 2


def subscriptions_of(service: str) -> Sequence[Subscription]:
    module = importlib.import_module(f"{service}.consumers")
    found = getattr(module, "SUBSCRIPTIONS", None)
    subscriptions: Sequence[Subscription] = found if found is not None else module.subscriptions()
    return subscriptions


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


class Printer:
    """One line per report; on a terminal the line is redrawn in place."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.in_place = out.isatty()
        self.drawn = False

    def progress(self, progress: Progress) -> None:
        upstreams = ", ".join(
            f"{u} {progress.positions[u]:,}/{progress.heads[u]:,}"
            for u in sorted(progress.positions)
        )
        line = (
            f"{progress.phase} generation {progress.generation}: {progress.applied:,} events "
            f"applied, {progress.events_per_s:,.0f} events/s, {progress.remaining:,} to go, "
            f"ETA {duration(progress.eta_s)} [{upstreams}]"
        )
        if self.in_place:
            self.out.write(f"\r\x1b[K{line}")
            self.drawn = True
        else:
            self.out.write(f"{line}\n")
        self.out.flush()

    def say(self, line: str) -> None:
        if self.drawn:
            self.out.write("\n")
            self.drawn = False
        self.out.write(f"{line}\n")
        self.out.flush()


def summary(service: str, outcome: Outcome) -> str:
    if not outcome.switched:
        return (
            f"{service}: generation {outcome.generation} differs from the live generation "
            f"{outcome.previous} in {', '.join(outcome.differences)}; nothing switched, the "
            f"live consumers resumed on generation {outcome.previous}"
        )
    old = (
        f"generation {outcome.previous} dropped"
        if outcome.dropped
        else f"generation {outcome.previous} kept"
    )
    return (
        f"{service}: switched to generation {outcome.generation} ({outcome.applied:,} events "
        f"applied in {duration(outcome.seconds)}; {len(outcome.compared)} collections equal to "
        f"the live ones: {', '.join(outcome.compared)}); {old}"
    )


async def rebuild(  # noqa: PLR0913  # the command's options, each named
    service: str,
    env: Mapping[str, str],
    *,
    projection: str | None,
    keep_old: bool,
    abandon: bool,
    out: TextIO,
) -> int:
    settings = Settings.from_env(service, env)
    subscriptions = subscriptions_of(service)
    if not subscriptions:
        print(f"{service} keeps no read models of event logs", file=out)
        return EXIT_REFUSED
    client = mongo_client(settings)
    printer = Printer(out)
    try:
        job = Rebuild(
            models=read_models(settings, client, subscriptions),
            subscriptions=subscriptions,
            upstream_targets={
                s.upstream: settings.endpoints[s.upstream].grpc_target for s in subscriptions
            },
            token=service_token(settings),
            only=projection,
            keep_old=keep_old,
            caches=CACHES.get(service, ()),
            report=printer.progress,
            say=printer.say,
        )
        if abandon:
            dropped = await job.abandon()
            printer.say(
                f"{service}: no rebuild in progress"
                if dropped is None
                else f"{service}: abandoned the rebuild into generation {dropped}"
            )
            return EXIT_SWITCHED
        outcome = await job.run()
    except RebuildError as error:
        printer.say(f"{service}: {error}")
        return EXIT_REFUSED
    finally:
        await client.close()
    printer.say(summary(service, outcome))
    return EXIT_SWITCHED if outcome.switched else EXIT_DIFFERENT


def run(  # noqa: PLR0913  # the command's options, each named
    service: str,
    env: Mapping[str, str],
    *,
    projection: str | None = None,
    keep_old: bool = False,
    abandon: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    return asyncio.run(
        rebuild(service, env, projection=projection, keep_old=keep_old, abandon=abandon, out=out)
    )
