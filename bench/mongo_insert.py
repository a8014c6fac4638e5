"""What each part of a rebuild's write costs the MongoDB server, in one run.

`lmp rebuild kpi` writes its fact documents as a TrackedConsumer does: a transaction per page
of 1,000 events that writes the generation's fence, reads the stored position and the page's
tracking blocks, looks the facts' ids up (`_id $in`), inserts the new ones (`insert_many`,
unordered), and moves the position; the live consumers insert into a collection with the read
model's secondary index, the rebuild into one with only `_id` and builds the index once after
loading (kpi's FactsProjection indexes after load). rebuild_kpi.py compares the rebuild with
raw `insert_many` into bare and into indexed collections; this script takes the same documents
(kpi's ballot facts, in the projection's own shape) through each step added one at a time, on
one fresh server, so the share of each step is measured, not guessed:

1. bare: insert_many into a collection with only `_id`;
2. indexed: into one with the voting facts' secondary index (kpi.projections);
3. indexed, in a transaction per batch;
4. indexed, in a transaction, after the `_id $in` lookup of the batch's ids;
5. as the consumer: 4 with the fence, position and tracking-block reads and writes;
6. as the rebuild: 5 into a collection with only `_id`, then the index built once (timed).

    uv run python bench/mongo_insert.py [--documents N] [--runs R] [--uri URI] [--json]

Without --uri it starts the embedded server (SecantusDB) in a temporary directory; with it,
it uses (and drops a scratch database `lmp_bench_insert` of) that server.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kpi.projections import VOTING_FACT_INDEXES
from lmp_devstack.secantus import start_secantus
from pymongo import ASCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]
BATCH = 1_000  # a catch-up page
SCRATCH = "lmp_bench_insert"
FACTS = "facts"
STEPS = (
    "bare",
    "indexed",
    "indexed_txn",
    "indexed_txn_lookup",
    "as_consumer",
    "as_rebuild",
)
UNINDEXED = {"bare", "as_rebuild"}


def ballot_facts(count: int) -> list[Document]:
    """kpi's ballot facts (projections.fact_document's shape) of 100 cities over a year."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    documents = []
    for n in range(count):
        city = f"city-{n % 100:03d}"
        month = 1 + (n // 100) % 12
        at = start + timedelta(days=30 * (month - 1), seconds=n % 86_400)
        documents.append(
            {
                "_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench:{n}")),
                "city_id": city,
                "kind": "ballot",
                "month": f"2026-{month:02d}",
                "occurred_month": f"2026-{month:02d}",
                "occurred_at": at,
                "ref": str(uuid.uuid5(uuid.NAMESPACE_URL, f"poll:{city}:{month}")),
                "data": {"pseudonym": f"{n:064x}"},
            }
        )
    return documents


async def fresh(db: AsyncDatabase[Document], *, indexed: bool) -> None:
    await db.client.drop_database(db.name)
    await db.create_collection(FACTS)
    await db.create_collection("_fences")
    await db.create_collection("_positions")
    await db.create_collection("_tracking")
    await db["_tracking"].create_index([("upstream", ASCENDING), ("block", ASCENDING)])
    if indexed:
        await index(db)


async def index(db: AsyncDatabase[Document]) -> None:
    for keys in VOTING_FACT_INDEXES:
        await db[FACTS].create_index(list(keys))


async def lookup_and_insert(
    db: AsyncDatabase[Document], batch: list[Document], session: AsyncClientSession | None
) -> None:
    """FactsProjection.apply_batch's two calls."""
    wanted = {d["_id"]: d for d in batch}
    async for there in db[FACTS].find({"_id": {"$in": list(wanted)}}, {"_id": 1}, session=session):
        del wanted[there["_id"]]
    if wanted:
        await db[FACTS].insert_many(list(wanted.values()), ordered=False, session=session)


