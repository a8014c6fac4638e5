"""`lmp backup` and `lmp restore`: the embedded (SQLite) event stores, copied while the stack
runs and writes, and put back into a data directory.

Each store is copied with SQLite's online backup API in one step: one read transaction, so
the copy is the store as it was at one moment, and in WAL mode the services go on writing
meanwhile. The copies are seconds apart, not one moment for all: the registry is copied first
because it reacts to voting's and expertise's events and keeps its positions in those logs in
its own store; the logs only grow, so each position in its copy is within the later copies of
its upstreams (a restored reaction never waits for an event its upstream's copy lacks).

What is not in a backup, and why:
- MongoDB read models: derived. Started on a restored data dir, every consumer catches up
  from the upstream event logs into an empty database and rebuilds them.
- Kafka: the fast path; the relays publish what follows their restored positions, and the
  consumers read the rest from the logs.
- `jwt.secret`: a signing key in a backup lets whoever reads the backup sign tokens for the
  deployment. A restored data dir makes a new one; tokens live minutes to a day, so clients
  fetch new ones.
- notifications' MongoDB database: it is not derived only. Its subscriptions (and the state of
  deliveries and of the inbox) exist nowhere else; back it up with `mongodump` (deploy/README.md).

`voting.pseudonym.key` is in the backup when the data dir holds it: residents' pseudonyms in
the restored events are made with it, and a different key would let a resident vote again in
an open poll.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import socket
import sqlite3
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lmp_contracts import PUBLISHED
from lmp_kit.eventstore import sqlite_file_name
from lmp_kit.readmodels import CONTROL as READ_MODELS_CONTROL
from lmp_kit.readmodels import GENERATION_SUFFIX
from lmp_kit.settings import SERVICES

from lmp_cli import own_state
from lmp_cli.own_state import CollectionCopy

FORMAT = "lmp-event-store-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PSEUDONYM_KEY = "voting.pseudonym.key"
JWT_SECRET = "jwt.secret"  # noqa: S105  # a file name, not a secret
# The services that react to others' events, keeping those positions in their own store.
REACTING_FIRST = ("registry",)
STORES = (*REACTING_FIRST, *(s for s in SERVICES if s in PUBLISHED and s not in REACTING_FIRST))
# A store can be locked by a writer's commit for a moment: wait as long as the services do.
BUSY_TIMEOUT_S = 10.0
EMBEDDED_SERVER_DIRS = ("mongodb", "kafka")
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")

NOT_INCLUDED = {
    "mongodb": (
        "read models are derived: started on the restored data dir, the consumers rebuild them "
        "from the event logs"
    ),
    "kafka": "the fast path: the relays publish on from their restored positions",
    JWT_SECRET: (
        "a signing key does not travel with the data: the restored data dir makes a new one, "
        "and tokens signed before are refused"
    ),
}
NO_MONGODB_GIVEN = "its subscriptions, deliveries and inbox: no MongoDB was named to dump them from"
# notifications' own state is dumped from MongoDB (own_state); when MongoDB does not answer:
OWN_STATE_MISSING = (
    "its subscriptions, deliveries and inbox live in its MongoDB database only, and MongoDB at "
    "{uri} did not answer ({error}): start the stack and back up again, or use mongodump "
    "(deploy/README.md)"
)

Say = Callable[[str], None]


class BackupError(RuntimeError):
    """What stops a backup or a restore, with what to do about it."""


def store_file(service: str) -> str:
    return sqlite_file_name(service)


@dataclass(frozen=True)
class StoreCopy:
    service: str
    file: str
    size: int
    sha256: str
    max_notification_id: int
    events: int
    # Tracking records in the copy: the relay's position ("kafka-relay") and each reaction's.
    positions: dict[str, int]
    schema: list[str]
    copied_at: str


@dataclass(frozen=True)
class SecretCopy:
    file: str
    size: int
    sha256: str
    why: str


@dataclass
class Manifest:
    started_at: str
    source: dict[str, str]
    versions: dict[str, str]
    stores: list[StoreCopy] = field(default_factory=list)
    secrets: list[SecretCopy] = field(default_factory=list)
    # notifications' own collections (own_state), dumped before the stores were copied.
    collections: list[CollectionCopy] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    finished_at: str = ""
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    not_included: dict[str, str] = field(default_factory=lambda: dict(NOT_INCLUDED))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Manifest:
        return cls(
            started_at=raw["started_at"],
            source=dict(raw["source"]),
            versions=dict(raw["versions"]),
            stores=[StoreCopy(**s) for s in raw["stores"]],
            secrets=[SecretCopy(**s) for s in raw["secrets"]],
            collections=[CollectionCopy(**c) for c in raw.get("collections", [])],
            missing=list(raw["missing"]),
            finished_at=raw["finished_at"],
            format=raw["format"],
            format_version=int(raw["format_version"]),
            not_included=dict(raw["not_included"]),
        )

    def files(self) -> list[StoreCopy | SecretCopy | CollectionCopy]:
        return [*self.stores, *self.secrets, *self.collections]

    def data_dir_files(self) -> list[StoreCopy | SecretCopy]:
        """What a restore places in the data dir (the collections go into MongoDB)."""
        return [*self.stores, *self.secrets]


def now() -> str:
    return datetime.now(UTC).isoformat()


def sha256_of(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def versions() -> dict[str, str]:
    def of(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    return {
        "lmp": of("lmp"),
        "eventsourcing": of("eventsourcing"),
        "sqlite": sqlite3.sqlite_version,
        "python": sys.version.split()[0],
    }


def describe(path: Path) -> tuple[int, int, dict[str, int], list[str]]:
    """A store's head, number of events, tracking positions and schema, checked whole."""
    with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            msg = f"{path} is damaged: {'; '.join(problems[:5])}"
            raise BackupError(msg)
        schema = [row[0] for row in db.execute("SELECT sql FROM sqlite_master WHERE sql NOT NULL")]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "stored_events" not in tables:
            msg = f"{path} is no event store (it has no stored_events table)"
            raise BackupError(msg)
        head, events = db.execute("SELECT MAX(rowid), COUNT(*) FROM stored_events").fetchone()
        positions: dict[str, int] = {}
        if "tracking" in tables:
            positions = {
                str(name): int(position)
                for name, position in db.execute(
                    "SELECT application_name, MAX(notification_id) FROM tracking "
                    "GROUP BY application_name"
                )
            }
    return int(head or 0), int(events), positions, schema


