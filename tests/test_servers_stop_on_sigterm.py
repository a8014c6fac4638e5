"""A program that started servers (a test run, a bench) and is ended by SIGTERM (`timeout`, a CI
runner) stops them: they live in sessions of their own, so nothing else would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PROGRAM = """
import sys, time
from pathlib import Path
from lmp_devstack.processes import ManagedProcess
sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
server = ManagedProcess.spawn(sleeper, Path(sys.argv[1]))
print(server.pid, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead, only not reaped yet (its parent, this test's child, has gone).
    state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    return state != "Z"


def test_sigterm_stops_the_servers_the_program_started(tmp_path: Path) -> None:
    program = subprocess.Popen(  # this interpreter, the program above
        [sys.executable, "-c", PROGRAM, str(tmp_path / "server.log")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert program.stdout is not None
    server = int(program.stdout.readline())
    assert alive(server)

    program.send_signal(signal.SIGTERM)
    assert program.wait(timeout=20) != 0

    deadline = time.monotonic() + 10
    while alive(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(server), "the server outlived the program that SIGTERM ended"
