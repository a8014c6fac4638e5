"""Free ports for local servers, and whether something listens on one."""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOCALHOST = "127.0.0.1"

# Ports this process handed out already: never the same one twice.
_GIVEN_PORTS: set[int] = set()
# How far below the kernel's ephemeral range free ports are looked for.
_PORT_SPAN = 12_000


def _ephemeral_low() -> int:
    try:
        low, _ = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low)
    except (OSError, ValueError):
        return 32_768  # Linux's default, and near what other systems use


def _binds(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = LOCALHOST) -> int:
    """A port nothing listens on, below the kernel's ephemeral range: a port the kernel picks
    (bind to 0) is also where it puts the local end of outgoing connections, so between this
    call and the server's bind a client connection could take it ("Address already in use").
    Never the same port twice in one process."""
    low = _ephemeral_low()
    start = max(1_024, low - _PORT_SPAN)
    if low - start >= 1_000:  # noqa: PLR2004  # room enough to pick at random
        for _ in range(500):
            port = random.randrange(start, low)  # noqa: S311  # a port, not a secret
            if port not in _GIVEN_PORTS and _binds(host, port):
                _GIVEN_PORTS.add(port)
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        chosen: int = sock.getsockname()[1]
        _GIVEN_PORTS.add(chosen)
        return chosen


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