def copy_store(source: Path, target: Path) -> None:
    """The store as it is at one moment, into a new self-contained file (no WAL beside it)."""
    # mode=rw: never creates the store it is asked to copy.
    uri = f"{source.resolve().as_uri()}?mode=rw"
    with (
        contextlib.closing(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)) as live,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        # One step (pages=-1): a stepwise backup restarts whenever a writer commits, and the
        # stack writes all the time.
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
    target.chmod(0o600)


def dump_own_state(manifest: Manifest, target: Path, env: Mapping[str, str], say: Say) -> None:
    """notifications' own collections, before the stores are copied: every delivery dumped
    is of an event the copies hold."""
    from pymongo.errors import PyMongoError  # noqa: PLC0415  # see the module's note on imports

    uri = own_state.mongodb_uri(env)
    try:
        manifest.collections = own_state.dump(uri, own_state.database_name(env), target)
    except PyMongoError as error:
        manifest.missing.append(own_state.SERVICE)
        reason = OWN_STATE_MISSING.format(uri=uri, error=type(error).__name__)
        manifest.not_included[own_state.SERVICE] = reason
        say(f"  WARNING {own_state.SERVICE}: {reason}")
        return
    for copy in manifest.collections:
        say(
            f"  {own_state.SERVICE}.{copy.collection:<14} {copy.documents:>9} documents, "
            f"{copy.size:>12} bytes  sha256 {copy.sha256[:16]}"
        )


