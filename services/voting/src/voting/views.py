from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lmp_kit.domain import check_city_id
from lmp_kit.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    NotYetError,
)
from lmp_kit.pages import Pages
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from voting.domain.counting import Method, Placement, lot_of, rank
from voting.domain.merkle import fold, merkle_root, proof_subtrees, root_subtrees, tree_levels
from voting.domain.polls import PollKind, poll_status
from voting.projections import BALLOTS, POLLS, TALLIES, TREES

Document = dict[str, Any]

# Subtree hashes per stored chunk: a proof reads a few chunks of 8 KiB.
CHUNK = 256
HASH_SIZE = 32
DUPLICATE_KEY = 11000


@dataclass(frozen=True)
class LiveResults:
    poll_id: str
    city_id: str
    options: list[Document]
    placements: list[Placement]
    ballots: int
    updated_at: datetime | None


@dataclass(frozen=True)
class Inclusion:
    digest: str
    leaf_index: int
    tree_size: int
    proof: list[str]


def flatten(tree: Document, prefix: str = "") -> dict[str, int]:
    flat: dict[str, int] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = int(value)
    return flat


class PollNotInModelError(NotFoundError):
    def __init__(self, poll_id: str) -> None:
        super().__init__(f"poll {poll_id} is not (yet) in the read model")
        self.poll_id = poll_id


async def poll_document(db: AsyncDatabase[Document], poll_id: str) -> Document:
    poll = await db[POLLS].find_one({"_id": poll_id})
    if poll is None or "method" not in poll:
        raise PollNotInModelError(poll_id)
    return poll


async def live_results(db: AsyncDatabase[Document], poll_id: str) -> LiveResults:
    poll = await poll_document(db, poll_id)
    tally = await db[TALLIES].find_one({"_id": poll_id}) or {}
    counters = flatten(tally.get("counters", {}))
    option_ids = [o["option_id"] for o in poll["options"]]
    return LiveResults(
        poll_id=poll_id,
        city_id=poll["city_id"],
        options=poll["options"],
        placements=rank(Method(poll["method"]), option_ids, counters, lot_of(poll_id, option_ids)),
        ballots=counters.get("ballots", 0),
        updated_at=tally.get("updated_at"),
    )


class PollNotClosedError(FailedPreconditionError):
    def __init__(self, poll_id: str) -> None:
        super().__init__(
            f"poll {poll_id} is not closed: receipts are verified against its final digest"
        )
        self.poll_id = poll_id


class ReceiptProofs:
    """Inclusion proofs of a closed poll's receipts, answered from its stored Merkle tree.

    The first verification of a poll builds the tree once from the ballots read model (the
    receipt each ballot had at the count, in ballot-id order), checks it reproduces the digest
    published in `Poll.Closed`, and stores it in `receipt_trees`: one document per receipt
    (its leaf index) and the hashes of the tree's aligned perfect subtrees in chunks, then the
    poll's document last. Every later verification is a lookup of the receipt and of the
    O(log n) subtrees its proof folds. A tree is a function of the published digest's ballots,
    so a second builder (another replica, or a retry of a build cut short) writes the same
    documents. In one process a poll's tree is built once, whoever waits for it.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.trees = db[TREES]
        self.building: dict[str, asyncio.Task[Document]] = {}

    async def inclusion(self, poll_id: str, receipt: str) -> Inclusion:
        tree = await self.trees.find_one({"_id": poll_id}) or await self._built(poll_id)
        leaf = await self.trees.find_one({"_id": f"{poll_id}:{receipt}"})
        if leaf is None:
            msg = f"receipt {receipt} is not among the counted ballots of poll {poll_id}"
            raise NotFoundError(msg)
        index, size = int(leaf["i"]), int(tree["tree_size"])
        path = proof_subtrees(index, size)
        wanted = sorted({chunk_id(poll_id, level, p // CHUNK) for g in path for level, p in g})
        chunks = {
            doc["_id"]: bytes(doc["h"]) async for doc in self.trees.find({"_id": {"$in": wanted}})
        }

        def subtree(level: int, position: int) -> bytes:
            offset = position % CHUNK * HASH_SIZE
            return chunks[chunk_id(poll_id, level, position // CHUNK)][offset : offset + HASH_SIZE]

        return Inclusion(
            digest=tree["digest"],
            leaf_index=index,
            tree_size=size,
            proof=[fold([subtree(*s) for s in group]).hex() for group in path],
        )

    async def _built(self, poll_id: str) -> Document:
        task = self.building.get(poll_id)
        if task is None:
            task = asyncio.ensure_future(self._build(poll_id))
            self.building[poll_id] = task
            task.add_done_callback(self._forget)
        # A caller that gives up does not stop the build: the next one finds the tree.
        return await asyncio.shield(task)

    def _forget(self, task: asyncio.Task[Document]) -> None:
        """A finished build is forgotten: its tree is stored, or the next call tries again."""
        self.building = {k: t for k, t in self.building.items() if t is not task}
        if not task.cancelled():
            task.exception()  # retrieved here too, in case every caller gave up

    async def _build(self, poll_id: str) -> Document:
        poll = await poll_document(self.db, poll_id)
        if not poll.get("closed"):
            raise PollNotClosedError(poll_id)
        cursor = self.db[BALLOTS].find({"poll_id": poll_id}).sort("_id", ASCENDING)
        counted_up_to = int(poll.get("counted_up_to") or 0)
        receipts = [r async for doc in cursor if (r := counted_receipt(doc, counted_up_to))]
        levels = await asyncio.to_thread(tree_levels, receipts)
        if tree_root(levels, len(receipts)) != poll["digest"]:
            msg = f"the ballots of poll {poll_id} are still being projected; try again shortly"
            raise NotYetError(msg)
        await self._insert(
            [{"_id": f"{poll_id}:{r}", "i": i} for i, r in enumerate(receipts)]
            + [
                {
                    "_id": chunk_id(poll_id, level, c),
                    "h": b"".join(hashes[c * CHUNK : (c + 1) * CHUNK]),
                }
                for level, hashes in enumerate(levels)
                for c in range((len(hashes) + CHUNK - 1) // CHUNK)
            ]
        )
        tree = {"_id": poll_id, "digest": poll["digest"], "tree_size": len(receipts)}
        await self._insert([tree])
        return tree

    async def _insert(self, documents: list[Document]) -> None:
        if not documents:
            return
        try:
            await self.trees.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            # Documents another builder wrote first are the same documents.
            if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise


def chunk_id(poll_id: str, level: int, chunk: int) -> str:
    return f"{poll_id}:{level}:{chunk}"


def tree_root(levels: list[list[bytes]], size: int) -> str:
    if not size:
        return merkle_root([])
    return fold([levels[level][position] for level, position in root_subtrees(size)]).hex()


def counted_receipt(ballot: Document, counted_up_to: int) -> str:
    """The receipt of the ballot's version the count read: the latest one at or below the
    count's last notification id ("" when the ballot came after the count)."""
    if not counted_up_to or "versions" not in ballot:
        return str(ballot["receipt"])
    read = [
        (int(version), str(seen["receipt"]))
        for version, seen in ballot["versions"].items()
        if int(seen["nid"]) <= counted_up_to
    ]
    return max(read)[1] if read else ""


