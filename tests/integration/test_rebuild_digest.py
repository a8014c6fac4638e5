"""The rebuild's digest of a collection on a real server: the same documents give the same
digest whatever order they were inserted in and whatever order their fields are in; one
value changed, or one document less, gives another."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson.int64 import Int64
from lmp_kit.rebuild import digest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Database = AsyncDatabase[dict[str, Any]]


@pytest.fixture
async def database(mongodb_uri: str) -> AsyncIterator[Database]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    name = f"digest_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


def documents() -> list[dict[str, Any]]:
    return [
        {
            "_id": f"fact-{n}",
            "city_id": f"city-{n % 7}",
            "count": Int64(n) if n % 2 else n,
            "share": n / 3,
            "tags": ["a", "b", str(n)],
            "detail": {"kind": "ballot", "month": f"2026-{n % 12 + 1:02d}", "weight": n},
        }
        for n in range(600)  # more than one batch of the cursor's first reply
    ]


def reordered(value: Any, rng: random.Random) -> Any:  # any BSON value
    """The same value with the keys of every embedded document in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: reordered(v, rng) for k, v in items}
    if isinstance(value, list):
        return [reordered(v, rng) for v in value]
    return value


async def test_the_same_documents_in_any_order_have_the_same_digest(database: Database) -> None:
    rng = random.Random(19)  # noqa: S311  # a fixed shuffle, no secret
    docs = documents()
    await database["ordered"].insert_many(docs)
    await database["shuffled"].insert_many([reordered(d, rng) for d in rng.sample(docs, len(docs))])

    assert await digest(database["ordered"]) == await digest(database["shuffled"])
    assert (await digest(database["ordered"])).startswith(f"{len(docs)}:")


async def test_one_value_changed_or_one_document_less_gives_another_digest(
    database: Database,
) -> None:
    docs = documents()
    for name in ("same", "changed", "fewer", "retyped"):
        await database[name].insert_many([dict(d) for d in docs])
    await database["changed"].update_one({"_id": "fact-7"}, {"$set": {"detail.weight": 8}})
    await database["fewer"].delete_one({"_id": "fact-599"})
    await database["retyped"].update_one({"_id": "fact-2"}, {"$set": {"count": Int64(2)}})

    same = await digest(database["same"])
    assert await digest(database["changed"]) != same
    assert await digest(database["fewer"]) != same
    assert await digest(database["retyped"]) != same  # 2 and Int64(2) are different documents