def backup(
    data_dir: Path, target: Path, say: Say, env: Mapping[str, str] | None = None
) -> Manifest:
    if target.exists() and any(target.iterdir()):
        msg = f"{target} exists and is not empty: a backup goes into a new directory"
        raise BackupError(msg)
    present = [s for s in STORES if (data_dir / store_file(s)).exists()]
    if not present:
        msg = (
            f"no event stores in {data_dir.resolve()} (<service>.events.sqlite): is it the data "
            "dir of the stack (--data-dir, LMP_DATA_DIR)?"
        )
        raise BackupError(msg)
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    manifest = Manifest(
        started_at=now(),
        source={"data_dir": str(data_dir.resolve()), "host": socket.gethostname()},
        versions=versions(),
        missing=[s for s in STORES if s not in present],
    )
    if env is None:  # a caller that names no MongoDB (the command line always does)
        manifest.not_included[own_state.SERVICE] = NO_MONGODB_GIVEN
    else:
        dump_own_state(manifest, target, env, say)
    for service in present:
        name = store_file(service)
        copied = target / name
        copy_store(data_dir / name, copied)
        copied_at = now()
        head, events, positions, schema = describe(copied)
        store = StoreCopy(
            service=service,
            file=name,
            size=copied.stat().st_size,
            sha256=sha256_of(copied),
            max_notification_id=head,
            events=events,
            positions=positions,
            schema=schema,
            copied_at=copied_at,
        )
        manifest.stores.append(store)
        say(
            f"  {service:<10} {store.events:>9} events, head {head:>9}, "
            f"{store.size:>12} bytes  sha256 {store.sha256[:16]}"
        )
    key = data_dir / PSEUDONYM_KEY
    if key.exists():
        shutil.copyfile(key, target / PSEUDONYM_KEY)
        (target / PSEUDONYM_KEY).chmod(0o600)
        manifest.secrets.append(
            SecretCopy(
                file=PSEUDONYM_KEY,
                size=key.stat().st_size,
                sha256=sha256_of(target / PSEUDONYM_KEY),
                why="residents' pseudonyms in voting's events are made with it",
            )
        )
    manifest.finished_at = now()
    # Written last, by a rename: a directory without it is an interrupted backup.
    partial = target / f".{MANIFEST}.partial"
    partial.write_text(manifest.to_json(), encoding="utf-8")
    partial.replace(target / MANIFEST)
    return manifest


def read_manifest(source: Path) -> Manifest:
    path = source / MANIFEST
    if not source.is_dir():
        msg = f"{source} is no directory: name the directory `lmp backup` made"
        raise BackupError(msg)
    if not path.exists():
        msg = f"{source} holds no {MANIFEST}: not a backup, or an interrupted one"
        raise BackupError(msg)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest.of(raw)
    except (ValueError, KeyError, TypeError) as error:
        msg = f"{path} is not a manifest of `lmp backup`: {error!r}"
        raise BackupError(msg) from None
    if manifest.format != FORMAT or manifest.format_version != FORMAT_VERSION:
        msg = (
            f"{path} is format {manifest.format} {manifest.format_version}; this lmp restores "
            f"{FORMAT} {FORMAT_VERSION}"
        )
        raise BackupError(msg)
    return manifest


def verify(source: Path, manifest: Manifest) -> None:
    """Every file as the manifest says: size, checksum, and for stores a whole, same head."""
    for entry in manifest.files():
        path = source / entry.file
        if not path.exists():
            msg = f"{path} is missing: the manifest lists it"
            raise BackupError(msg)
        size, digest = path.stat().st_size, sha256_of(path)
        if size != entry.size or digest != entry.sha256:
            msg = (
                f"{path} is not the file backed up: {size} bytes, sha256 {digest}; the manifest "
                f"says {entry.size} bytes, sha256 {entry.sha256}. Restore nothing from a "
                "damaged backup: take another one"
            )
            raise BackupError(msg)
    for store in manifest.stores:
        head, events, _, _ = describe(source / store.file)
        if (head, events) != (store.max_notification_id, store.events):
            msg = f"{source / store.file} holds {events} events up to {head}, not as the manifest"
            raise BackupError(msg)


