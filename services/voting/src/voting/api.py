from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from google.protobuf.timestamp_pb2 import Timestamp
from lmp.voting.v1 import voting_pb2, voting_pb2_grpc
from lmp_kit.auth import Principal, principal
from lmp_kit.errors import InvalidArgumentError, NotYetError, PermissionDeniedError
from lmp_kit.grpc_server import Registration
from lmp_kit.idempotency import Retry
from lmp_kit.rpc import Context, timestamp
from pymongo.asynchronous.database import AsyncDatabase

from voting import views
from voting.access import SERVICE_NAME, parse_poll_id, policy
from voting.application import Voter, VotingApplication, utc_now
from voting.domain import OptionSpec, Poll, PollSpec

T = TypeVar("T")

PORTAL = "portal"
RECEIPT_LENGTH = 64
HEX_DIGITS = "0123456789abcdef"


class VotingServicer(voting_pb2_grpc.VotingServiceServicer):
    def __init__(self, app: VotingApplication, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.app = app
        self.db = db
        self.proofs = views.ReceiptProofs(db)

    async def not_yet_told(self, poll_id: UUID, read: Awaitable[T]) -> T:
        """A read model's answer, or UNAVAILABLE with a retry hint where the model is only
        behind the event store (a read right after CreatePoll or ClosePoll), never NOT_FOUND
        or FAILED_PRECONDITION for "not yet"."""
        try:
            return await read
        except views.PollNotInModelError:
            await asyncio.to_thread(self.app.get_poll, poll_id)  # NOT_FOUND if there is none
            msg = f"poll {poll_id} is not in the read model yet: retry shortly"
            raise NotYetError(msg) from None
        except views.PollNotClosedError:
            poll = await asyncio.to_thread(self.app.get_poll, poll_id)
            if poll.closed_at is None:
                raise
            msg = f"poll {poll_id} is closed; its count is still being projected: retry shortly"
            raise NotYetError(msg) from None

    async def CreatePoll(  # noqa: N802  # gRPC method name
        self, request: voting_pb2.CreatePollRequest, context: Context
    ) -> voting_pb2.Poll:
        del context
        poll = await asyncio.to_thread(
            self.app.create_poll, spec_of(request), None, Retry.of(request.city_id, request)
        )
        return poll_message(poll)

    async def GetPoll(  # noqa: N802  # gRPC method name
        self, request: voting_pb2.GetPollRequest, context: Context
    ) -> voting_pb2.Poll:
        del context
        poll = await asyncio.to_thread(self.app.get_poll, parse_poll_id(request.poll_id))
        return poll_message(poll)

    async def ListPolls(  # noqa: N802  # gRPC method name
        self, request: voting_pb2.ListPollsRequest, context: Context
    ) -> voting_pb2.ListPollsResponse:
        del context
        now = utc_now()
        found = await views.list_polls(
            self.db,
            request.city_id,
            kind=request.kind,
            status=request.status,
            now=now,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return voting_pb2.ListPollsResponse(
            polls=[poll_entry(doc, now) for doc in found.polls],
            next_page_token=found.next_token,
        )

    async def OpenPoll(  # noqa: N802  # gRPC method name
        self, request: voting_pb2.OpenPollRequest, context: Context
    ) -> voting_pb2.Poll:
        del context
        poll_id = parse_poll_id(request.poll_id)
        return poll_message(await asyncio.to_thread(self.app.open_poll, poll_id))

    async def ClosePoll(  # noqa: N802  # gRPC method name
        self, request: voting_pb2.ClosePollRequest, context: Context
    ) -> voting_pb2.Poll:
        del context
        poll_id = parse_poll_id(request.poll_id)
        return poll_message(await asyncio.to_thread(self.app.close_poll, poll_id))

    async def CastBallot(  # noqa: N802  # gRPC method name
        self, request: voting_pb2.CastBallotRequest, context: Context
    ) -> voting_pb2.CastBallotResponse:
        del context
        ballot = await self.app.cast_ballot_async(
            parse_poll_id(request.poll_id),
            voter_of(principal(), request),
            [(c.option_id, c.value) for c in request.choices],
        )
        return voting_pb2.CastBallotResponse(
            poll_id=str(ballot.poll_id), receipt=ballot.receipt, ballot_version=ballot.version
        )

    async def GetMyReceipt(  # noqa: N802  # gRPC method name
        self, request: voting_pb2.GetMyReceiptRequest, context: Context
    ) -> voting_pb2.CastBallotResponse:
        del context
        ballot = await asyncio.to_thread(
            self.app.ballot_of, parse_poll_id(request.poll_id), voter_of(principal(), request)
        )
        return voting_pb2.CastBallotResponse(
            poll_id=str(ballot.poll_id), receipt=ballot.receipt, ballot_version=ballot.version
        )

    async def GetLiveResults(  # noqa: N802  # gRPC method name
        self, request: voting_pb2.GetLiveResultsRequest, context: Context
    ) -> voting_pb2.LiveResults:
        del context
        poll_id = parse_poll_id(request.poll_id)
        live = await self.not_yet_told(poll_id, views.live_results(self.db, str(poll_id)))
        labels = {o["option_id"]: o for o in live.options}
        message = voting_pb2.LiveResults(
            poll_id=live.poll_id,
            ballots=live.ballots,
            results=[
                voting_pb2.Result(
                    option_id=p.option_id,
                    ref_kind=labels[p.option_id]["ref_kind"],
                    ref_id=labels[p.option_id]["ref_id"],
                    label=labels[p.option_id]["label"],
                    rank=p.rank,
                    score=str(p.score),
                    votes=p.votes,
                    tied=p.tied,
                )
                for p in live.placements
            ],
        )
        if live.updated_at is not None:
            message.updated_at.CopyFrom(timestamp(live.updated_at))
        return message

    async def VerifyReceipt(  # noqa: N802  # gRPC method name
        self, request: voting_pb2.VerifyReceiptRequest, context: Context
    ) -> voting_pb2.VerifyReceiptResponse:
        del context
        poll_id = parse_poll_id(request.poll_id)
        found = await self.not_yet_told(
            poll_id, self.proofs.inclusion(str(poll_id), receipt_of(request.receipt))
        )
        return voting_pb2.VerifyReceiptResponse(
            digest=found.digest,
            leaf_index=found.leaf_index,
            tree_size=found.tree_size,
            proof=found.proof,
        )


def voter_of(
    caller: Principal, request: voting_pb2.CastBallotRequest | voting_pb2.GetMyReceiptRequest
) -> Voter:
    """Who votes (or asks about their ballot): the resident a portal names, else the caller."""
    role = request.voter_role if isinstance(request, voting_pb2.CastBallotRequest) else ""
    role = role or "resident"
    if isinstance(request, voting_pb2.GetMyReceiptRequest) and PORTAL not in caller.roles:
        if request.voter_id and request.voter_id != caller.subject:
            msg = "only a portal asks about someone else's ballot"
            raise PermissionDeniedError(msg)
        return Voter(caller.subject, role)
    if PORTAL in caller.roles:
        if not request.voter_id.strip():
            msg = "a portal names the resident it authenticated (voter_id)"
            raise InvalidArgumentError(msg)
        return Voter(request.voter_id.strip(), role)
    if request.voter_id and request.voter_id != caller.subject:
        msg = "only a portal casts a ballot for someone else"
        raise PermissionDeniedError(msg)
    if role not in caller.roles:
        msg = f"the caller does not hold the role {role!r} it votes as"
        raise PermissionDeniedError(msg)
    return Voter(caller.subject, role)


def receipt_of(value: str) -> str:
    receipt = value.strip().lower()
    if len(receipt) != RECEIPT_LENGTH or not set(receipt) <= set(HEX_DIGITS):
        msg = "receipt must be the 64 hexadecimal characters CastBallot returned"
        raise InvalidArgumentError(msg)
    return receipt


def moment_of(message: voting_pb2.CreatePollRequest, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    return stamp.ToDatetime(tzinfo=UTC)


def spec_of(request: voting_pb2.CreatePollRequest) -> PollSpec:
    return PollSpec(
        city_id=request.city_id,
        kind=request.kind,
        title=request.title,
        description=request.description,
        method=request.method,
        options=[OptionSpec(o.ref_kind, o.ref_id.strip(), o.label) for o in request.options],
        eligible_roles=list(request.eligible_roles),
        quorum=request.quorum,
        electorate=request.electorate,
        revote_allowed=request.revote_allowed,
        opens_at=moment_of(request, "opens_at"),
        closes_at=moment_of(request, "closes_at"),
        subject_practice_id=request.subject_practice_id.strip(),
        request_id=request.request_id.strip(),
    )


def poll_entry(doc: dict[str, Any], now: datetime) -> voting_pb2.PollEntry:
    def at(name: str) -> Timestamp | None:
        moment = doc.get(name)
        return timestamp(moment) if moment is not None else None

    return voting_pb2.PollEntry(
        poll_id=str(doc["_id"]),
        city_id=doc.get("city_id", ""),
        kind=doc.get("kind", ""),
        title=doc.get("title", ""),
        method=doc.get("method", ""),
        status=views.status_of(doc, now),
        opens_at=at("opens_at"),
        closes_at=at("closes_at"),
        closed_at=at("closed_at"),
        ballots_counted=int(doc.get("ballots_counted", 0)),
    )


def poll_message(poll: Poll) -> voting_pb2.Poll:
    labels = {o["option_id"]: o["label"] for o in poll.options}
    message = voting_pb2.Poll(
        poll_id=str(poll.id),
        city_id=poll.city_id,
        kind=poll.kind,
        title=poll.title,
        description=poll.description,
        method=poll.method,
        options=[voting_pb2.Option(**o) for o in poll.options],
        eligible_roles=poll.eligible_roles,
        quorum=poll.quorum,
        electorate=poll.electorate,
        revote_allowed=poll.revote_allowed,
        subject_practice_id=poll.subject_practice_id,
        status=poll.status(utc_now()),
        results=[
            voting_pb2.Result(
                option_id=r["option_id"],
                ref_kind=r["ref_kind"],
                ref_id=r["ref_id"],
                label=labels[r["option_id"]],
                rank=r["rank"],
                score=r["score"],
                votes=r["votes"],
                tied=r["tied"],
            )
            for r in poll.results
        ],
        ballots_counted=poll.ballots_counted,
        turnout=poll.turnout,
        digest=poll.digest,
        quorum_met=poll.quorum_met,
        lot=poll.lot,
        version=poll.version,
    )
    for field, moment in (
        ("opens_at", poll.opens_at),
        ("closes_at", poll.closes_at),
        ("closed_at", poll.closed_at),
    ):
        if moment is not None:
            getattr(message, field).CopyFrom(timestamp(moment))
    return message


def registrations(app: VotingApplication, db: AsyncDatabase[dict[str, Any]]) -> list[Registration]:
    return [
        Registration(
            add=voting_pb2_grpc.add_VotingServiceServicer_to_server,
            servicer=VotingServicer(app, db),
            service_name=SERVICE_NAME,
            access=policy(app),
        )
    ]
