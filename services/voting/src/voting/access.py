"""Who may call what in the voting service (lmp_kit.access; the guard enforces it).

Every RPC but CreatePoll names a poll: its city is the poll's, found in the event store (a poll
just created is found) and kept by the policy, so a ballot pays a dictionary lookup for it.
Who votes in a poll (its eligible roles) and as whom (a person as themselves, a portal for the
resident it authenticated) are the poll's and the ballot's rules (docs/decisions/0003-voting.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from uuid import UUID

from lmp.voting.v1 import voting_pb2
from lmp_kit.access import ANY_ROLE, AccessPolicy, InRequest, OfRecord, Rule, rule
from lmp_kit.rpc import parse_id

from voting.application import PollNotFoundError, VotingApplication
from voting.domain.polls import VOTER_ROLES

SERVICE_NAME = voting_pb2.DESCRIPTOR.services_by_name["VotingService"].full_name
POLL = "poll"
ORGANIZERS = ("working_group", "administration", "programme_office")
THE_POLL = OfRecord(POLL, "poll_id")

RULES: Mapping[str, Rule] = {
    "CreatePoll": rule(ORGANIZERS, InRequest("city_id")),
    "GetPoll": rule(ANY_ROLE, THE_POLL),
    "ListPolls": rule(ANY_ROLE, InRequest("city_id")),
    "OpenPoll": rule(ORGANIZERS, THE_POLL),
    "ClosePoll": rule(ORGANIZERS, THE_POLL),
    "CastBallot": rule(
        (*VOTER_ROLES, "portal"),
        THE_POLL,
        note=(
            "a `portal` casts for a resident it authenticated (`voter_id`, `voter_role`); a "
            "person votes as themselves in a role their token holds; the poll's "
            "`eligible_roles` decide who votes"
        ),
    ),
    "GetMyReceipt": rule(
        (*VOTER_ROLES, "portal"),
        THE_POLL,
        note=(
            "the caller's own ballot, or for a `portal` the resident it names (`voter_id`): "
            "its receipt, never its choices"
        ),
    ),
    "GetLiveResults": rule(ANY_ROLE, THE_POLL),
    "VerifyReceipt": rule(ANY_ROLE, THE_POLL),
}


def parse_poll_id(value: str) -> UUID:
    return parse_id("poll_id", value)


def policy(app: VotingApplication) -> AccessPolicy:
    """The table, finding a poll's city in the event store (the policy keeps what it found)."""

    async def locate(kind: str, record_id: str) -> str | None:
        del kind  # polls are the only records named
        poll_id = parse_poll_id(record_id)
        try:
            poll = await asyncio.to_thread(app.get_poll, poll_id)
        except PollNotFoundError:
            return None
        return poll.city_id

    return AccessPolicy(SERVICE_NAME, RULES, locate)
