from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import grpc
import pytest
from lmp.voting.v1 import voting_pb2
from lmp_kit.access import missing_rules
from lmp_kit.auth import Principal
from lmp_kit.errors import DomainError
from lmp_kit.registry_client import RegisteredItem
from voting.access import RULES, SERVICE_NAME, policy
from voting.application import VotingApplication
from voting.domain import OptionSpec, Poll, PollSpec
from voting.keys import PseudonymKeys

NOW = datetime.now(UTC)
RECEIPT = "0" * 64


class Registry:
    def problem(self, problem_id: str) -> RegisteredItem | None:
        del problem_id
        return RegisteredItem(city_id="sarov", title="A problem")

    def practice(self, practice_id: str) -> RegisteredItem | None:
        del practice_id
        return None


@pytest.fixture
def app():
    application = VotingApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        keys=PseudonymKeys(master=b"k" * 32),
        registry=Registry(),
    )
    yield application
    application.close()


@pytest.fixture
def poll_id(app) -> str:
    spec = PollSpec(
        city_id="sarov",
        kind="city_problem",
        title="Which problem first?",
        description="",
        method="single_choice",
        options=[OptionSpec("problem", str(uuid4()), "") for _ in range(2)],
        opens_at=NOW - timedelta(hours=1),
        closes_at=NOW + timedelta(days=1),
    )
    return str(app.create_poll(spec).id)


def caller(*roles: str, cities=("sarov",)) -> Principal:
    return Principal("someone", frozenset(roles), frozenset(cities), frozenset())


def naming(method: str, poll_id: str):
    return {
        "GetPoll": voting_pb2.GetPollRequest(poll_id=poll_id),
        "OpenPoll": voting_pb2.OpenPollRequest(poll_id=poll_id),
        "ClosePoll": voting_pb2.ClosePollRequest(poll_id=poll_id),
        "CastBallot": voting_pb2.CastBallotRequest(poll_id=poll_id),
        "GetLiveResults": voting_pb2.GetLiveResultsRequest(poll_id=poll_id),
        "VerifyReceipt": voting_pb2.VerifyReceiptRequest(poll_id=poll_id, receipt=RECEIPT),
    }[method]


NAMING_A_POLL = (
    "GetPoll",
    "OpenPoll",
    "ClosePoll",
    "CastBallot",
    "GetLiveResults",
    "VerifyReceipt",
)


async def refusal(app, method: str, request, who: Principal) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(DomainError) as refused:
        await policy(app).admit(method, request, who)
    return refused.value.status, refused.value.message


def test_every_rpc_of_the_voting_service_has_a_rule(app):
    methods = voting_pb2.DESCRIPTOR.services_by_name["VotingService"].methods_by_name

    assert SERVICE_NAME == "lmp.voting.v1.VotingService"
    assert missing_rules(policy(app), methods) == []
    assert RULES["CastBallot"].note  # a portal votes for the resident it authenticated


@pytest.mark.parametrize("method", NAMING_A_POLL)
async def test_a_poll_of_another_city_is_not_found_like_a_poll_that_does_not_exist(
    app, poll_id, method
):
    elsewhere = caller("resident", "working_group", "portal", cities=("seversk",))
    unknown = str(uuid4())

    status, message = await refusal(app, method, naming(method, poll_id), elsewhere)
    none_status, none_message = await refusal(app, method, naming(method, unknown), elsewhere)

    assert status == none_status == grpc.StatusCode.NOT_FOUND
    assert message.replace(poll_id, "ID") == none_message.replace(unknown, "ID")


@pytest.mark.parametrize("method", NAMING_A_POLL)
async def test_a_malformed_poll_id_is_an_invalid_argument(app, method):
    voter_and_organizer = caller("resident", "working_group")
    status, message = await refusal(app, method, naming(method, "poll-1"), voter_and_organizer)

    assert status == grpc.StatusCode.INVALID_ARGUMENT
    assert message == "poll_id must be a UUID, not 'poll-1'"


async def test_only_organizers_of_the_city_create_open_and_close_polls(app, poll_id):
    create = voting_pb2.CreatePollRequest(city_id="sarov")
    for method, request in [
        ("CreatePoll", create),
        ("OpenPoll", naming("OpenPoll", poll_id)),
        ("ClosePoll", naming("ClosePoll", poll_id)),
    ]:
        status, message = await refusal(app, method, request, caller("resident", "portal"))
        assert status == grpc.StatusCode.PERMISSION_DENIED
        assert message.startswith(f"{method} needs one of the roles administration, ")
        for organizer in ("working_group", "administration", "programme_office"):
            await policy(app).admit(method, request, caller(organizer))
    status, _ = await refusal(
        app, "CreatePoll", create, caller("working_group", cities=("seversk",))
    )
    assert status == grpc.StatusCode.PERMISSION_DENIED


async def test_voters_and_portals_cast_ballots_and_other_roles_do_not(app, poll_id):
    request = naming("CastBallot", poll_id)
    for role in ("resident", "initiative_group", "enterprise", "portal"):
        await policy(app).admit("CastBallot", request, caller(role))
    for role in ("expert", "curator", "service"):
        status, _ = await refusal(app, "CastBallot", request, caller(role))
        assert status == grpc.StatusCode.PERMISSION_DENIED


async def test_a_polls_city_is_read_once_then_kept(
    app: VotingApplication, poll_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[UUID] = []
    get_poll = app.get_poll

    def counted(poll: UUID) -> Poll:
        reads.append(poll)
        return get_poll(poll)

    monkeypatch.setattr(app, "get_poll", counted)
    admitted = policy(app)

    for _ in range(3):
        await admitted.admit("CastBallot", naming("CastBallot", poll_id), caller("resident"))

    assert len(reads) == 1
