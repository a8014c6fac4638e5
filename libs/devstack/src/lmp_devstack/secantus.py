"""SecantusDB: the MongoDB wire-compatible server, a GPL program run only as a process."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymongo
from pymongo.errors import PyMongoError

from lmp_devstack.ports import LOCALHOST
from lmp_devstack.processes import (
    PROBE_TIMEOUT,
    READY_TIMEOUT,
    ManagedProcess,
    RunningServer,
    start_server,
)

if TYPE_CHECKING:
    from collections.abc import Callable


def secantus_executable() -> Path:
    beside_python = Path(sys.executable).parent / "secantusd-py"
    if beside_python.is_file():
        return beside_python
    found = shutil.which("secantusd-py")
    if found is None:
        msg = "secantusd-py not found (install the project's `embedded` extra)"
        raise RuntimeError(msg)
    return Path(found)


def mongodb_is_ready(uri: str, timeout: float = PROBE_TIMEOUT) -> bool:
    return _mongodb_hello(uri, timeout) is not None


def _mongodb_hello(uri: str, timeout: float = PROBE_TIMEOUT) -> dict[str, Any] | None:
    timeout_ms = int(timeout * 1000)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        uri,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=timeout_ms,
    )
    try:
        client.admin.command("ping")
        hello: dict[str, Any] = client.admin.command("hello")
    except PyMongoError:
        return None
    finally:
        client.close()
    return hello


def mongodb_uri(port: int, replica_set: str | None) -> str:
    if replica_set:
        return f"mongodb://{LOCALHOST}:{port}/?replicaSet={replica_set}"
    return f"mongodb://{LOCALHOST}:{port}/?directConnection=true"


def start_secantus(
    data_dir: Path, port: int | None = None, *, timeout: float = READY_TIMEOUT
) -> RunningServer:
    """A one-node replica set on WiredTiger in `data_dir`; data survives a restart."""
    executable = secantus_executable()
    data_dir.mkdir(parents=True, exist_ok=True)
    # An explicit (empty) config file turns off the search of ./, ~/.secantus and /etc.
    config = data_dir / "secantusd.toml"
    config.touch()

    def launch_on(chosen: int) -> ManagedProcess:
        return ManagedProcess.spawn(
            [
                str(executable),
                "--config",
                str(config),
                "--host",
                LOCALHOST,
                "--port",
                str(chosen),
                "--storage-path",
                str(data_dir / "wiredtiger"),
            ],
            data_dir / "secantusd.log",
            cwd=data_dir,
        )

    def probe_on(chosen: int) -> Callable[[], bool]:
        return lambda: mongodb_is_ready(mongodb_uri(chosen, None))

    server = start_server(
        "secantusdb",
        port,
        launch_on=launch_on,
        probe_on=probe_on,
        address_on=lambda chosen: mongodb_uri(chosen, None),
        data_dir=data_dir,
        timeout=timeout,
    )
    # Name the replica set it advertises, so drivers see the same topology as in production.
    hello = _mongodb_hello(server.address)
    if hello is not None and hello.get("setName"):
        server.address = mongodb_uri(server.port, str(hello["setName"]))
    return server