async def consumer_page(
    db: AsyncDatabase[Document], batch: list[Document], through: int, session: AsyncClientSession
) -> None:
    """TrackedConsumer._apply_in_transaction's calls around the projection, for one page."""
    await db["_fences"].find_one_and_update(
        {"_id": "voting"},
        {"$inc": {"batches": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    await db["_positions"].find_one({"_id": "voting"}, session=session)
    block = (through - 1) // BATCH
    async for _ in db["_tracking"].find(
        {"_id": {"$in": [f"voting:{block}"]}}, {"nids": 1}, session=session
    ):
        pass
    await lookup_and_insert(db, batch, session)
    await db["_positions"].update_one(
        {"_id": "voting"}, {"$max": {"position": through}}, upsert=True, session=session
    )
    await db["_tracking"].delete_many(
        {"upstream": "voting", "block": {"$lt": block + 1}}, session=session
    )


def page_of(
    step: str, db: AsyncDatabase[Document], batch: list[Document], through: int
) -> Callable[[AsyncClientSession], Awaitable[None]]:
    """One transaction's work of a step."""

    async def work(session: AsyncClientSession) -> None:
        if step == "indexed_txn":
            await db[FACTS].insert_many(batch, ordered=False, session=session)
        elif step == "indexed_txn_lookup":
            await lookup_and_insert(db, batch, session)
        else:
            await consumer_page(db, batch, through, session)

    return work


async def timed_step(
    client: AsyncMongoClient[Document], documents: list[Document], step: str
) -> float:
    db = client[SCRATCH]
    await fresh(db, indexed=step not in UNINDEXED)
    batches = [documents[i : i + BATCH] for i in range(0, len(documents), BATCH)]

    started = time.monotonic()
    for number, batch in enumerate(batches, start=1):
        if step in {"bare", "indexed"}:
            await db[FACTS].insert_many(batch, ordered=False)
            continue
        async with client.start_session() as session:
            await session.with_transaction(page_of(step, db, batch, number * BATCH))
    if step == "as_rebuild":
        await index(db)
    seconds = time.monotonic() - started
    if await db[FACTS].count_documents({}) != len(documents):
        msg = f"{step}: the collection does not hold the {len(documents)} documents"
        raise RuntimeError(msg)
    return seconds


async def measure(uri: str, documents: int, runs: int) -> dict[str, Any]:
    docs = ballot_facts(documents)
    client: AsyncMongoClient[Document] = AsyncMongoClient(uri)
    try:
        best: dict[str, float] = {}
        # Round-robin over the steps, so a drift of the server's speed touches each alike.
        for _ in range(runs):
            for step in STEPS:
                seconds = await timed_step(client, docs, step)
                best[step] = min(best.get(step, seconds), seconds)
        await client.drop_database(SCRATCH)
    finally:
        await client.close()
    rates = {step: documents / best[step] for step in STEPS}
    return {
        "documents": documents,
        "runs": runs,
        "documents_per_s": {s: round(r, 1) for s, r in rates.items()},
        "share_of_bare": {s: round(r / rates["bare"], 3) for s, r in rates.items()},
        "share_of_previous_step": {
            s: round(rates[s] / rates[p], 3) for p, s in itertools.pairwise(STEPS)
        },
    }


def report(result: dict[str, Any]) -> None:
    print(f"{result['documents']:,} ballot facts, batches of {BATCH:,}, best of {result['runs']}")
    previous = result["share_of_previous_step"]
    for step in STEPS:
        rate = result["documents_per_s"][step]
        share = result["share_of_bare"][step]
        step_share = f"  ({previous[step]:.0%} of the step before)" if step in previous else ""
        print(f"  {step:<20} {rate:>10,.1f} docs/s  {share:>6.0%} of bare{step_share}")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3, help="of each step, the fastest counting")
    parser.add_argument("--uri", default=None, help="a MongoDB server (default: embedded)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.documents < BATCH or args.runs < 1:
        parser.error(f"--documents must be at least {BATCH} and --runs at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.uri is not None:
        result = asyncio.run(measure(args.uri, args.documents, args.runs))
    else:
        with tempfile.TemporaryDirectory(prefix="lmp-insert-bench-") as directory:
            server = start_secantus(Path(directory))
            try:
                result = asyncio.run(measure(server.address, args.documents, args.runs))
            finally:
                server.stop()
    report(result)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