def stores_in(data_dir: Path) -> list[Path]:
    return sorted(p for s in SERVICES if (p := data_dir / store_file(s)).exists())


def open_by_processes(paths: Sequence[Path]) -> list[str]:
    """The processes that hold any of `paths` open (Linux /proc; elsewhere none are found)."""
    wanted = {str(p.resolve()) for p in paths}
    holders: list[str] = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        with contextlib.suppress(OSError):
            for fd in fd_dir.iterdir():
                with contextlib.suppress(OSError):
                    if str(fd.readlink()) in wanted:
                        holders.append(fd_dir.parent.name)
                        break
    return holders


def check_target(data_dir: Path, *, force: bool) -> list[Path]:
    """What of the target is to be set aside: its stores and its embedded servers' data."""
    stores = stores_in(data_dir)
    servers = [d for name in EMBEDDED_SERVER_DIRS if (d := data_dir / name).exists()]
    holders = open_by_processes(stores)
    if holders:
        msg = (
            f"the event stores in {data_dir} are open in processes {', '.join(holders)}: "
            "stop the stack on this data dir first"
        )
        raise BackupError(msg)
    if (stores or servers) and not force:
        listed = ", ".join(p.name for p in [*stores, *servers])
        msg = (
            f"{data_dir} is in use: it holds {listed}. Restore into a new data dir "
            "(--data-dir), or pass --force to set those aside and restore over them"
        )
        raise BackupError(msg)
    return [*stores, *servers]


def check_servers(env: Mapping[str, str], *, drop_read_models: bool) -> None:
    """With MongoDB or Kafka of the environment (not the embedded ones of the data dir), their
    read models and topics must not be ahead of the restored logs: refuse, unless the read
    models are to be dropped (`drop_read_models`)."""
    if env.get("KAFKA_BOOTSTRAP_SERVERS", "").strip():
        check_kafka(env)
    uri = env.get("MONGODB_URI", "").strip()
    if uri and not drop_read_models:
        found = read_model_databases(uri, own_state.mongodb_prefix(env))
        existing = [name for names in found.values() for name in names]
        if existing:
            msg = (
                f"MongoDB holds read models of prefix {own_state.mongodb_prefix(env)!r} "
                f"({', '.join(existing)}), built from logs that may have gone on past the "
                "backup: their positions would be ahead of the restored logs. Set a new "
                "LMP_MONGODB_DB_PREFIX, or pass --drop-read-models (notifications keeps its "
                "subscriptions, deliveries and inbox)"
            )
            raise BackupError(msg)


def read_model_databases(uri: str, prefix: str) -> dict[str, list[str]]:
    """Per service, its databases in MongoDB: `<prefix><service>` and the generations a
    rebuild made beside it (`<prefix><service>__g<n>`, lmp_kit.readmodels)."""
    from pymongo.errors import PyMongoError  # noqa: PLC0415  # only with an external MongoDB

    try:
        with own_state.client_of(uri) as client:
            names = client.list_database_names()
    except PyMongoError as error:
        msg = f"cannot reach MongoDB at {uri} to check its read models: {error}"
        raise BackupError(msg) from None
    found: dict[str, list[str]] = {}
    for service in SERVICES:
        base = f"{prefix}{service}"
        mine = sorted(n for n in names if n == base or n.startswith(base + GENERATION_SUFFIX))
        if mine:
            found[service] = mine
    return found


