"""Live streams woken by changes: one MongoDB change stream per watched collection and process,
fanned out to any number of waiting streams.

A stream handler opens a `Watch` on the collections its answer is read from, optionally for one
key (a recipient, a city); it re-arms the watch before each read, so a change that lands while
it reads wakes it again, and it waits between reads. The first watch of a collection opens its
change stream; the last one to leave closes it. Where change streams are not supported (a
standalone mongod), one shared timer per collection wakes every watch at an interval instead.
A failed change stream is reopened after a short pause, and everyone is woken: a change may
have been missed. `ChangeHub.close()` wakes every watch for good, so handlers end cleanly when
the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Gauge
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure, PyMongoError

from lmp_kit.readmodels import GENERATION_SUFFIX

if TYPE_CHECKING:
    from lmp_kit.readmodels import ReadModels

log = logging.getLogger(__name__)

Document = dict[str, Any]
ANY_KEY = None
POLL_INTERVAL_S = 1.0
RESTART_DELAY_S = (0.1, 5.0)
LOG_EVERY_S = 60.0
# Server answers meaning "no change streams here": not a replica set, or not implemented.
UNSUPPORTED_CODES = frozenset({40573, 40324, 115, 136, 20})

CHANGE_STREAMS_OPEN = Gauge(
    "lmp_change_streams_open",
    "MongoDB change streams open now, one per watched collection and process",
    ["collection"],
)
CHANGE_STREAM_RESTARTS = Counter(
    "lmp_change_stream_restarts_total",
    "Change streams reopened after an error (every watch was woken to read again)",
    ["collection"],
)
CHANGE_WATCHES = Gauge(
    "lmp_change_watches", "Live streams waiting for changes of a collection", ["collection"]
)
CHANGE_POLLS = Counter(
    "lmp_change_polls_total",
    "Shared polling rounds where change streams are not supported (one per interval)",
    ["collection"],
)


class Watch:
    """What one live stream waits on: changes of its key (or of any key) in its collections."""

    def __init__(self, key: str | None) -> None:
        self.key = key
        self.woken = asyncio.Event()
        self.woken.set()  # the first read needs no change
        self._closed = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def arm(self) -> None:
        """Call before each read: a change from now on wakes the next `wait`."""
        self.woken.clear()

    def wake(self) -> None:
        self.woken.set()

    def close(self) -> None:
        self._closed.set()
        self.woken.set()

    async def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for a change since `arm` (True), the timeout or the close (False)."""
        if not self.closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.woken.wait(), timeout_s)
        return self.woken.is_set() and not self.closed

    async def pause(self, seconds: float) -> None:
        """Let changes gather before the next read; ends early when the watch is closed."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), seconds)


@dataclass
class Feed:
    """One collection's change stream (or shared poll) and the watches it wakes."""

    collection: AsyncCollection[Document]
    key_field: str
    poll_interval_s: float
    watches: dict[str | None, set[Watch]] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    opened: int = 0
    restarts: int = 0
    polling: bool = False
    _logged_at: float = 0.0
    _unlogged: int = 0

    @property
    def label(self) -> str:
        return self.collection.name

    def __len__(self) -> int:
        return sum(len(w) for w in self.watches.values())

    def add(self, watch: Watch) -> None:
        self.watches.setdefault(watch.key, set()).add(watch)
        CHANGE_WATCHES.labels(collection=self.label).inc()
        if self.task is None:
            self.task = asyncio.create_task(self._follow(), name=f"changes:{self.label}")

    def remove(self, watch: Watch) -> None:
        found = self.watches.get(watch.key)
        if found is None or watch not in found:
            return
        found.discard(watch)
        if not found:
            del self.watches[watch.key]
        CHANGE_WATCHES.labels(collection=self.label).dec()

    def wake(self, key: object = ANY_KEY) -> None:
        if key is ANY_KEY or not isinstance(key, str):
            for watches in self.watches.values():
                for watch in watches:
                    watch.wake()
            return
        for watch in (*self.watches.get(key, ()), *self.watches.get(ANY_KEY, ())):
            watch.wake()

    def key_of(self, change: Document) -> object:
        if not self.key_field:
            return ANY_KEY
        return (change.get("fullDocument") or {}).get(self.key_field, ANY_KEY)

    def pipeline(self) -> list[Document]:
        shown: Document = {"operationType": 1, "documentKey": 1}
        if self.key_field:
            shown[f"fullDocument.{self.key_field}"] = 1
        return [{"$project": shown}]

    async def _follow(self) -> None:
        failures = 0
        while True:
            try:
                await self._stream()
                failures = 0
            except OperationFailure as error:
                if error.code in UNSUPPORTED_CODES or "replica set" in str(error):
                    self._note("no change streams on %s (%s): one shared poll instead", error)
                    await self._poll()
                    return
                failures += 1
                self._note("the change stream of %s failed: %s", error)
            except (PyMongoError, OSError) as error:
                failures += 1
                self._note("the change stream of %s failed: %s", error)
            except Exception as error:  # noqa: BLE001  # nothing may leave the live streams unwoken
                failures += 1
                self._note("the change stream of %s broke: %r", error)
            self.restarts += 1
            CHANGE_STREAM_RESTARTS.labels(collection=self.label).inc()
            self.wake()
            low, high = RESTART_DELAY_S
            await asyncio.sleep(min(high, low * 2 ** min(failures, 10)))

    async def _stream(self) -> None:
        stream = await self.collection.watch(self.pipeline(), full_document="updateLookup")
        self.opened += 1
        CHANGE_STREAMS_OPEN.labels(collection=self.label).inc()
        try:
            self.wake()  # what changed before the stream opened is not in it
            async for change in stream:
                self.wake(self.key_of(change))
        finally:
            CHANGE_STREAMS_OPEN.labels(collection=self.label).dec()
            await stream.close()

    async def _poll(self) -> None:
        self.polling = True
        while True:
            await asyncio.sleep(self.poll_interval_s)
            CHANGE_POLLS.labels(collection=self.label).inc()
            self.wake()

    def _note(self, message: str, error: Exception) -> None:
        """A warning at most once a minute per collection, with how many were left out."""
        now = time.monotonic()
        if now - self._logged_at < LOG_EVERY_S and self._logged_at:
            self._unlogged += 1
            return
        log.warning(
            message, self.label, error, extra={"left_out_since_last_warning": self._unlogged}
        )
        self._logged_at, self._unlogged = now, 0

    def restart(self) -> None:
        """Follow `collection` (changed) from now on: a new stream, and everyone woken."""
        if self.task is not None:
            self.task.cancel()
            self.task = asyncio.create_task(self._follow(), name=f"changes:{self.label}")
        self.wake()

    async def stop(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class ChangeHub:
    """The feeds of one process, by collection; streams share them."""

    def __init__(self, poll_interval_s: float = POLL_INTERVAL_S) -> None:
        self.poll_interval_s = poll_interval_s
        self.feeds: dict[tuple[int, str, str, str], Feed] = {}
        self.closed = False
        self._open: set[Watch] = set()

    @staticmethod
    def _key(collection: AsyncCollection[Document], key_field: str) -> tuple[int, str, str, str]:
        database = collection.database
        return (id(database.client), database.name, collection.name, key_field)

    def feed(self, collection: AsyncCollection[Document], key_field: str = "") -> Feed:
        key = self._key(collection, key_field)
        found = self.feeds.get(key)
        if found is None:
            found = Feed(collection, key_field, self.poll_interval_s)
            self.feeds[key] = found
        return found

    @contextlib.asynccontextmanager
    async def watch(
        self,
        collections: Sequence[AsyncCollection[Document]],
        *,
        key: str | None = ANY_KEY,
        key_field: str = "",
    ) -> AsyncIterator[Watch]:
        """A watch woken by changes of documents whose `key_field` is `key` (or whose key the
        change does not tell) in any of `collections`; every change when `key` is None."""
        watch = Watch(key)
        feeds = [self.feed(c, key_field) for c in collections]
        if self.closed:
            watch.close()
        else:
            self._open.add(watch)
            for feed in feeds:
                feed.add(watch)
        try:
            yield watch
        finally:
            self._open.discard(watch)
            for feed in feeds:
                feed.remove(watch)
                if not len(feed):
                    # Forgotten before its stream closes: a new watch opens a new feed.
                    self.feeds.pop(self._key(feed.collection, feed.key_field), None)
                    await feed.stop()

    def follow_generations(self, models: ReadModels) -> None:
        """After a rebuild switched the service's read models to a new generation
        (lmp_kit.readmodels), the feeds of the old generation's collections follow the new
        one's: their change streams reopen there, and every watch is woken to read again."""
        models.on_change(lambda: self._switch(models))

    def _switch(self, models: ReadModels) -> None:
        active = models.database(models.active)
        for key, feed in list(self.feeds.items()):
            collection = feed.collection
            database = collection.database.name
            ours = database == models.home or database.startswith(models.home + GENERATION_SUFFIX)
            if not ours or database == active.name:
                continue
            if not models.routes(collection.name):
                continue  # the service's own collection, in no generation
            feed.collection = active[collection.name]
            del self.feeds[key]
            self.feeds[self._key(feed.collection, feed.key_field)] = feed
            feed.restart()

    def close(self) -> None:
        """End every watch, now and later: the server is stopping."""
        self.closed = True
        for watch in list(self._open):
            watch.close()

    def watching(self) -> int:
        """Feeds following a collection now (a change stream or the shared poll each)."""
        return sum(1 for f in self.feeds.values() if f.task is not None)


HUB = ChangeHub()
