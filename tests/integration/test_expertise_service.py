"""Expertise on real servers: registry practices arrive over Kafka, reviews and sessions are
decided over gRPC, and the read models follow expertise's own events."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from lmp.common.v1 import events_pb2
from lmp.expertise.v1 import expertise_pb2, expertise_pb2_grpc
from lmp.registry.v1 import registry_pb2
from lmp_kit.envelope import Envelope
from lmp_kit.runtime import service_token
from lmp_kit.settings import Settings

GOOD = expertise_pb2.CriterionScores(
    effectiveness=5, resource_intensity=4, time_to_implement=3, fit_to_city_needs=4
)


@pytest.fixture
def expertise(slice_factory):
    """Expertise, and the registry's API (expertise asks it about a practice its read model
    does not hold yet); the registry's events are played by `publish_practices`."""
    made = slice_factory()
    made.start("registry", ("api",))
    made.start("expertise")
    return made


def stub(stack):
    return expertise_pb2_grpc.ExpertiseServiceStub(grpc.insecure_channel(stack.target("expertise")))


def as_person(stack, subject, *roles, cities=("sarov",)):
    token = stack.issuer.issue(subject, roles=roles, cities=cities)
    return (("authorization", f"Bearer {token}"),)


def office(stack):
    return as_person(stack, "office", "programme_office", cities=("*",))


def expertise_events(stack):
    settings = Settings.from_env("expertise", stack.env)
    response = stack.event_log("expertise").ReadEvents(
        events_pb2.ReadEventsRequest(after=0, limit=1000),
        metadata=(("authorization", f"Bearer {service_token(settings)()}"),),
        timeout=10,
    )
    return [(e.event_type, json.loads(e.payload_json)) for e in response.events]


def publish_practices(stack, practices, city="sarov", first=1):
    """Play the registry's part: its Practice.Registered events on its topic, numbered from
    `first` (the registry's notification ids: a number seen before is a duplicate)."""
    settings = Settings.from_env("registry", stack.env)

    async def send():
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
        await producer.start()
        try:
            for number, (practice_id, kind, authors) in enumerate(practices, start=first):
                envelope = Envelope(
                    event_id=uuid.uuid4(),
                    event_type="Practice.Registered",
                    schema_version=1,
                    service="registry",
                    city_id=city,
                    aggregate_id=uuid.UUID(practice_id),
                    aggregate_version=1,
                    notification_id=number,
                    occurred_at=datetime.now(UTC),
                    traceparent="",
                    payload={
                        "kind": kind,
                        "title": f"Practice {number}",
                        "authors": [{"person_id": a, "name": a.title()} for a in authors],
                        "participants": [],
                        "problem_ids": [],
                        "source_practice_id": None,
                    },
                )
                await producer.send_and_wait(
                    settings.topic, value=envelope.to_json(), key=city.encode()
                )
        finally:
            await producer.stop()

    asyncio.run(send())


