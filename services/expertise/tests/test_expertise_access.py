from __future__ import annotations

from typing import cast
from uuid import uuid4

import grpc
import pytest
from expertise.access import RULES, SERVICE_NAME, policy
from expertise.application import ExpertiseApplication, ReviewNotFoundError, SessionNotFoundError
from expertise.domain import Council, PracticeFacts
from expertise.projections import PRACTICES, Database
from expertise.views import shared_cities
from lmp.expertise.v1 import expertise_pb2
from lmp_kit.access import missing_rules
from lmp_kit.auth import Principal
from lmp_kit.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


class Practices:
    """The `practices` read model, as far as the locator reads it."""

    def __init__(self, cities: dict[str, str]) -> None:
        self.cities = cities

    async def find_one(self, query, projection=None):
        del projection
        city = self.cities.get(query["_id"])
        return None if city is None else {"_id": query["_id"], "city_id": city}


class Db:
    def __init__(self, practices: Practices) -> None:
        self.practices = practices

    def __getitem__(self, name):
        assert name == PRACTICES
        return self.practices


def db_of(cities: dict[str, str]) -> Database:
    return cast("Database", Db(Practices(cities)))


def caller(*roles, cities=("sarov",), subject="someone"):
    return Principal(subject, frozenset(roles), frozenset(cities), frozenset())


@pytest.fixture
def app():
    application = ExpertiseApplication(env=MEMORY)
    application.form_council()
    application.admit_member("chair", "Chair", ["*"])
    application.appoint_chair("chair")
    yield application
    application.close()


@pytest.fixture
def sarov(app):
    """A practice, a review and a session of Sarov, and the service's policy."""
    facts = PracticeFacts(practice_id=str(uuid4()), city_id="sarov", kind="own", title="Lights")
    review = app.open_review(facts, "primary")
    session = app.schedule_session("sarov", "2026-12-01", [facts.practice_id])
    return (
        policy(app, db_of({facts.practice_id: "sarov"})),
        facts.practice_id,
        str(review.id),
        str(session.id),
    )


def test_every_rpc_of_the_service_has_exactly_one_rule(app):
    methods = [
        m.name for m in expertise_pb2.DESCRIPTOR.services_by_name["ExpertiseService"].methods
    ]

    assert SERVICE_NAME == "lmp.expertise.v1.ExpertiseService"
    assert len(methods) == 20
    assert missing_rules(policy(app, db_of({})), methods) == []
    assert set(RULES) == set(methods)


@pytest.mark.parametrize(
    "method",
    [
        "FormCouncil",
        "AdmitMember",
        "ChangeMemberCities",
        "RemoveMember",
        "AppointChair",
        "SetQuorum",
        "SetCriterionWeights",
    ],
)
async def test_the_council_is_managed_only_by_the_programme_office_for_all_cities(app, method):
    request = getattr(expertise_pb2, f"{method}Request")()
    guard = policy(app, db_of({}))

    await guard.admit(method, request, caller("programme_office", cities=("*",)))
    with pytest.raises(PermissionDeniedError, match="needs a token for all cities"):
        await guard.admit(method, request, caller("programme_office", cities=("sarov",)))
    with pytest.raises(PermissionDeniedError, match="needs one of the roles programme_office"):
        await guard.admit(method, request, caller("expert", cities=("*",)))


@pytest.mark.parametrize(
    ("method", "make", "roles"),
    [
        (
            "OpenReview",
            lambda ids: expertise_pb2.OpenReviewRequest(practice_id=ids[0]),
            ("working_group",),
        ),
        (
            "ScorePractice",
            lambda ids: expertise_pb2.ScorePracticeRequest(review_id=ids[1]),
            ("expert",),
        ),
        (
            "ConcludeReview",
            lambda ids: expertise_pb2.ConcludeReviewRequest(review_id=ids[1], session_id=ids[2]),
            ("expert",),
        ),
        ("GetReview", lambda ids: expertise_pb2.GetReviewRequest(review_id=ids[1]), ("resident",)),
        (
            "HoldSession",
            lambda ids: expertise_pb2.HoldSessionRequest(session_id=ids[2]),
            ("expert",),
        ),
    ],
)
async def test_a_record_of_another_city_is_not_found_like_one_that_does_not_exist(
    sarov, method, make, roles
):
    guard, practice_id, review_id, session_id = sarov
    await guard.admit(method, make((practice_id, review_id, session_id)), caller(*roles))

    seversk = caller(*roles, cities=("seversk",))
    with pytest.raises(NotFoundError) as other_city:
        await guard.admit(method, make((practice_id, review_id, session_id)), seversk)
    missing = str(uuid4())
    with pytest.raises(NotFoundError) as none_at_all:
        await guard.admit(method, make((missing, missing, missing)), seversk)

    assert other_city.value.status == grpc.StatusCode.NOT_FOUND
    assert other_city.value.message.replace(practice_id, "ID").replace(review_id, "ID").replace(
        session_id, "ID"
    ) == none_at_all.value.message.replace(missing, "ID")
    assert "sarov" not in other_city.value.message


async def test_a_malformed_id_is_invalid_and_says_nothing_of_any_record(sarov):
    guard = sarov[0]

    with pytest.raises(InvalidArgumentError, match="review_id must be a UUID, not 'x'"):
        await guard.admit(
            "GetReview", expertise_pb2.GetReviewRequest(review_id="x"), caller("expert")
        )
    with pytest.raises(InvalidArgumentError, match="must be a UUID"):
        await guard.admit(
            "OpenReview",
            expertise_pb2.OpenReviewRequest(practice_id="y" * 10_000),
            caller("working_group"),
        )


async def test_the_id_of_another_kind_of_record_is_not_a_review_or_a_session(app, sarov):
    guard, _, review_id, session_id = sarov
    council_id = str(Council.create_id())

    for wrong in (council_id, session_id):
        with pytest.raises(NotFoundError):
            await guard.admit(
                "GetReview",
                expertise_pb2.GetReviewRequest(review_id=wrong),
                caller("resident", cities=("*",)),
            )
    with pytest.raises(ReviewNotFoundError):
        app.get_review(Council.create_id())
    with pytest.raises(SessionNotFoundError):
        app.get_session(Council.create_id())
    with pytest.raises(NotFoundError):
        await guard.admit(
            "HoldSession",
            expertise_pb2.HoldSessionRequest(session_id=review_id),
            caller("expert", cities=("*",)),
        )


async def test_a_city_scoped_programme_office_opens_reviews_of_its_city_only(sarov):
    guard, practice_id, _, _ = sarov
    request = expertise_pb2.OpenReviewRequest(practice_id=practice_id, round="primary")

    await guard.admit("OpenReview", request, caller("programme_office", cities=("sarov",)))
    with pytest.raises(NotFoundError):
        await guard.admit("OpenReview", request, caller("programme_office", cities=("seversk",)))
    with pytest.raises(PermissionDeniedError, match="needs one of the roles"):
        await guard.admit("OpenReview", request, caller("expert", "resident"))


@pytest.mark.parametrize(
    ("member", "token", "seen"),
    [
        (["sarov", "seversk"], {"seversk"}, ["seversk"]),
        (["*"], {"seversk"}, ["seversk"]),
        (["sarov"], {"*"}, ["sarov"]),
        (["*"], {"*"}, ["*"]),
        (["sarov"], {"seversk"}, []),
    ],
)
def test_a_queue_shows_only_the_cities_of_both_the_member_and_the_token(member, token, seen):
    assert shared_cities(member, frozenset(token)) == seen