def check_kafka(env: Mapping[str, str]) -> None:
    import asyncio  # noqa: PLC0415  # only with an external Kafka

    from aiokafka import AIOKafkaConsumer  # noqa: PLC0415
    from aiokafka.errors import KafkaError  # noqa: PLC0415

    namespace = env.get("LMP_KAFKA_NAMESPACE", "").strip() or "lmp"
    servers = env["KAFKA_BOOTSTRAP_SERVERS"].strip()

    async def topics() -> set[str]:
        consumer = AIOKafkaConsumer(bootstrap_servers=servers, request_timeout_ms=10_000)
        await consumer.start()
        try:
            return set(await consumer.topics())
        finally:
            await consumer.stop()

    try:
        found = asyncio.run(topics())
    except KafkaError as error:
        msg = f"cannot reach Kafka at {servers} to check namespace {namespace!r}: {error}"
        raise BackupError(msg) from None
    ours = sorted(t for t in found if t.startswith(f"{namespace}."))
    if ours:
        msg = (
            f"Kafka at {servers} holds topics of namespace {namespace!r} ({', '.join(ours)}): "
            "events there after the backup's positions would reach consumers in place of the "
            "restored log's. Set a new LMP_KAFKA_NAMESPACE for the restored stack"
        )
        raise BackupError(msg)


def drop_read_models(env: Mapping[str, str], say: Say) -> None:
    """The read models of the environment's MongoDB, to be rebuilt from the restored logs."""
    uri = env.get("MONGODB_URI", "").strip()
    if not uri:
        return
    prefix = own_state.mongodb_prefix(env)
    with own_state.client_of(uri) as client:
        for service, names in read_model_databases(uri, prefix).items():
            base = f"{prefix}{service}"
            for name in names:
                if service in PUBLISHED or name != base:
                    client.drop_database(name)
                    say(f"  dropped the read models of {service} ({name})")
                else:
                    for collection in followed_collections(service):
                        client[name].drop_collection(collection)
                    say(f"  reset {service}'s positions and the facts it keeps ({name})")


def followed_collections(service: str) -> list[str]:
    """What a service without an event store keeps of the logs it follows: its projections'
    collections, its positions and which generation is active; delivery ids are made from
    event ids, so what it delivered before is not delivered again."""
    from lmp_kit.consumer import POSITIONS, TRACKING  # noqa: PLC0415

    collections = own_state.derived_collections(service)
    return sorted({*collections, POSITIONS, TRACKING, READ_MODELS_CONTROL})


def copy_checked(source: Path, target: Path, sha256: str) -> None:
    shutil.copyfile(source, target)
    target.chmod(0o600)
    with target.open("rb") as file:
        os.fsync(file.fileno())
    if sha256_of(target) != sha256:
        msg = f"{target} differs from the backup once copied: is {target.parent} full?"
        raise BackupError(msg)


def stage(source: Path, manifest: Manifest, data_dir: Path) -> list[tuple[Path, Path]]:
    """Every file copied beside its place and checked; none is in place yet."""
    placed: list[tuple[Path, Path]] = []
    try:
        for entry in manifest.data_dir_files():
            staged = data_dir / f".{entry.file}.restoring"
            placed.append((staged, data_dir / entry.file))
            copy_checked(source / entry.file, staged, entry.sha256)
    except BaseException:
        for staged, _ in placed:
            staged.unlink(missing_ok=True)
        raise
    return placed


def restore(  # noqa: PLR0913  # the restore's inputs, each named
    source: Path,
    data_dir: Path,
    env: Mapping[str, str],
    *,
    force: bool,
    drop: bool,
    say: Say,
) -> Manifest:
    manifest = read_manifest(source)
    verify(source, manifest)
    aside = check_target(data_dir, force=force)
    check_servers(env, drop_read_models=drop)  # refuses before anything is written
    data_dir.mkdir(parents=True, exist_ok=True)
    placed = stage(source, manifest, data_dir)
    if drop:
        drop_read_models(env, say)
    if aside:
        kept = data_dir / f"before-restore-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
        kept.mkdir()
        for path in aside:
            for side in SQLITE_SIDE_FILES:
                sibling = path.with_name(path.name + side)
                if sibling.exists():
                    sibling.replace(kept / sibling.name)
            path.replace(kept / path.name)
        say(f"  set aside what was there: {', '.join(p.name for p in aside)} -> {kept}")
    if manifest.collections:
        try:
            load_own_state(source, manifest, data_dir, env, say)
        except BaseException:
            for staged, _ in placed:
                staged.unlink(missing_ok=True)
            raise
    for staged, final in placed:
        staged.replace(final)
    directory = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return manifest


