"""Where a service's read models live: a generation database that a rebuild can replace.

Generation 0 is the service's database (`<mongodb_database>`), generation n > 0 the database
`<mongodb_database>__g<n>`. A control document in the service's database (`_readmodels`,
`_id: "generations"`) names the active generation and any rebuild in progress
(`lmp_kit.rebuild`); every process of the service reads it every `CONTROL_POLL_S`, so a switch
reaches all of them within about a second.

Only the projections' collections and the consumers' tracking live in a generation. What a
service writes by itself (notifications' subscriptions, deliveries, inbox and feeds) is no read
model: it stays in the service's database whatever the generation, so a rebuild neither copies
nor loses it, and a delivery its projection makes again (same id, inserted only once) is none.

Readers get `ReadModels.handle`, a database whose collections resolve per access: a unary call
runs pinned to the generation active when its handler began (`pinned`), so it reads one
generation from start to end; anything else (streams, background workers) reads the active
one at each access.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Collection, Iterator
from contextvars import ContextVar
from typing import Any

from prometheus_client import Gauge
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.asynchronous.mongo_client import AsyncMongoClient
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)

Document = dict[str, Any]

CONTROL = "_readmodels"
CONTROL_ID = "generations"
CONTROL_POLL_S = 0.5
GENERATION_SUFFIX = "__g"

# Exported by every process of the service from the control document, so Prometheus and
# `lmp status` see a rebuild that runs in an operator's `lmp rebuild`.
REBUILD_RUNNING = Gauge(
    "lmp_rebuild_running",
    "1 while `lmp rebuild` builds this upstream's read models into a new generation",
    ["upstream"],
)
REBUILD_APPLIED = Gauge(
    "lmp_rebuild_applied_events",
    "Upstream events the rebuild in progress (or the last one) applied to its new generation",
    ["upstream"],
)
READ_MODEL_GENERATION = Gauge(
    "lmp_read_model_generation", "The read-model generation this process reads and writes"
)


def generation_name(home: str, generation: int) -> str:
    return home if generation == 0 else f"{home}{GENERATION_SUFFIX}{generation}"


def generation_of(home: str, database: str) -> int | None:
    """The generation a database name holds, or None when it is no generation of `home`."""
    if database == home:
        return 0
    found = re.fullmatch(re.escape(home + GENERATION_SUFFIX) + r"(\d+)", database)
    return int(found.group(1)) if found else None


class ReadModels:
    """A service's read-model generations on one MongoDB client.

    `routed` names the collections that live in a generation (the projections' collections and
    the consumers' own); None means every collection (a consumer built on a plain database)."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        home: str,
        routed: Collection[str] | None = None,
    ) -> None:
        self.client = client
        self.home = home
        self.routed = None if routed is None else frozenset(routed)
        self.active = 0
        self.control_doc: Document = {}
        self._databases: dict[int, AsyncDatabase[Document]] = {}
        self._pin: ContextVar[int | None] = ContextVar(f"read_models_pin:{home}", default=None)
        self._listeners: list[Callable[[], None]] = []
        self._exported: set[str] = set()
        self.ready = asyncio.Event()  # the control document was read once
        self.handle: AsyncDatabase[Document] = GenerationDatabase(self, None)

    def database(self, generation: int) -> AsyncDatabase[Document]:
        """The raw database of a generation (every collection in it)."""
        found = self._databases.get(generation)
        if found is None:
            found = AsyncDatabase(self.client, generation_name(self.home, generation))
            self._databases[generation] = found
        return found

    @property
    def home_db(self) -> AsyncDatabase[Document]:
        return self.database(0)

    def current(self) -> int:
        """The generation this call reads: its pin, or the active one."""
        pinned = self._pin.get()
        return self.active if pinned is None else pinned

    def view(self, generation: int | None) -> AsyncDatabase[Document]:
        """A database whose generation collections are those of `generation` (None: the active
        one at each access) and whose other collections are the service's own."""
        return GenerationDatabase(self, generation)

    def routes(self, collection: str) -> bool:
        return self.routed is None or collection in self.routed

    @contextlib.contextmanager
    def pinned(self) -> Iterator[int]:
        token = self._pin.set(self.current())
        try:
            yield self.current()
        finally:
            self._pin.reset(token)

    def on_change(self, listener: Callable[[], None]) -> None:
        """Called when the control document changed (a switch, a pause, a resume)."""
        self._listeners.append(listener)

    async def read_control(self) -> Document:
        return await self.home_db[CONTROL].find_one({"_id": CONTROL_ID}) or {"_id": CONTROL_ID}

    async def refresh(self) -> None:
        doc = await self.read_control()
        self.ready.set()
        if doc == self.control_doc:
            return
        active = int(doc.get("active", 0))
        if active != self.active:
            log.info(
                "read models of %s switched from generation %d to %d",
                self.home,
                self.active,
                active,
                extra={"generation": active},
            )
        self.active = active
        READ_MODEL_GENERATION.set(active)
        self.control_doc = doc
        self._export(doc)
        for listener in self._listeners:
            listener()

    def _export(self, doc: Document) -> None:
        """The rebuild in progress, as the service's metrics (`lmp status`, the alert)."""
        rebuild = doc.get("rebuild") or {}
        running = set(rebuild.get("upstreams", ()))
        for upstream in {*running, *self._exported}:
            REBUILD_RUNNING.labels(upstream=upstream).set(1 if upstream in running else 0)
        for upstream, applied in (rebuild.get("applied") or {}).items():
            REBUILD_APPLIED.labels(upstream=upstream).set(applied)
        self._exported |= running

    async def follow(self, stopping: asyncio.Event) -> None:
        """Read the control document every CONTROL_POLL_S until stopping."""
        while not stopping.is_set():
            try:
                await self.refresh()
            except PyMongoError as error:
                log.debug("cannot read the read-model control of %s: %s", self.home, error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), CONTROL_POLL_S)


class GenerationDatabase(AsyncDatabase[Document]):
    """The service's database as its readers and projections know it (`db[NAME]`), each
    collection taken from the generation it belongs to.

    Collections (`db[NAME]`, `db.NAME`, `get_collection`, `drop_collection`) resolve per
    generation; every other database-level operation (commands, listing, watching the whole
    database) acts on the service's own database: read models use collections only."""

    def __init__(self, models: ReadModels, generation: int | None) -> None:
        super().__init__(models.client, models.home)
        self._models = models
        self._generation = generation

    def _target(self, name: str | None = None) -> AsyncDatabase[Document]:
        models = self._models
        if name is not None and not models.routes(name):
            return models.home_db
        generation = models.current() if self._generation is None else self._generation
        return models.database(generation)

    def __getitem__(self, name: str) -> AsyncCollection[Document]:
        return self._target(name)[name]

    def __getattr__(self, name: str) -> AsyncCollection[Document]:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._target(name)[name]

    def get_collection(self, name: str, *args: Any, **kwargs: Any) -> AsyncCollection[Document]:  # noqa: ANN401  # pymongo's options, passed on
        return self._target(name).get_collection(name, *args, **kwargs)

    async def drop_collection(self, name_or_collection: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401  # pymongo's own signature
        name = str(getattr(name_or_collection, "name", name_or_collection))
        return await self._target(name).drop_collection(name, *args, **kwargs)

    def __repr__(self) -> str:
        return f"GenerationDatabase({self._models.home!r}, {self._generation!r})"

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)
