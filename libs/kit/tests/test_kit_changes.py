"""The change hub on an in-memory collection whose change stream the test writes to; the same
hub against a real MongoDB is tested in tests/integration/test_live_streams.py."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from lmp_kit import changes
from lmp_kit.changes import ChangeHub
from pymongo.errors import OperationFailure

Document = dict[str, Any]


class Stream:
    def __init__(self, changes_: asyncio.Queue[Document | Exception]) -> None:
        self.changes = changes_
        self.closed = False

    def __aiter__(self) -> AsyncIterator[Document]:
        return self

    async def __anext__(self) -> Document:
        change = await self.changes.get()
        if isinstance(change, Exception):
            raise change
        return change

    async def close(self) -> None:
        self.closed = True


@dataclass
class Database:
    name: str = "db"
    client: object = field(default_factory=object)


@dataclass
class Collection:
    """A collection's change stream, written by the test; `refuse` answers like a standalone
    mongod."""

    name: str = "inbox"
    database: Database = field(default_factory=Database)
    refuse: bool = False
    streams: list[Stream] = field(default_factory=list)
    queue: asyncio.Queue[Document | Exception] = field(default_factory=asyncio.Queue)

    async def watch(self, pipeline: list[Document], full_document: str) -> Stream:
        del pipeline, full_document
        if self.refuse:
            msg = "The $changeStream stage is only supported on replica sets"
            raise OperationFailure(msg, code=40573)
        stream = Stream(self.queue)
        self.streams.append(stream)
        return stream

    def insert(self, **document: Any) -> None:  # any document
        self.queue.put_nowait({"operationType": "insert", "fullDocument": document})


@contextlib.asynccontextmanager
async def watches_of(
    hub: ChangeHub, collection: Collection, keys: list[str]
) -> AsyncIterator[list[changes.Watch]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                hub.watch([collection], key=key, key_field="recipient")  # type: ignore[list-item]  # the in-memory collection
            )
            for key in keys
        ]


async def until(condition: Any, within_s: float = 5.0) -> bool:  # a predicate
    deadline = time.monotonic() + within_s
    while not condition() and time.monotonic() < deadline:  # noqa: ASYNC110  # bounded polling of a test
        await asyncio.sleep(0.01)
    return bool(condition())


async def test_many_watches_share_one_change_stream_and_each_is_woken_by_its_key():
    hub, inbox = ChangeHub(), Collection()
    async with watches_of(hub, inbox, ["anna"] * 50 + ["boris"] * 50) as watches:
        assert await until(lambda: len(inbox.streams) == 1)
        for watch in watches:
            watch.arm()
        inbox.insert(recipient="anna")
        assert await until(lambda: all(w.woken.is_set() for w in watches if w.key == "anna"))
        assert not any(w.woken.is_set() for w in watches if w.key == "boris")
        inbox.insert(subject="no recipient")  # a change that names no key wakes everyone
        assert await until(lambda: all(w.woken.is_set() for w in watches))
        assert len(inbox.streams) == 1
        assert hub.watching() == 1
    assert hub.watching() == 0
    assert inbox.streams[0].closed


async def test_the_change_stream_is_reopened_after_an_error_and_everyone_reads_again():
    hub, inbox = ChangeHub(), Collection()
    async with hub.watch([inbox], key="anna", key_field="recipient") as watch:  # type: ignore[list-item]  # the in-memory collection
        assert await until(lambda: len(inbox.streams) == 1)
        watch.arm()
        inbox.queue.put_nowait(OSError("connection reset"))
        assert await watch.wait(5.0)
        assert await until(lambda: len(inbox.streams) == 2)  # reopened once


async def test_without_change_streams_one_shared_poll_wakes_every_watch():
    hub, inbox = ChangeHub(poll_interval_s=0.02), Collection(refuse=True)
    async with watches_of(hub, inbox, ["anna", "boris", "vera"]) as watches:
        for watch in watches:
            watch.arm()
        assert all([await w.wait(5.0) for w in watches])
        assert [f.polling for f in hub.feeds.values()] == [True]


async def test_closing_the_hub_ends_every_watch_now_and_later():
    hub, inbox = ChangeHub(), Collection()
    async with hub.watch([inbox], key="anna", key_field="recipient") as watch:  # type: ignore[list-item]  # the in-memory collection
        watch.arm()
        waiting = asyncio.create_task(watch.wait())
        hub.close()
        assert await asyncio.wait_for(waiting, 5.0) is False
        assert watch.closed
        await asyncio.wait_for(watch.pause(60.0), 5.0)
    async with hub.watch([inbox]) as later:  # type: ignore[list-item]  # the in-memory collection
        assert later.closed


@pytest.mark.parametrize("refuse", [False, True])
async def test_a_watch_that_leaves_takes_its_collection_s_feed_with_it_when_last(refuse):
    hub, inbox = ChangeHub(poll_interval_s=0.02), Collection(refuse=refuse)
    async with hub.watch([inbox], key="anna", key_field="recipient"):  # type: ignore[list-item]  # the in-memory collection
        assert hub.watching() == 1
    assert hub.feeds == {}
    assert changes.CHANGE_WATCHES.labels(collection="inbox")._value.get() == 0  # noqa: SLF001  # the gauge's value
