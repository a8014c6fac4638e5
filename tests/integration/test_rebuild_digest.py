"""The rebuild's digest of a collection on a real server: the same documents give the same
digest whatever order they were inserted in and whatever order their fields are in; one
value changed, or one document less, gives another."""

from __future__ import annotations

import random
from typing import Any

import pytest
from bson.int64 import Int64
from lmp_kit.rebuild import digest, digests, raw_digest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

Database = AsyncDatabase[dict[str, Any]]


@pytest.fixture
def database(mongo: tuple[AsyncMongoClient[Any], str]) -> Database:
    client, name = mongo
    return client[name]


def documents(*, reverse_fields: bool = False) -> list[dict[str, Any]]:
    """600 facts (more than the cursor's first reply holds); `reverse_fields`: the same, every
    document and embedded document with its fields in the opposite order."""

    def made(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        return dict(reversed(pairs) if reverse_fields else pairs)

    return [
        made(
            [
                ("_id", f"fact-{n}"),
                ("city_id", f"city-{n % 7}"),
                ("count", Int64(n) if n % 2 else n),
                ("share", n / 3),
                ("tags", ["a", "b", str(n)]),
                (
                    "detail",
                    made([("kind", "ballot"), ("month", f"2026-{n % 12 + 1:02d}"), ("weight", n)]),
                ),
            ]
        )
        for n in range(600)
    ]


async def test_the_same_documents_in_any_order_have_the_same_digest(database: Database) -> None:
    docs = documents()
    reversed_docs = documents(reverse_fields=True)
    random.Random(19).shuffle(reversed_docs)  # noqa: S311  # a fixed shuffle, no secret
    await database["ordered"].insert_many(docs)
    await database["shuffled"].insert_many(reversed_docs)

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


async def test_collections_compare_as_stored_and_again_field_order_aside(
    database: Database,
) -> None:
    """`digests` first compares the stored bytes, then, for a pair that differs, the documents
    field order aside: the same documents in another field order are equal, a changed value
    is not."""
    docs = documents()
    await database["live"].insert_many([dict(d) for d in docs])
    await database["copy"].insert_many([dict(d) for d in reversed(docs)])
    await database["reordered"].insert_many(documents(reverse_fields=True))
    await database["changed"].insert_many([dict(d) for d in docs])
    await database["changed"].update_one({"_id": "fact-7"}, {"$set": {"share": 0.5}})
    live, copy, reordered, changed = (database[n] for n in ("live", "copy", "reordered", "changed"))

    assert await raw_digest(live) == await raw_digest(copy)  # equal as stored
    assert await raw_digest(live) != await raw_digest(reordered)  # needs the second pass
    assert await digests([(live, copy), (live, reordered), (live, changed)]) == [
        True,
        True,
        False,
    ]