def eventually(call, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except (grpc.RpcError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def refused(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value


def form_council(api, stack):
    api.FormCouncil(expertise_pb2.FormCouncilRequest(), metadata=office(stack), timeout=10)
    for person_id, cities in [
        ("chair", ["*"]),
        ("anna", ["sarov"]),
        ("boris", ["sarov"]),
        ("vera", ["sarov", "seversk"]),
    ]:
        api.AdmitMember(
            expertise_pb2.AdmitMemberRequest(
                member=expertise_pb2.Member(person_id=person_id, name=person_id, cities=cities)
            ),
            metadata=office(stack),
            timeout=10,
        )
    return api.AppointChair(
        expertise_pb2.AppointChairRequest(person_id="chair"), metadata=office(stack), timeout=10
    )


def test_a_council_reviews_practices_from_the_registry_and_decides_at_a_session(expertise):
    stack, api = expertise, stub(expertise)
    council = form_council(api, stack)
    assert (council.chair_id, council.quorum_required, len(council.members)) == ("chair", 3, 4)
    practices = [(str(uuid.uuid4()), "own", authors) for authors in (["anna"], [], [])]
    publish_practices(stack, practices)
    working_group = as_person(stack, "wg", "working_group")

    reviews = [
        eventually(
            lambda pid=pid: api.OpenReview(
                expertise_pb2.OpenReviewRequest(practice_id=pid, round="primary"),
                metadata=working_group,
                timeout=10,
            )
        )
        for pid, _, _ in practices
    ]
    assert [r.person_id for r in reviews[0].recusals] == ["anna"]
    assert not reviews[1].recusals
    chair = as_person(stack, "chair", "expert")
    session = api.ScheduleSession(
        expertise_pb2.ScheduleSessionRequest(
            city_id="sarov", scheduled_on="2026-12-01", agenda=[p for p, _, _ in practices]
        ),
        metadata=chair,
        timeout=10,
    )
    held = api.HoldSession(
        expertise_pb2.HoldSessionRequest(
            session_id=session.session_id,
            held_on="2026-12-01",
            attendees=["chair", "boris", "vera"],
            minutes="Three own practices reviewed",
        ),
        metadata=chair,
        timeout=10,
    )
    assert (held.status, held.quorum_met, held.quorum_required) == ("held", True, 3)
    for review in reviews:
        api.ConcludeReview(
            expertise_pb2.ConcludeReviewRequest(
                review_id=review.review_id,
                session_id=session.session_id,
                verdict="approved_for_passport",
                rationale="Realized, measurable, replicable",
            ),
            metadata=chair,
            timeout=10,
        )

    closed = api.CloseApprovedList(
        expertise_pb2.CloseApprovedListRequest(city_id="sarov", kind="for_passport"),
        metadata=chair,
        timeout=10,
    )

    assert closed.closed
    assert [e.practice_id for e in closed.entries] == [p for p, _, _ in practices]
    events = expertise_events(stack)
    held_events = [p for t, p in events if t == "CouncilSession.Held"]
    assert held_events[0]["held_on"] == "2026-12-01"
    assert held_events[0]["attendees"] == ["boris", "chair", "vera"]
    assert held_events[0]["quorum_met"] is True
    assert sorted(held_events[0]["agenda"]) == sorted(p for p, _, _ in practices)
    concluded = [p for t, p in events if t == "Review.Concluded"]
    assert {
        (c["practice_id"], c["round"], c["verdict"], c["priority_rank"], c["aggregate_score"])
        for c in concluded
    } == {(p, "primary", "approved_for_passport", None, None) for p, _, _ in practices}

    def minutes():
        listed = api.ListSessions(
            expertise_pb2.ListSessionsRequest(city_id="sarov"), metadata=chair, timeout=10
        )
        assert len(listed.sessions) == 1
        assert len(listed.sessions[0].decisions) == 3
        return listed.sessions[0]

    in_minutes = eventually(minutes)
    assert in_minutes.minutes == "Three own practices reviewed"
    assert {d.verdict for d in in_minutes.decisions} == {"approved_for_passport"}


def test_experts_score_a_secondary_review_and_bad_scores_record_nothing(expertise):
    stack, api = expertise, stub(expertise)
    form_council(api, stack)
    practice_id = str(uuid.uuid4())
    publish_practices(stack, [(practice_id, "initiative", ["anna"])])
    review = eventually(
        lambda: api.OpenReview(
            expertise_pb2.OpenReviewRequest(practice_id=practice_id, round="secondary"),
            metadata=office(stack),
            timeout=10,
        )
    )
    boris = as_person(stack, "boris", "expert")

    def queue_of(metadata):
        return [
            r.review_id
            for r in api.ListPendingReviews(
                expertise_pb2.ListPendingReviewsRequest(), metadata=metadata, timeout=10
            ).reviews
        ]

    assert eventually(lambda: assert_listed(queue_of(boris), review.review_id))
    assert queue_of(as_person(stack, "anna", "expert")) == []
    scored = api.ScorePractice(
        expertise_pb2.ScorePracticeRequest(review_id=review.review_id, scores=GOOD),
        metadata=boris,
        timeout=10,
    )
    assert scored.aggregate.aggregate == "4.00"
    before = stack.head("expertise")

    cases = {
        "second score": (boris, GOOD, grpc.StatusCode.ALREADY_EXISTS, "already scored"),
        "out of range": (
            as_person(stack, "vera", "expert"),
            expertise_pb2.CriterionScores(
                effectiveness=6, resource_intensity=4, time_to_implement=3, fit_to_city_needs=4
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "effectiveness must be an integer from 1 to 5, not 6",
        ),
        "recused author": (
            as_person(stack, "anna", "expert"),
            GOOD,
            grpc.StatusCode.PERMISSION_DENIED,
            "recused",
        ),
        "not a member": (
            as_person(stack, "stranger", "expert"),
            GOOD,
            grpc.StatusCode.PERMISSION_DENIED,
            "not a member of the expert council",
        ),
        "not an expert": (
            as_person(stack, "boris", "resident"),
            GOOD,
            grpc.StatusCode.PERMISSION_DENIED,
            "needs one of the roles expert",
        ),
    }
    for name, (metadata, scores, code, message) in cases.items():
        error = refused(
            lambda metadata=metadata, scores=scores: api.ScorePractice(
                expertise_pb2.ScorePracticeRequest(review_id=review.review_id, scores=scores),
                metadata=metadata,
                timeout=10,
            )
        )
        assert (name, error.code()) == (name, code)
        assert message in str(error.details()), (name, error.details())
    assert stack.head("expertise") == before
    shown = api.GetReview(
        expertise_pb2.GetReviewRequest(review_id=review.review_id), metadata=boris, timeout=10
    )
    assert [(s.person_id, s.weighted) for s in shown.scores] == [("boris", "4.00")]
    assert eventually(lambda: assert_listed(queue_of(boris), review.review_id, present=False))


def assert_listed(ids, review_id, *, present=True):
    assert (review_id in ids) == present, ids
    return True


def test_a_review_is_not_concluded_at_a_session_without_quorum(expertise):
    stack, api = expertise, stub(expertise)
    form_council(api, stack)
    practice_id = str(uuid.uuid4())
    publish_practices(stack, [(practice_id, "own", [])])
    review = eventually(
        lambda: api.OpenReview(
            expertise_pb2.OpenReviewRequest(practice_id=practice_id, round="primary"),
            metadata=office(stack),
            timeout=10,
        )
    )
    chair = as_person(stack, "chair", "expert")
    session = api.ScheduleSession(
        expertise_pb2.ScheduleSessionRequest(
            city_id="sarov", scheduled_on="2026-12-02", agenda=[practice_id]
        ),
        metadata=office(stack),
        timeout=10,
    )
    api.HoldSession(
        expertise_pb2.HoldSessionRequest(
            session_id=session.session_id, held_on="2026-12-02", attendees=["chair", "anna"]
        ),
        metadata=chair,
        timeout=10,
    )
    before = stack.head("expertise")
    request = expertise_pb2.ConcludeReviewRequest(
        review_id=review.review_id,
        session_id=session.session_id,
        verdict="approved_for_vote",
        rationale="Good",
    )

    without_quorum = refused(lambda: api.ConcludeReview(request, metadata=chair, timeout=10))
    not_chair = refused(
        lambda: api.ConcludeReview(request, metadata=as_person(stack, "anna", "expert"), timeout=10)
    )
    short_list = refused(
        lambda: api.CloseApprovedList(
            expertise_pb2.CloseApprovedListRequest(city_id="sarov", kind="for_passport"),
            metadata=chair,
            timeout=10,
        )
    )

    assert without_quorum.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "had no quorum (2 of 3 required members present)" in str(without_quorum.details())
    assert not_chair.code() == grpc.StatusCode.PERMISSION_DENIED
    assert short_list.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "requires at least 3 own realized practices" in str(short_list.details())
    assert stack.head("expertise") == before


def test_only_the_programme_office_manages_the_council_and_unknown_practices_are_not_found(
    expertise,
):
    stack, api = expertise, stub(expertise)
    form_council(api, stack)
    before = stack.head("expertise")

    as_expert = refused(
        lambda: api.AdmitMember(
            expertise_pb2.AdmitMemberRequest(
                member=expertise_pb2.Member(person_id="x", name="X", cities=["sarov"])
            ),
            metadata=as_person(stack, "chair", "expert"),
            timeout=10,
        )
    )
    unknown = refused(
        lambda: api.OpenReview(
            expertise_pb2.OpenReviewRequest(practice_id=str(uuid.uuid4()), round="primary"),
            metadata=office(stack),
            timeout=10,
        )
    )
    bad_round = refused(
        lambda: api.OpenReview(
            expertise_pb2.OpenReviewRequest(practice_id="not-a-uuid", round="primary"),
            metadata=office(stack),
            timeout=10,
        )
    )

    assert as_expert.code() == grpc.StatusCode.PERMISSION_DENIED
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
    assert "no practice" in str(unknown.details())
    assert bad_round.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert stack.head("expertise") == before


def test_an_expert_queue_shows_only_reviews_of_the_token_cities_with_nobody_elses_scores(
    expertise,
):
    """Issue 15: an expert of city B listed city A's reviews with other experts' scores while
    GetReview of the same review was refused."""
    stack, api = expertise, stub(expertise)
    form_council(api, stack)
    practice_id = str(uuid.uuid4())
    publish_practices(stack, [(practice_id, "initiative", [])])
    review = eventually(
        lambda: api.OpenReview(
            expertise_pb2.OpenReviewRequest(practice_id=practice_id, round="secondary"),
            metadata=office(stack),
            timeout=10,
        )
    )
    api.ScorePractice(
        expertise_pb2.ScorePracticeRequest(review_id=review.review_id, scores=GOOD),
        metadata=as_person(stack, "boris", "expert"),
        timeout=10,
    )

    def queue(metadata, person_id=""):
        return api.ListPendingReviews(
            expertise_pb2.ListPendingReviewsRequest(person_id=person_id),
            metadata=metadata,
            timeout=10,
        ).reviews

    # control: the same members with tokens for Sarov see it (once the read model has it)
    for subject in ("chair", "vera"):
        eventually(
            lambda subject=subject: assert_listed(
                [r.review_id for r in queue(as_person(stack, subject, "expert"))],
                review.review_id,
            )
        )
    # the chair reviews every city and Vera Sarov and Seversk, but these tokens are Seversk's
    for subject in ("chair", "vera"):
        seversk = as_person(stack, subject, "expert", cities=("seversk",))
        assert list(queue(seversk)) == [], subject
        hidden = refused(
            lambda seversk=seversk: api.GetReview(
                expertise_pb2.GetReviewRequest(review_id=review.review_id),
                metadata=seversk,
                timeout=10,
            )
        )
        assert hidden.code() == grpc.StatusCode.NOT_FOUND
    seversk_office = as_person(stack, "office-b", "programme_office", cities=("seversk",))
    assert list(queue(seversk_office, person_id="vera")) == []
    assert [r.review_id for r in queue(office(stack), person_id="vera")] == [review.review_id]
    others = refused(lambda: queue(as_person(stack, "boris", "expert"), person_id="vera"))
    assert others.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_session_agenda_takes_only_practices_of_the_session_city(expertise):
    """Issue 15: a session of city B accepted city A's practices on its agenda."""
    stack, api = expertise, stub(expertise)
    form_council(api, stack)
    sarov_practice, seversk_practice = str(uuid.uuid4()), str(uuid.uuid4())
    publish_practices(stack, [(sarov_practice, "own", [])])
    publish_practices(stack, [(seversk_practice, "own", [])], city="seversk", first=2)
    for practice_id in (sarov_practice, seversk_practice):  # both known to expertise
        eventually(
            lambda practice_id=practice_id: api.OpenReview(
                expertise_pb2.OpenReviewRequest(practice_id=practice_id, round="primary"),
                metadata=office(stack),
                timeout=10,
            )
        )
    chair = as_person(stack, "chair", "expert", cities=("*",))
    before = stack.head("expertise")

    def schedule(agenda, on="2026-12-03"):
        return api.ScheduleSession(
            expertise_pb2.ScheduleSessionRequest(city_id="seversk", scheduled_on=on, agenda=agenda),
            metadata=chair,
            timeout=10,
        )

    foreign = refused(lambda: schedule([seversk_practice, sarov_practice]))
    missing_id = str(uuid.uuid4())
    missing = refused(lambda: schedule([seversk_practice, missing_id]))

    assert foreign.code() == missing.code() == grpc.StatusCode.NOT_FOUND
    assert sarov_practice in str(foreign.details())
    assert seversk_practice not in str(foreign.details())
    assert str(foreign.details()).replace(sarov_practice, "ID") == str(missing.details()).replace(
        missing_id, "ID"
    )
    assert "sarov" not in str(foreign.details())
    assert "Practice" not in str(foreign.details())
    assert stack.head("expertise") == before
    session = schedule([seversk_practice])
    assert (session.city_id, list(session.agenda)) == ("seversk", [seversk_practice])


def test_a_review_of_a_practice_registered_a_moment_ago_is_not_yet_not_not_found(expertise):
    """Right after RegisterPractice expertise may not have the practice from the registry's
    events yet: OpenReview answers UNAVAILABLE with a retry hint, not NOT_FOUND. Here the
    registry runs without its relay, so the practice never arrives."""
    stack, api = expertise, stub(expertise)
    form_council(api, stack)
    stack.register_city("sarov")
    practice = stack.registry().RegisterPractice(
        registry_pb2.RegisterPracticeRequest(
            city_id="sarov",
            kind="own",
            title="Courtyard lighting",
            authors=[registry_pb2.Person(person_id="anna", name="Анна")],
            problem_ids=[stack.problem()],
        ),
        metadata=stack.metadata("working_group", cities=("sarov",)),
        timeout=10,
    )
    before = stack.head("expertise")

    def open_review(practice_id, metadata):
        return refused(
            lambda: api.OpenReview(
                expertise_pb2.OpenReviewRequest(practice_id=practice_id, round="primary"),
                metadata=metadata,
                timeout=10,
            )
        )

    not_yet = open_review(practice.practice_id, office(stack))
    elsewhere = open_review(
        practice.practice_id, as_person(stack, "office-2", "programme_office", cities=("seversk",))
    )
    unknown = open_review(str(uuid.uuid4()), office(stack))

    assert not_yet.code() == grpc.StatusCode.UNAVAILABLE
    assert "has not received it from the registry yet: retry shortly" in str(not_yet.details())
    trailers = dict(not_yet.trailing_metadata() or ())
    assert trailers.get("grpc-retry-pushback-ms") == "500"
    # another city's token learns nothing more than about a practice that does not exist
    assert elsewhere.code() == unknown.code() == grpc.StatusCode.NOT_FOUND
    assert stack.head("expertise") == before


def test_get_council_before_any_council_was_formed_is_not_found(expertise):
    stack, api = expertise, stub(expertise)

    missing = refused(
        lambda: api.GetCouncil(
            expertise_pb2.GetCouncilRequest(), metadata=office(stack), timeout=10
        )
    )
    queue = api.ListPendingReviews(
        expertise_pb2.ListPendingReviewsRequest(),
        metadata=as_person(stack, "anna", "expert"),
        timeout=10,
    )

    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert missing.details() == "no Expert Council has been formed yet: FormCouncil first"
    assert list(queue.reviews) == []
    assert form_council(api, stack).chair_id == "chair"


def every_page(call, request, size):
    """Every item of a list, a page of `size` at a time."""
    items, token = [], ""
    while True:
        request.page_size, request.page_token = size, token
        answer = call(request)
        items += list(answer.reviews if hasattr(answer, "reviews") else answer.sessions)
        token = answer.next_page_token
        if not token:
            return items


def in_ms(review):
    moments = [review.opened_at]
    if review.HasField("decision"):
        moments.append(review.decision.concluded_at)
    for moment in moments:
        moment.nanos -= moment.nanos % 1_000_000
    return review


def test_a_citys_reviews_and_sessions_are_listed_latest_first_with_each_filter(expertise):
    stack, api = expertise, stub(expertise)
    form_council(api, stack)
    sarov = [(str(uuid.uuid4()), "own", authors) for authors in (["anna"], [], [])]
    elsewhere = str(uuid.uuid4())
    publish_practices(stack, sarov)
    publish_practices(stack, [(elsewhere, "own", [])], city="seversk", first=len(sarov) + 1)
    ids = [p for p, _, _ in sarov]

    def open_review(practice_id, round_="primary"):
        return eventually(
            lambda: api.OpenReview(
                expertise_pb2.OpenReviewRequest(practice_id=practice_id, round=round_),
                metadata=office(stack),
                timeout=10,
            )
        ).review_id

    primary = [open_review(p) for p in ids]
    open_review(elsewhere)
    secondary = open_review(ids[2], "secondary")
    api.ScorePractice(
        expertise_pb2.ScorePracticeRequest(review_id=secondary, scores=GOOD),
        metadata=as_person(stack, "boris", "expert"),
        timeout=10,
    )
    chair = as_person(stack, "chair", "expert")
    held = api.ScheduleSession(
        expertise_pb2.ScheduleSessionRequest(
            city_id="sarov", scheduled_on="2026-12-01", agenda=ids
        ),
        metadata=chair,
        timeout=10,
    ).session_id
    api.HoldSession(
        expertise_pb2.HoldSessionRequest(
            session_id=held, held_on="2026-12-01", attendees=["chair", "boris", "vera"]
        ),
        metadata=chair,
        timeout=10,
    )
    for review_id, verdict in ((primary[0], "approved_for_vote"), (primary[1], "rejected")):
        api.ConcludeReview(
            expertise_pb2.ConcludeReviewRequest(
                review_id=review_id, session_id=held, verdict=verdict, rationale="Considered"
            ),
            metadata=chair,
            timeout=10,
        )
    scheduled = api.ScheduleSession(
        expertise_pb2.ScheduleSessionRequest(
            city_id="sarov", scheduled_on="2027-01-15", agenda=[ids[2]]
        ),
        metadata=chair,
        timeout=10,
    ).session_id
    resident = as_person(stack, "resident-1", "resident")

    def reviews(size=2, **filters):
        request = expertise_pb2.ListReviewsRequest(city_id="sarov", **filters)
        return every_page(
            lambda r: api.ListReviews(r, metadata=resident, timeout=10), request, size
        )

    def sessions(size=1, **filters):
        request = expertise_pb2.ListSessionsRequest(city_id="sarov", **filters)
        return every_page(
            lambda r: api.ListSessions(r, metadata=resident, timeout=10), request, size
        )

    def caught_up():
        listed = reviews()
        assert [r.status for r in listed] == ["open", "open", "concluded", "concluded"]
        assert len(listed[0].scores) == 1
        assert [len(s.decisions) for s in sessions()] == [0, 2]
        return listed

    listed = eventually(caught_up)

    assert [r.review_id for r in listed] == [secondary, primary[2], primary[1], primary[0]]
    for review in listed:  # the read model's review is GetReview's (MongoDB keeps ms)
        assert review == in_ms(
            api.GetReview(
                expertise_pb2.GetReviewRequest(review_id=review.review_id),
                metadata=resident,
                timeout=10,
            )
        )
    assert [r.review_id for r in reviews(status="open")] == [secondary, primary[2]]
    assert [r.review_id for r in reviews(status="concluded")] == [primary[1], primary[0]]
    assert [r.review_id for r in reviews(verdict="rejected")] == [primary[1]]
    assert [r.review_id for r in reviews(practice_id=ids[2])] == [secondary, primary[2]]
    assert [r.review_id for r in reviews(round="secondary", size=50)] == [secondary]
    assert [r.review_id for r in reviews(status="open", round="primary")] == [primary[2]]
    assert [s.session_id for s in sessions()] == [scheduled, held]
    assert [s.session_id for s in sessions(status="held")] == [held]
    assert [s.session_id for s in sessions(status="scheduled")] == [scheduled]
    assert [s.session_id for s in sessions(month="2027-01")] == [scheduled]
    assert sessions(month="2026-11") == []


def test_list_reviews_and_sessions_refuse_another_citys_token_and_bad_filters(expertise):
    stack, api = expertise, stub(expertise)
    resident = as_person(stack, "resident-1", "resident")
    elsewhere = as_person(stack, "resident-2", "resident", cities=("seversk",))
    bad_reviews = [
        expertise_pb2.ListReviewsRequest(),
        expertise_pb2.ListReviewsRequest(city_id="sarov", status="finished"),
        expertise_pb2.ListReviewsRequest(city_id="sarov", round="tertiary"),
        expertise_pb2.ListReviewsRequest(city_id="sarov", verdict="maybe"),
        expertise_pb2.ListReviewsRequest(city_id="sarov", practice_id="not-a-uuid"),
        expertise_pb2.ListReviewsRequest(city_id="sarov", page_token="not-one-we-gave"),  # noqa: S106  # not a password
        expertise_pb2.ListReviewsRequest(city_id="sarov", page_size=201),
    ]
    bad_sessions = [
        expertise_pb2.ListSessionsRequest(),
        expertise_pb2.ListSessionsRequest(city_id="sarov", status="cancelled"),
        expertise_pb2.ListSessionsRequest(city_id="sarov", month="2026-13"),
        expertise_pb2.ListSessionsRequest(city_id="sarov", month="December"),
        expertise_pb2.ListSessionsRequest(city_id="sarov", page_token="bm90LW91cnM"),  # noqa: S106  # not a password
    ]

    wrong_city = [
        refused(
            lambda: api.ListReviews(
                expertise_pb2.ListReviewsRequest(city_id="sarov"), metadata=elsewhere, timeout=10
            )
        ),
        refused(
            lambda: api.ListSessions(
                expertise_pb2.ListSessionsRequest(city_id="sarov"), metadata=elsewhere, timeout=10
            )
        ),
    ]
    invalid = [
        refused(lambda r=r: api.ListReviews(r, metadata=resident, timeout=10)) for r in bad_reviews
    ] + [
        refused(lambda r=r: api.ListSessions(r, metadata=resident, timeout=10))
        for r in bad_sessions
    ]

    assert {e.code() for e in wrong_city} == {grpc.StatusCode.PERMISSION_DENIED}
    assert [e.code() for e in invalid] == [grpc.StatusCode.INVALID_ARGUMENT] * len(invalid)
    named = ["city_id", "status", "round", "verdict", "practice_id", "page_token", "page_size"]
    named += ["city_id", "status", "month", "month", "page_token"]
    assert [n in str(e.details()) for n, e in zip(named, invalid, strict=True)] == [True] * len(
        invalid
    )
