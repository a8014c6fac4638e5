"""Servers as child processes: each in its own process group, logging to a file, ready only
once a real client request succeeds, and stopped (with everything it started) at the end."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import pwd
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Self

from lmp_devstack.ports import LOCALHOST, free_port, port_is_open

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from types import FrameType, TracebackType

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 40
POLL_INTERVAL = 0.05
PROBE_TIMEOUT = 2.0
_PORT_ATTEMPTS = 3


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def primary_group(user: str) -> int:
    return pwd.getpwnam(user).pw_gid


@dataclass
class ManagedProcess:
    """A child process in its own process group; stopping it ends the whole group."""

    popen: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: signal.Signals = signal.SIGTERM
    _group_killed: bool = field(default=False, init=False, repr=False)

    @classmethod
    def spawn(  # noqa: PLR0913 - each knob is a distinct Popen setting
        cls,
        args: Sequence[str],
        log_path: Path,
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        user: str | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> ManagedProcess:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            popen = subprocess.Popen(  # noqa: S603 - the project's own server programs
                list(args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=dict(env) if env is not None else None,
                start_new_session=True,
                user=user,
                group=primary_group(user) if user is not None else None,
                extra_groups=[] if user is not None else None,
            )
        process = cls(popen=popen, log_path=log_path, stop_signal=stop_signal)
        _unstopped[popen.pid] = process
        _stop_on_sigterm()
        return process

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """Ask the server to stop, wait up to `timeout`, then kill what is left."""
        if self.alive:
            # The leader alone gets the polite signal: a server such as PostgreSQL
            # shuts its own children down in order.
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(self.stop_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        return self.kill()

    def kill(self) -> int:
        """SIGKILL the whole process group now and reap the leader."""
        # Once only: a later group with the same id would be someone else's.
        if not self._group_killed:
            self._group_killed = True
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        returncode = self.popen.wait()
        _unstopped.pop(self.popen.pid, None)
        return returncode

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return tail(self.log_path, lines)


# Servers live in sessions of their own, so nothing else ends them when this program
# exits without stopping them (an exception in `lmp up`, a test run cut short).
_unstopped: dict[int, ManagedProcess] = {}


@atexit.register
def _stop_unstopped() -> None:
    for process in list(_unstopped.values()):
        process.stop(timeout=5)


def _stop_on_sigterm() -> None:
    """SIGTERM (`timeout`, a CI runner, `kill`) ends this program as Ctrl-C does, so its
    cleanup and `_stop_unstopped` run: by default it would end at once and leave the servers
    running (a test run cut short left Tansu, SecantusDB and services taking a core). Only
    where nobody set a handler (`lmp up` sets its own) and from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupted)


def _interrupted(signum: int, frame: FrameType | None) -> None:
    del frame
    signal.signal(signum, signal.SIG_DFL)  # a second SIGTERM ends it at once
    raise KeyboardInterrupt


@dataclass
class RunningServer:
    """A started server: its process, its client address, and how to start it again."""

    name: str
    address: str
    port: int
    data_dir: Path
    process: ManagedProcess
    launch: Callable[[], ManagedProcess] = field(repr=False)
    probe: Callable[[], bool] = field(repr=False)
    owned_dirs: tuple[Path, ...] = field(default=(), repr=False)

    @property
    def alive(self) -> bool:
        return self.process.alive

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop for good: a cluster kept outside `data_dir` is deleted too."""
        self.process.stop(timeout)
        for directory in self.owned_dirs:
            shutil.rmtree(directory, ignore_errors=True)

    def kill(self) -> None:
        self.process.kill()

    def start(self, timeout: float = READY_TIMEOUT) -> None:
        """Start the same server again, on the same port and data directory."""
        if self.process.alive:
            return
        self.process = self.launch()
        _wait_until_ready(self.name, self.process, self.port, self.probe, timeout)

    def restart(self, timeout: float = READY_TIMEOUT, *, graceful: bool = True) -> None:
        """Stop and start on the same port; an in-memory server comes back empty."""
        if graceful:
            self.process.stop()
        else:
            self.process.kill()
        self.start(timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _wait_until_ready(
    name: str,
    process: ManagedProcess,
    port: int,
    probe: Callable[[], bool],
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not process.alive:
            msg = (
                f"{name} exited with code {process.returncode} before it was ready; "
                f"log {process.log_path}:\n{process.log_tail()}"
            )
            raise RuntimeError(msg)
        if port_is_open(LOCALHOST, port) and probe():
            return
        if time.monotonic() >= deadline:
            process.stop()
            msg = (
                f"{name} not ready on port {port} after {timeout:.0f} s; "
                f"log {process.log_path}:\n{process.log_tail()}"
            )
            raise RuntimeError(msg)
        time.sleep(POLL_INTERVAL)


def start_server(  # noqa: PLR0913 - the parts every server start shares
    name: str,
    port: int | None,
    *,
    launch_on: Callable[[int], ManagedProcess],
    probe_on: Callable[[int], Callable[[], bool]],
    address_on: Callable[[int], str],
    data_dir: Path,
    timeout: float,
    owned_dirs: tuple[Path, ...] = (),
) -> RunningServer:
    # A port chosen by free_port can be taken before the server binds it: try another.
    attempts = 1 if port is not None else _PORT_ATTEMPTS
    for attempt in range(attempts):
        chosen = port if port is not None else free_port()
        process = launch_on(chosen)
        probe = probe_on(chosen)
        try:
            _wait_until_ready(name, process, chosen, probe, timeout)
        except RuntimeError:
            process.kill()
            if attempt + 1 < attempts and _lost_port_race(process):
                continue
            raise
        return RunningServer(
            name=name,
            address=address_on(chosen),
            port=chosen,
            data_dir=data_dir,
            process=process,
            launch=functools.partial(launch_on, chosen),
            probe=probe,
            owned_dirs=owned_dirs,
        )
    msg = f"{name} could not start"  # unreachable: the loop returns or raises
    raise RuntimeError(msg)


def _lost_port_race(process: ManagedProcess) -> bool:
    log = process.log_tail().lower()
    return "address already in use" in log or "addrinuse" in log
