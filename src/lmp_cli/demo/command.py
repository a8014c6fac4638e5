"""`lmp demo`: on a running stack when all five services answer, else on the embedded one."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import grpc
from lmp_kit.settings import SERVICES, Settings

from lmp_cli.demo.output import Printer, print_results
from lmp_cli.demo.scenario import scenario
from lmp_cli.local import with_dev_secret
from lmp_cli.stack import (
    Restarts,
    StopSignals,
    console_answers,
    console_url,
    embedded_stack,
    is_serving,
)


def demo_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LMP_DATA_DIR", str(data_dir))
    return with_dev_secret(env, data_dir)


def stack_running(env: Mapping[str, str]) -> bool:
    return all(is_serving(Settings.from_env(s, env).endpoint.grpc_target) for s in SERVICES)


@dataclass
class DemoStack:
    env: dict[str, str]
    # Where the console shows the demo's federation, said at the end.
    console_line: str


@contextmanager
def stack_for(
    env: dict[str, str], data_dir: Path, printer: Printer, *, keep: StopSignals | None
) -> Iterator[DemoStack]:
    """A running stack when all five services answer, else the embedded one; with `keep`,
    the embedded one stays up with the console (restarting a process that exits) until a
    stop signal."""
    url = console_url(env)
    if stack_running(env):
        printer.line("using the running stack")
        if console_answers(url):
            yield DemoStack(env, f"Консоль: {url}")
        else:
            yield DemoStack(env, f"Консоль: {url} (запустите `lmp console` на этих данных)")
        return
    printer.line("starting the embedded stack ...")
    started = time.monotonic()
    with ExitStack() as stack:
        running = stack.enter_context(embedded_stack(data_dir, env, console=keep is not None))
        printer.line(
            f"all {len(running.services)} services healthy in {time.monotonic() - started:.1f} s"
        )
        if keep is not None:
            yield DemoStack(running.env, f"Консоль: {url}")
            printer.line("--keep-running: the stack stays up; press Ctrl-C to stop it")
            keep.wait(Restarts(running.supervised, say=printer.line))
            printer.line("stopping ...")
        else:
            yield DemoStack(
                running.env,
                f"Консоль: {url} — после `lmp up --data-dir {data_dir}` "
                "(данные демонстрации остаются там; `lmp demo --keep-running` оставляет "
                "консоль работать сразу)",
            )


def run(residents: int, data_dir: Path, *, keep_running: bool, out: TextIO | None = None) -> int:
    with StopSignals() as signals:
        return _run(residents, data_dir, keep=signals if keep_running else None, out=out)


def _run(residents: int, data_dir: Path, *, keep: StopSignals | None, out: TextIO | None) -> int:
    printer = Printer(out or sys.stdout)
    started = time.monotonic()
    env = demo_env(data_dir)
    with stack_for(env, data_dir, printer, keep=keep) as live:
        live_env = live.env
        try:
            result = scenario(live_env, residents=residents, printer=printer, data_dir=data_dir)
        except grpc.RpcError as error:
            hint = (
                " (the demo already ran on this stack: use a fresh --data-dir)"
                if error.code() == grpc.StatusCode.ALREADY_EXISTS
                else ""
            )
            print(f"demo failed: {error.code().name}: {error.details()}{hint}", file=sys.stderr)
            return 1
        print_results(printer, result, live_env)
        printer.line(f"\nfrom start to the printed scorecards: {time.monotonic() - started:.1f} s")
        printer.line(live.console_line)
    return 0
