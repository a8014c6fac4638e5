from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lmp_kit.errors import FailedPreconditionError, NotFoundError
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from voting.domain.counting import Method, Placement, lot_of, rank
from voting.domain.merkle import inclusion_proof, merkle_root
from voting.projections import BALLOTS, POLLS, TALLIES

Document = dict[str, Any]


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


async def poll_document(db: AsyncDatabase[Document], poll_id: str) -> Document:
    poll = await db[POLLS].find_one({"_id": poll_id})
    if poll is None or "method" not in poll:
        msg = f"poll {poll_id} is not (yet) in the read model"
        raise NotFoundError(msg)
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


async def inclusion(db: AsyncDatabase[Document], poll_id: str, receipt: str) -> Inclusion:
    poll = await poll_document(db, poll_id)
    if not poll.get("closed"):
        msg = f"poll {poll_id} is not closed: receipts are verified against its final digest"
        raise FailedPreconditionError(msg)
    cursor = db[BALLOTS].find({"poll_id": poll_id}).sort("_id", ASCENDING)
    counted_up_to = int(poll.get("counted_up_to") or 0)
    receipts = [r async for doc in cursor if (r := counted_receipt(doc, counted_up_to))]
    if merkle_root(receipts) != poll["digest"]:
        msg = f"the ballots of poll {poll_id} are still being projected; try again shortly"
        raise FailedPreconditionError(msg)
    if receipt not in receipts:
        msg = f"receipt {receipt} is not among the counted ballots of poll {poll_id}"
        raise NotFoundError(msg)
    index = receipts.index(receipt)
    return Inclusion(
        digest=poll["digest"],
        leaf_index=index,
        tree_size=len(receipts),
        proof=inclusion_proof(receipts, index),
    )


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
