"""PostgreSQL: a throwaway cluster with trust authentication, listening on 127.0.0.1 only.

As root it runs under the `postgres` account (PostgreSQL refuses root), in a directory of its
own when that account cannot reach the caller's data directory."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from lmp_devstack.ports import LOCALHOST
from lmp_devstack.processes import (
    PROBE_TIMEOUT,
    READY_TIMEOUT,
    ManagedProcess,
    RunningServer,
    primary_group,
    start_server,
    tail,
)

if TYPE_CHECKING:
    from collections.abc import Callable

# A Unix socket path must fit in sockaddr_un.sun_path (108 bytes on Linux).
_MAX_SOCKET_PATH = 100


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


def postgres_is_ready(dsn: str, timeout: float = PROBE_TIMEOUT) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=max(1, int(timeout)), autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


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
            group=primary_group(user) if user is not None else None,
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
        return start_server(
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