async def due_polls(db: AsyncDatabase[Document], now: datetime) -> list[str]:
    cursor = db[POLLS].find(
        {"closed": {"$ne": True}, "closes_at": {"$ne": None, "$lte": now}},
        {"_id": 1},
    )
    return [doc["_id"] async for doc in cursor]


POLL_PAGES = Pages("voting.ListPolls", max_size=200)
POLL_STATUSES = ("draft", "scheduled", "open", "closing", "closed")


@dataclass(frozen=True)
class PollList:
    polls: list[Document]
    next_token: str


def status_condition(status: str, now: datetime) -> Document:
    """The read-model documents whose status (as Poll.status computes it) is `status` now."""
    not_closed: Document = {"closed": {"$ne": True}}
    running: Document = {**not_closed, "closing": {"$ne": True}}
    conditions: dict[str, Document] = {
        "closed": {"closed": True},
        "draft": {**running, "opens_at": None},
        "scheduled": {**running, "opens_at": {"$gt": now}},
        "open": {
            **running,
            "opens_at": {"$lte": now},
            "$or": [{"closes_at": None}, {"closes_at": {"$gt": now}}],
        },
        "closing": {
            **not_closed,
            "$or": [
                {"closing": True},
                {"opens_at": {"$lte": now}, "closes_at": {"$lte": now}},
            ],
        },
    }
    if status not in conditions:
        msg = f"status {status!r} is not one of: {', '.join(POLL_STATUSES)}"
        raise InvalidArgumentError(msg)
    return conditions[status]


def status_of(doc: Document, now: datetime) -> str:
    """Poll.status, from the read model's document."""
    return poll_status(
        now,
        closed=bool(doc.get("closed")),
        closing=bool(doc.get("closing")),
        opens_at=doc.get("opens_at"),
        closes_at=doc.get("closes_at"),
    )


async def list_polls(  # noqa: PLR0913  # the list's filters and page, each named
    db: AsyncDatabase[Document],
    city_id: str,
    *,
    kind: str,
    status: str,
    now: datetime,
    page_size: int,
    page_token: str,
) -> PollList:
    size = POLL_PAGES.size(page_size)
    after = POLL_PAGES.number(page_token)
    conditions: list[Document] = [
        {"city_id": check_city_id(city_id)},
        {"method": {"$exists": True}},
    ]
    if kind:
        if kind not in tuple(PollKind):
            msg = f"kind {kind!r} is not one of: {', '.join(PollKind)}"
            raise InvalidArgumentError(msg)
        conditions.append({"kind": kind})
    if status:
        conditions.append(status_condition(status, now))
    if after is not None:
        conditions.append({"seq": {"$lt": after}})
    cursor = db[POLLS].find({"$and": conditions}).sort("seq", DESCENDING).limit(size + 1)
    found = [doc async for doc in cursor]
    return PollList(*POLL_PAGES.cut(found, size, lambda doc: int(doc["seq"])))