def load_own_state(
    source: Path, manifest: Manifest, data_dir: Path, env: Mapping[str, str], say: Say
) -> None:
    """notifications' collections into the environment's MongoDB, or into the data dir's
    embedded one (started for it)."""
    database = own_state.database_name(env)
    if env.get("MONGODB_URI", "").strip():
        own_state.load(own_state.mongodb_uri(env), database, source, manifest.collections, say)
        return
    with own_state.embedded_mongodb(data_dir) as uri:
        own_state.load(uri, database, source, manifest.collections, say)


def run_backup(data_dir: Path, target: Path, env: Mapping[str, str]) -> int:
    def say(line: str) -> None:
        print(line, flush=True)

    store = env.get("LMP_EVENT_STORE", "").strip() or (
        "postgres" if env.get("POSTGRES_DSN", "").strip() else "sqlite"
    )
    if store != "sqlite":
        print(
            f"the event stores are {store} (LMP_EVENT_STORE), not SQLite files: back up "
            'PostgreSQL with pg_dump or point-in-time recovery (deploy/README.md, "Backups of '
            'the event stores"); a memory store has nothing to keep',
            file=sys.stderr,
        )
        return 2
    say(f"backing up the event stores of {data_dir.resolve()} into {target.resolve()} ...")
    try:
        manifest = backup(data_dir, target, say, env)
    except (BackupError, sqlite3.Error, OSError) as error:
        print(f"backup failed: {error}", file=sys.stderr)
        return 1
    for secret in manifest.secrets:
        say(f"  {secret.file}: {secret.why} (keep the backup as secret as the data)")
    if manifest.missing:
        say(f"  no store of {', '.join(manifest.missing)} in the data dir (never started?)")
    say(f"done: {len(manifest.stores)} stores and {MANIFEST} in {target}")
    say("not in the backup:")
    for what, why in manifest.not_included.items():
        say(f"  {what}: {why}")
    return 0


def run_restore(
    source: Path, data_dir: Path, env: Mapping[str, str], *, force: bool, drop_read_models: bool
) -> int:
    def say(line: str) -> None:
        print(line, flush=True)

    from pymongo.errors import PyMongoError  # noqa: PLC0415  # see the module's note on imports

    say(f"restoring {source.resolve()} into {data_dir.resolve()} ...")
    try:
        manifest = restore(source, data_dir, env, force=force, drop=drop_read_models, say=say)
    except (BackupError, sqlite3.Error, OSError) as error:
        print(f"restore refused: {error}", file=sys.stderr)
        return 1
    except PyMongoError as error:
        print(
            f"restore failed loading {own_state.SERVICE}' collections into MongoDB: {error}; "
            "nothing was placed: run it again once MongoDB answers",
            file=sys.stderr,
        )
        return 1
    for store in manifest.stores:
        say(f"  {store.service:<10} {store.events:>9} events, head {store.max_notification_id}")
    say(f"done: the event stores as of {manifest.finished_at} from {manifest.source['host']}")
    say(
        f"next: `lmp up --data-dir {data_dir}` (or the services with LMP_DATA_DIR={data_dir}); "
        "the consumers rebuild every read model from the restored logs (`lmp status` shows "
        f"them catching up). {NOT_INCLUDED[JWT_SECRET].capitalize()}."
    )
    if not any(s.file == PSEUDONYM_KEY for s in manifest.secrets) and "voting" in {
        s.service for s in manifest.stores
    }:
        say(
            "  voting's pseudonym key was not in the data dir: give the restored voting the "
            "key of the backed-up deployment (LMP_VOTING_PSEUDONYM_KEY(_FILE) or _KEYS_FILE)"
        )
    return 0
