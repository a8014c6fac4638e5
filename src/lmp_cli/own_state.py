"""What a service without an event store wrote by itself, in and out of a backup.

notifications keeps its subscriptions, deliveries, inbox and feeds in its MongoDB database and
nowhere else; what it keeps of the logs it follows (positions, tracking, the facts of its
projections, the generation control) is derived and rebuilt. `lmp backup` dumps the former,
one file of concatenated BSON documents per collection (mongodump's `.bson` form) with its
indexes in the manifest; `lmp restore` loads them into an empty database, or keeps what a
later moment left there.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bson

if TYPE_CHECKING:
    from pymongo import MongoClient
    from pymongo.database import Database

SERVICE = "notifications"
STATE_DIR = f"{SERVICE}.state"
MONGODB_TIMEOUT_MS = 5_000
INSERT_BATCH = 1_000
# The kit's own collections (positions, tracking, fences, generation control) start so.
KIT_PREFIX = "_"
# Options of an index to make it again; the rest (`v`, `ns`) are the server's.
INDEX_OPTIONS = ("unique", "sparse", "partialFilterExpression", "expireAfterSeconds")

Say = Callable[[str], None]
Document = dict[str, Any]


@dataclass(frozen=True)
class CollectionCopy:
    collection: str
    file: str
    size: int
    sha256: str
    documents: int
    indexes: list[dict[str, Any]] = field(default_factory=list)


def mongodb_uri(env: Mapping[str, str]) -> str:
    """The environment's MongoDB, or the embedded one `lmp up` starts."""
    uri = env.get("MONGODB_URI", "").strip()
    if uri:
        return uri
    port = env.get("LMP_EMBEDDED_MONGODB_PORT", "").strip() or "27017"
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


def mongodb_prefix(env: Mapping[str, str]) -> str:
    return env.get("LMP_MONGODB_DB_PREFIX", "").strip() or "lmp_"


def database_name(env: Mapping[str, str]) -> str:
    return mongodb_prefix(env) + SERVICE


def derived_collections(service: str = SERVICE) -> set[str]:
    """What a service keeps of the logs it follows: its projections' collections."""
    module = importlib.import_module(f"{service}.consumers")
    return {c for s in module.SUBSCRIPTIONS for p in s.projections for c in p.collections}


def own_collections(db: Database[Document]) -> list[str]:
    derived = derived_collections()
    return sorted(
        name
        for name in db.list_collection_names()
        if name not in derived and not name.startswith(KIT_PREFIX)
    )


def client_of(uri: str) -> MongoClient[Document]:
    from pymongo import MongoClient  # noqa: PLC0415  # the command line loads it when needed

    return MongoClient(uri, serverSelectionTimeoutMS=MONGODB_TIMEOUT_MS, tz_aware=True)


def dump(uri: str, database: str, target: Path) -> list[CollectionCopy]:
    """Each own collection into `target/STATE_DIR/<collection>.bson`, in `_id` order."""
    directory = target / STATE_DIR
    directory.mkdir(mode=0o700)
    copies = []
    with client_of(uri) as client:
        db = client[database]
        for name in own_collections(db):
            path = directory / f"{name}.bson"
            digest = hashlib.sha256()
            count = 0
            with path.open("wb") as file:
                for document in db[name].find({}).sort("_id", 1):
                    raw = bson.encode(document)
                    file.write(raw)
                    digest.update(raw)
                    count += 1
            copies.append(
                CollectionCopy(
                    collection=name,
                    file=f"{STATE_DIR}/{path.name}",
                    size=path.stat().st_size,
                    sha256=digest.hexdigest(),
                    documents=count,
                    indexes=index_specs(db, name),
                )
            )
    return copies


def index_specs(db: Database[Document], name: str) -> list[dict[str, Any]]:
    specs = []
    for index, info in sorted(db[name].index_information().items()):
        if index == "_id_":
            continue
        spec: dict[str, Any] = {"name": index, "key": [[k, d] for k, d in info["key"]]}
        spec.update({option: info[option] for option in INDEX_OPTIONS if option in info})
        specs.append(spec)
    return specs


def documents_in(path: Path) -> Iterator[Document]:
    with path.open("rb") as file:
        yield from bson.decode_file_iter(file)


def load(uri: str, database: str, source: Path, copies: list[CollectionCopy], say: Say) -> None:
    """The copies into `database`, when none of its own collections holds anything yet;
    otherwise what is there stays (a later moment's) and nothing is loaded. A load that
    fails midway takes back what it inserted."""
    with client_of(uri) as client:
        db = client[database]
        held = [name for name in own_collections(db) if db[name].estimated_document_count()]
        if held:
            say(
                f"  {SERVICE}: kept what MongoDB holds in {database} ({', '.join(held)}), "
                "newer than the backup; the backup's copy was not loaded"
            )
            return
        loaded: list[str] = []
        try:
            for copy in copies:
                loaded.append(copy.collection)
                _load_one(db, source / copy.file, copy)
        except BaseException:
            for name in loaded:
                db.drop_collection(name)
            raise
        total = sum(c.documents for c in copies)
        say(f"  {SERVICE}: {total} documents of {len(copies)} collections loaded into {database}")


def _load_one(db: Database[Document], path: Path, copy: CollectionCopy) -> None:
    collection = db[copy.collection]
    batch: list[Document] = []
    for document in documents_in(path):
        batch.append(document)
        if len(batch) >= INSERT_BATCH:
            collection.insert_many(batch, ordered=False)
            batch = []
    if batch:
        collection.insert_many(batch, ordered=False)
    for spec in copy.indexes:
        options = {k: v for k, v in spec.items() if k != "key"}
        collection.create_index([(k, d) for k, d in spec["key"]], **options)


@contextmanager
def embedded_mongodb(data_dir: Path) -> Iterator[str]:
    """The data dir's embedded MongoDB, started for the restore on a free port and stopped."""
    from lmp_devstack.secantus import start_secantus  # noqa: PLC0415  # the embedded extra

    server = start_secantus(data_dir / "mongodb")
    try:
        yield server.address
    finally:
        server.stop()
