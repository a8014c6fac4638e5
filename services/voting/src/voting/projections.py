"""Voting's own events -> read models: polls, ballots (receipts) and the live tallies.

A tally is a document of integer counters; each ballot adds its delta with ``$inc`` and a
re-vote adds (new delta - previous delta). Deltas commute, so the tally is right whatever order
Kafka and catch-up bring the events in, and no ballot ever triggers a recount.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lmp_contracts import voting
from lmp_kit.envelope import Envelope
from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from voting.domain.counting import Method, combine, delta, difference

POLLS = "polls"
BALLOTS = "ballots"
TALLIES = "tallies"
# Merkle trees of closed polls, built on their first VerifyReceipt (views.ReceiptProofs); the
# poll projection owns them, so a rebuild from scratch drops them with the polls.
TREES = "receipt_trees"

Document = dict[str, Any]


class PollProjection:
    event_types: frozenset[str] = frozenset(
        {"Poll.Created", "Poll.Opened", "Poll.Closing", "Poll.Closed"}
    )
    collections: tuple[str, ...] = (POLLS, TREES)

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> None:
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None:
        """One update per event, in the batch's order, in one bulk write."""
        if not envelopes:
            return
        await db[POLLS].bulk_write(
            [
                UpdateOne(
                    {"_id": str(e.aggregate_id)},
                    {"$set": self.changes(e), "$max": {"version": e.aggregate_version}},
                    upsert=True,
                )
                for e in envelopes
            ],
            ordered=True,
            session=session,
        )

    @staticmethod
    def changes(envelope: Envelope) -> Document:
        changes: Document
        if envelope.event_type == "Poll.Created":
            created = envelope.parse(voting.PollCreated)
            changes = {
                "city_id": envelope.city_id,
                "kind": created.kind,
                "title": created.title,
                "method": created.method,
                "options": [o.model_dump() for o in created.options],
                "closes_at": created.closes_at,
                "created_at": envelope.occurred_at,
                "seq": envelope.notification_id,  # ListPolls: the newest first
            }
        elif envelope.event_type == "Poll.Opened":
            changes = {"opens_at": envelope.parse(voting.PollOpened).opens_at}
        elif envelope.event_type == "Poll.Closing":
            changes = {"closing": True}
        else:
            closed = envelope.parse(voting.PollClosed)
            changes = {
                "closed": True,
                "closed_at": closed.closed_at,
                "results": [r.model_dump() for r in closed.results],
                "ballots_counted": closed.ballots_counted,
                "turnout": closed.turnout,
                "digest": closed.digest,
                "quorum_met": closed.quorum_met,
                "counted_up_to": closed.counted_up_to,
            }
        return changes


BALLOT_EVENTS: Mapping[str, type[voting.BallotCast | voting.BallotRecast]] = {
    c.event_type: c for c in (voting.BallotCast, voting.BallotRecast)
}


class TallyProjection:
    event_types: frozenset[str] = frozenset(BALLOT_EVENTS)
    collections: tuple[str, ...] = (BALLOTS, TALLIES)

    def __init__(self) -> None:
        self.polls: dict[str, tuple[Method, list[str]]] = {}

    async def _poll(
        self, poll_id: str, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> tuple[Method, list[str]]:
        found = self.polls.get(poll_id)
        if found is None:
            doc = await db[POLLS].find_one({"_id": poll_id}, session=session)
            if doc is None or "method" not in doc:
                msg = f"a ballot of poll {poll_id} arrived before the poll; retried later"
                raise LookupError(msg)
            found = (Method(doc["method"]), [o["option_id"] for o in doc["options"]])
            self.polls[poll_id] = found
        return found

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> None:
        await self.apply_batch([envelope], db, session)

    @staticmethod
    def _write(
        ballot_id: str,
        versions: Document,
        latest: tuple[int, str, str] | None,
        *,
        known: bool,
    ) -> InsertOne[Document] | UpdateOne:
        top = (
            {}
            if latest is None
            else {"poll_id": latest[1], "receipt": latest[2], "version": latest[0]}
        )
        if not known and latest is not None:
            nested = {key.removeprefix("versions."): value for key, value in versions.items()}
            return InsertOne({"_id": ballot_id, "versions": nested, **top})
        return UpdateOne({"_id": ballot_id}, {"$set": {**versions, **top}}, upsert=True)

    async def apply_batch(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None:
        ids = list({str(e.aggregate_id) for e in envelopes})
        versions_known = {
            doc["_id"]: doc["version"]
            async for doc in db[BALLOTS].find(
                {"_id": {"$in": ids}}, {"version": 1}, session=session
            )
        }
        receipts: dict[str, tuple[int, str, str]] = {}
        history: dict[str, dict[str, Document]] = {}
        increments: dict[str, dict[str, int]] = {}
        newest: dict[str, datetime] = {}
        for envelope in envelopes:
            ballot = envelope.parse(BALLOT_EVENTS[envelope.event_type])
            poll_id = ballot.poll_id
            method, option_ids = await self._poll(poll_id, db, session)
            change = delta(method, option_ids, ballot.choices)
            if isinstance(ballot, voting.BallotRecast):
                change = difference(change, delta(method, option_ids, ballot.previous))
            increments[poll_id] = combine(increments.get(poll_id, {}), change)
            newest[poll_id] = max(newest.get(poll_id, envelope.occurred_at), envelope.occurred_at)
            ballot_id = str(envelope.aggregate_id)
            version = envelope.aggregate_version
            history.setdefault(ballot_id, {})[f"versions.{version}"] = {
                "nid": envelope.notification_id,
                "receipt": ballot.receipt,
            }
            known = max(versions_known.get(ballot_id, 0), receipts.get(ballot_id, (0, "", ""))[0])
            if version > known:
                receipts[ballot_id] = (version, poll_id, ballot.receipt)
        if history:
            # Every version with its notification id (a count may have read an earlier one
            # than the latest: docs/decisions/0003-voting.md); the latest also at the top. A
            # ballot new to the read model is inserted (cheaper than an upsert, which looks
            # for the document first); a known one is updated.
            await db[BALLOTS].bulk_write(
                [
                    self._write(
                        ballot_id,
                        versions,
                        receipts.get(ballot_id),
                        known=ballot_id in versions_known,
                    )
                    for ballot_id, versions in history.items()
                ],
                ordered=False,
                session=session,
            )
        tallies: list[UpdateOne] = []
        for poll_id, counters in increments.items():
            update: Document = {"$max": {"updated_at": newest[poll_id]}}
            if counters:
                update["$inc"] = {f"counters.{k}": v for k, v in counters.items()}
            tallies.append(UpdateOne({"_id": poll_id}, update, upsert=True))
        if tallies:
            await db[TALLIES].bulk_write(tallies, ordered=False, session=session)
