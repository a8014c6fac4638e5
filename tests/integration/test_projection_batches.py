"""A projection's batch is the same as its events one by one (issue 19 item 4).

The consumer gives each projection a whole batch (`apply_batch`, one bulk write per
collection); a Kafka batch, a catch-up page and a rebuild cut the same log differently. So for
every projection: the same events applied singly, as one batch and cut into batches at random
give identical documents; and where a read model is independent of the order and repetition of
its events (every registry read model), shuffled events with repetitions, cut into batches,
give the documents of the events in order.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from expertise.projections import PracticesProjection, ReviewsProjection, SessionsProjection
from kpi.projections import (
    REGISTRY_FACT_INDEXES,
    REGISTRY_FACTS,
    REGISTRY_FACTS_COLLECTION,
    FactsProjection,
)
from lmp_contracts import expertise, registry, voting
from lmp_contracts.base import EventContract
from lmp_kit.consumer import TrackedConsumer
from lmp_kit.envelope import Envelope
from notifications import projections as notify
from notifications.projections import DELIVERIES, FEEDS, INBOX, SUBSCRIPTIONS
from pymongo import AsyncMongoClient, InsertOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure
from registry.projections import (
    LIBRARY_CHANGES,
    PRACTICE_CHANGES,
    PROBLEM_CHANGES,
    ActivityProjection,
    CaseProjection,
    CityPracticeProjection,
    FactProjection,
    PracticeLibraryProjection,
    ProblemProjection,
    folded,
    library_fields,
    practice_progress,
    problem_fields,
)
from voting.projections import PollProjection

from .test_registry_lists import a_practice_planned_revised_reported_and_decided
from .test_registry_stage6 import a_practice_through_stage_6

START = datetime(2026, 11, 1, tzinfo=UTC)
Documents = dict[str, list[dict[str, Any]]]
Life = list[tuple[str, EventContract]]  # (service, contract) of one aggregate, in order


def aggregate_of(seed: int, index: int) -> UUID:
    """The aggregate id `interleaved` gives the life at `index`."""
    return uuid5(NAMESPACE_URL, f"batches/{seed}/{index}")


def interleaved(lives: Sequence[Life], seed: int, city: str = "sarov") -> list[Envelope]:
    """The lives' events as one log interleaves them: each life in its order, numbered."""
    rng = random.Random(seed)  # noqa: S311  # a fixed interleaving, no secret
    cursors = [0] * len(lives)
    log: list[Envelope] = []
    while any(cursor < len(life) for cursor, life in zip(cursors, lives, strict=True)):
        index = rng.choice([i for i, life in enumerate(lives) if cursors[i] < len(life)])
        service, contract = lives[index][cursors[index]]
        cursors[index] += 1
        aggregate = aggregate_of(seed, index)
        nid = len(log) + 1
        log.append(
            Envelope(
                event_id=uuid5(NAMESPACE_URL, f"event/{aggregate}/{cursors[index]}"),
                event_type=contract.event_type,
                schema_version=contract.schema_version,
                service=service,
                city_id=city,
                aggregate_id=aggregate,
                aggregate_version=cursors[index],
                notification_id=nid,
                occurred_at=START + timedelta(minutes=nid),
                traceparent="",
                payload=contract.model_dump(mode="json"),
            )
        )
    return log


def cut(events: Sequence[Envelope], rng: random.Random) -> list[list[Envelope]]:
    """The events in their order, cut into batches of random sizes (1 to 8)."""
    batches: list[list[Envelope]] = []
    rest = list(events)
    while rest:
        size = rng.randint(1, 8)
        batches.append(rest[:size])
        rest = rest[size:]
    return batches


async def applied_in(
    client: AsyncMongoClient[Any],
    name: str,
    projection: Any,
    batches: Sequence[Sequence[Envelope]],
    given: Documents | None = None,
) -> Documents:
    """The projection's documents after each batch, in a transaction of its own, as the
    consumer applies it, on the `given` documents (a database of its own, dropped
    afterwards)."""
    db = client[name]
    for collection, docs in (given or {}).items():
        if docs:
            await db[collection].insert_many(docs)
    prepare: Callable[[Any], Any] | None = getattr(projection, "prepare", None)
    if prepare is not None:
        await prepare(db)
    async with client.start_session() as session:
        for batch in batches:
            mine = [e for e in batch if e.event_type in projection.event_types]

            async def apply(s: AsyncClientSession, mine: list[Envelope] = mine) -> None:
                await projection.apply_batch(mine, db, s)

            if mine:
                await session.with_transaction(apply)
    found = {
        collection: [doc async for doc in db[collection].find({}).sort("_id", 1)]
        for collection in (*projection.collections, *(given or {}))
    }
    await client.drop_database(name)
    return found


async def same_singly_whole_and_cut(
    mongo: tuple[AsyncMongoClient[Any], str],
    make: Callable[[], Any],
    events: list[Envelope],
    seed: int,
    given: Documents | None = None,
) -> Documents:
    """The documents of the events applied singly; asserts the same from one batch and from
    three random cuttings."""
    client, name = mongo
    singly = await applied_in(client, f"{name}_s", make(), [[e] for e in events], given)
    whole = await applied_in(client, f"{name}_w", make(), [events], given)
    assert whole == singly
    rng = random.Random(seed)  # noqa: S311  # fixed cuttings, no secret
    for attempt in range(3):
        batches = cut(events, rng)
        found = await applied_in(client, f"{name}_c{attempt}", make(), batches, given)
        assert found == singly, [len(b) for b in batches]
    assert any(singly.values())
    return singly


async def same_whatever_the_order_and_batches(
    mongo: tuple[AsyncMongoClient[Any], str],
    make: Callable[[], Any],
    events: list[Envelope],
    seed: int,
) -> Documents:
    """The documents of the events applied in order; asserts the same from shuffled events
    with repetitions, cut into batches."""
    client, name = mongo
    expected = await applied_in(client, f"{name}_o", make(), [[e] for e in events])
    rng = random.Random(seed)  # noqa: S311  # fixed shuffles, no secret
    for attempt in range(5):
        shuffled = [*events, *rng.sample(events, min(5, len(events)))]
        rng.shuffle(shuffled)
        found = await applied_in(client, f"{name}_x{attempt}", make(), cut(shuffled, rng))
        assert found == expected, [e.notification_id for e in shuffled]
    return expected


# --- registry ---------------------------------------------------------------------------------


def reg(*contracts: EventContract) -> Life:
    return [("registry", c) for c in contracts]


def registry_lives() -> list[Life]:
    cell = registry.Cell(function="infrastructure", method="own_resources", sub_methods=[])
    problem_id = str(uuid5(NAMESPACE_URL, "problem/dark-yards"))
    published = START + timedelta(days=2)
    lives: list[Life] = []
    for n in range(3):
        lives += [
            reg(
                registry.ProblemRegistered(title=f"Dark yards {n}", description="no lamps"),
                registry.ProblemDescribed(description="no lamps at all"),
                registry.ProblemPrioritySet(priority="high"),
                registry.ProblemPracticeLinked(practice_id=f"practice-{n}"),
                registry.ProblemDescribed(description="no lamps, no benches"),
                registry.ProblemSolved(solved_with_external_resources=n == 1),
            ),
            reg(
                registry.PracticeRegistered(kind="own", title=f"Lit yards {n}", cells=[cell]),
                registry.PracticePassportSectionEdited(
                    section="what", content={"text": "Lamps"}, section_version=1, passport_version=1
                ),
                registry.PracticeClassified(cells=[cell]),
                registry.PracticePassportSectionEdited(
                    section="why",
                    content={"text": "Dark yards"},
                    section_version=1,
                    passport_version=2,
                ),
                registry.PracticePassportSectionEdited(
                    section="what",
                    content={"text": "Lamps, benches"},
                    section_version=2,
                    passport_version=3,
                ),
                registry.PracticePassportApproved(version=3, review_id="r", approved_by="curator"),
                registry.PracticeStatusChanged(status="prioritized", reason="", review_id=""),
                registry.PracticeProblemLinked(problem_id=problem_id),
                registry.PracticeReplicated(practice_id=f"adopted-{n}"),
                registry.PracticeReplicated(practice_id=f"adopted-{n}-again"),
            ),
            reg(
                registry.ActivityRegistered(
                    kind="meeting",
                    title=f"Meeting {n}",
                    held_on=date(2026, 11, 3 + n),
                    participant_categories=["residents"],
                ),
                registry.ActivityAnnouncementPublished(text="come", published_at=published),
                registry.ActivityPressReleasePublished(text="done", published_at=published),
                registry.ActivityReportFiled(attendees=[], photos=[]),
            ),
            reg(
                registry.ImprovementFactRecorded(
                    month="2026-11", title=f"Fact {n}", description="", evidence=["https://x"]
                ),
                registry.ImprovementFactRejected(reason="No evidence")
                if n == 1
                else registry.ImprovementFactRecognized(month="2026-11"),
            ),
            reg(
                registry.ExternalResourceCaseRecorded(
                    month="2026-11",
                    title=f"Grant {n}",
                    source_kind="grant",
                    amount="100",
                    currency="RUB",
                    partner="fund",
                    problem_id=problem_id if n else None,
                )
            ),
        ]
    return lives


REGISTRY_PROJECTIONS = (
    PracticeLibraryProjection,
    ProblemProjection,
    ActivityProjection,
    CityPracticeProjection,
    FactProjection,
    CaseProjection,
)


async def test_each_registry_projection_gives_the_same_documents_singly_whole_or_cut(mongo):
    events = interleaved(registry_lives(), seed=19)
    for make in REGISTRY_PROJECTIONS:
        await same_singly_whole_and_cut(mongo, make, events, seed=4)


async def test_every_registry_projection_ignores_order_repetition_and_batches(mongo):
    await same_whatever_the_order_and_batches(
        mongo, CityPracticeProjection, a_practice_planned_revised_reported_and_decided(), seed=17
    )
    await same_whatever_the_order_and_batches(
        mongo, CityPracticeProjection, a_practice_through_stage_6(), seed=6
    )
    events = interleaved(registry_lives(), seed=19)
    for make in (FactProjection, CaseProjection, ActivityProjection):
        await same_whatever_the_order_and_batches(mongo, make, events, seed=5)


async def test_an_aggregate_new_to_the_batch_is_inserted_as_its_upsert_would_create_it(mongo):
    """`folded` inserts the document of an aggregate that had none when the batch began (half
    an upsert's cost on SecantusDB) and upserts the others: the inserted document is the one
    the upsert of the same fields creates."""
    client, name = mongo
    events = interleaved(registry_lives(), seed=19)
    folds = (
        (PROBLEM_CHANGES, problem_fields),
        (LIBRARY_CHANGES, library_fields),
        (PRACTICE_CHANGES, practice_progress),
    )
    for n, (handlers, derived) in enumerate(folds):
        mine = [e for e in events if e.event_type in handlers]
        keys = {str(e.aggregate_id) for e in mine}
        inserts = folded(mine, {}, handlers, derived)
        upserts = folded(mine, {key: {} for key in keys}, handlers, derived)
        assert len(inserts) == len(keys)
        assert all(isinstance(write, InsertOne) for write in inserts)
        assert all(isinstance(write, UpdateOne) for write in upserts)
        inserted, upserted = client[f"{name}_fold{n}"]["i"], client[f"{name}_fold{n}"]["u"]
        await inserted.bulk_write(inserts)
        await upserted.bulk_write(upserts)
        assert await inserted.find().sort("_id").to_list() == (
            await upserted.find().sort("_id").to_list()
        )


async def test_kpi_facts_are_the_same_singly_whole_cut_shuffled_or_replayed(mongo):
    """Facts are inserted only where their event's is not there yet: a replay changes nothing."""
    events = interleaved(registry_lives(), seed=19)

    def make() -> FactsProjection:
        return FactsProjection(REGISTRY_FACTS, REGISTRY_FACTS_COLLECTION, REGISTRY_FACT_INDEXES)

    await same_singly_whole_and_cut(mongo, make, events, seed=4)
    await same_whatever_the_order_and_batches(mongo, make, events, seed=5)


async def test_kpi_facts_through_the_consumer_are_inserted_unread_and_still_once_each(mongo):
    """The consumer hands kpi's facts only the events its tracking shows were never applied
    (`apply_fresh`: no `_id $in` read first); the Kafka path and a catch-up round delivering
    the same events again are kept out by the tracking, so the facts are those of each event
    once. `apply_fresh` itself does not survive a replay: the tracking is what keeps it out."""
    client, name = mongo
    events = interleaved(registry_lives(), seed=19)

    def make() -> FactsProjection:
        return FactsProjection(REGISTRY_FACTS, REGISTRY_FACTS_COLLECTION, REGISTRY_FACT_INDEXES)

    once = (await applied_in(client, f"{name}_once", make(), [events]))[REGISTRY_FACTS_COLLECTION]
    assert once
    projection = make()
    consumer = TrackedConsumer(
        upstream="registry",
        projections=(projection,),
        client=client,
        database=name,
        upstream_target="127.0.0.1:9",  # never called: pages are handed to it
        topic="unused",
        token=lambda: "",
    )
    await consumer.prepare()
    half = len(events) // 2
    await consumer.apply_page(events[:half], "kafka")
    await consumer.apply_page(events, "catch-up", through=len(events))
    await consumer.apply_page(events[half - 3 :], "kafka")
    db = client[name]
    found = [doc async for doc in db[REGISTRY_FACTS_COLLECTION].find({}).sort("_id", 1)]
    assert found == once

    async def replayed(session: AsyncClientSession) -> None:
        mine = [e for e in events[:half] if e.event_type in projection.event_types]
        await projection.apply_fresh(mine, db, session)

    async with client.start_session() as session:
        with pytest.raises(OperationFailure):
            await session.with_transaction(replayed)
    assert [doc async for doc in db[REGISTRY_FACTS_COLLECTION].find({}).sort("_id", 1)] == once


async def test_the_library_keeps_each_sections_latest_word_and_counts_each_replication(mongo):
    events = interleaved(registry_lives(), seed=19)
    found = await same_whatever_the_order_and_batches(
        mongo, PracticeLibraryProjection, events, seed=5
    )
    library = {doc["title"]: doc for doc in found["library_practices"]}
    practice = library["Lit yards 1"]
    assert practice["replications"] == 2
    assert practice["passport"] == {"what": "Lamps, benches", "why": "Dark yards"}
    assert practice["keywords"] == ["1", "benches", "dark", "lamps", "lit", "yards"]
    assert practice["status"] == "prioritized"
    assert (practice["published"], practice["approved_passport_version"]) == (True, 3)
    assert practice["problem_ids"] == [str(uuid5(NAMESPACE_URL, "problem/dark-yards"))]
    assert practice["version"] == 10
    assert practice["updated_at"] == max(
        e.occurred_at for e in events if str(e.aggregate_id) == practice["_id"]
    )


async def test_problems_keep_the_latest_description_with_the_title_whatever_the_order(mongo):
    events = interleaved(registry_lives(), seed=19)
    found = await same_whatever_the_order_and_batches(mongo, ProblemProjection, events, seed=5)
    problem = {doc["title"]: doc for doc in found["problems"]}["Dark yards 2"]
    assert problem["description"] == "no lamps, no benches"
    assert problem["keywords"] == ["2", "benches", "dark", "lamps", "no", "yards"]
    assert (problem["priority"], problem["solved"]) == ("high", True)
    assert problem["practice_ids"] == ["practice-2"]


# --- expertise --------------------------------------------------------------------------------


def expertise_lives(seed: int) -> list[Life]:
    """A council session (life 0) and two reviews concluded at it, with their practices."""
    session_id = str(aggregate_of(seed, 0))
    people = [registry.Person(person_id="a1", name="Author")]
    lives: list[Life] = [
        [
            (
                "expertise",
                expertise.CouncilSessionScheduled(scheduled_on=date(2026, 12, 1), agenda=["p"]),
            ),
            (
                "expertise",
                expertise.CouncilSessionHeld(
                    held_on=date(2026, 12, 1),
                    agenda=["p"],
                    attendees=["e1", "e2"],
                    quorum_met=True,
                    quorum_required=2,
                    minutes="held",
                ),
            ),
        ]
    ]
    for n in range(2):
        lives.append(
            reg(
                registry.PracticeRegistered(kind="own", title=f"Lit yards {n}", authors=people),
                registry.PracticePeopleSet(authors=people, participants=[]),
                registry.PracticeStatusChanged(status="under_review", reason="", review_id=""),
            )
        )
        assessment = {"relevance": 4, "novelty": 3, "efficiency": 5, "replicability": 4}
        lives.append(
            [
                ("expertise", contract)
                for contract in (
                    expertise.ReviewOpened(
                        practice_id=f"practice-{n}",
                        practice_kind="own",
                        practice_title=f"Lit yards {n}",
                        round="primary",
                        weights={"relevance": 1},
                        interested=["a1"],
                    ),
                    expertise.ReviewExpertRecused(person_id="e3", reason="a neighbour"),
                    expertise.ReviewScored(person_id="e1", scores={"relevance": 4}),
                    expertise.ReviewAssessed(
                        person_id="wg", scores=assessment, rationale="first", revision=1
                    ),
                    expertise.ReviewScored(person_id="e2", scores={"relevance": 5}),
                    expertise.ReviewAssessed(
                        person_id="wg", scores=assessment, rationale="amended", revision=2
                    ),
                    expertise.ReviewConcluded(
                        practice_id=f"practice-{n}",
                        round="primary",
                        verdict="approved_for_vote",
                        rationale="good",
                        priority_rank=None,
                        session_id=session_id,
                        expected_results="",
                        deadlines="",
                        resource_sources="",
                        regulation_proposals="",
                    ),
                )
            ]
        )
    return lives


async def test_each_expertise_projection_gives_the_same_documents_singly_whole_or_cut(mongo):
    events = interleaved(expertise_lives(seed=23), seed=23)
    for make in (PracticesProjection, ReviewsProjection, SessionsProjection):
        await same_singly_whole_and_cut(mongo, make, events, seed=8)


# --- voting -----------------------------------------------------------------------------------


def poll_lives() -> list[Life]:
    option = voting.Option(option_id="o1", ref_kind="choice", ref_id="", label="Yes")
    result = voting.Result(option_id="o1", ref_kind="choice", ref_id="", rank=1, score="1", votes=1)
    return [
        [
            ("voting", contract)
            for contract in (
                voting.PollCreated(
                    kind="city_problem",
                    title=f"Poll {n}",
                    description="",
                    method="plurality",
                    options=[option],
                    eligible_roles=["resident"],
                    quorum=1,
                    electorate=10,
                    revote_allowed=False,
                    closes_at=None,
                    subject_practice_id="",
                ),
                voting.PollOpened(opens_at=START),
                voting.PollClosing(closing_at=START + timedelta(days=1)),
                voting.PollClosed(
                    kind="city_problem",
                    closed_at=START + timedelta(days=1),
                    results=[result],
                    ballots_counted=1,
                    distinct_voters=1,
                    turnout="0.1",
                    digest="d",
                    quorum_met=True,
                    counted_up_to=7,
                ),
            )
        ]
        for n in range(3)
    ]


async def test_the_poll_projection_gives_the_same_documents_singly_whole_or_cut(mongo):
    await same_singly_whole_and_cut(mongo, PollProjection, interleaved(poll_lives(), 29), seed=9)


# --- notifications ----------------------------------------------------------------------------


def subscriptions(*kinds: str) -> Documents:
    """The working group of sarov subscribed, before the events, to each kind by inbox and
    e-mail."""
    return {
        SUBSCRIPTIONS: [
            {
                "_id": f"sub-{kind}",
                "city_id": "sarov",
                "kind": kind,
                "person_id": "",
                "role": "working_group",
                "channels": ["inbox", "email"],
                "email": "wg@example.org",
                "webhook_url": "",
                "recipient": "wg-sarov",
                "created_by": "wg",
                "created_at": START - timedelta(days=1),
            }
            for kind in kinds
        ],
        DELIVERIES: [],
        INBOX: [],
        FEEDS: [],
    }


def notified_registry_lives() -> list[Life]:
    lives: list[Life] = [reg(registry.CityRegistered(name="Sarov", voter_target=100))]
    for n in range(3):
        lives += [
            reg(
                registry.PracticeRegistered(kind="own", title=f"Lit yards {n}"),
                registry.PracticePassportApproved(version=1, review_id="r", approved_by="c"),
                registry.PracticeStatusChanged(status="approved_for_vote", reason="", review_id=""),
            ),
            reg(
                registry.ActivityRegistered(
                    kind="meeting",
                    title=f"Meeting {n}",
                    held_on=date(2026, 11, 3 + n),
                    participant_categories=["residents"],
                ),
                registry.ActivityAnnouncementPublished(text="come", published_at=START),
                registry.ActivityPressReleasePublished(text="done", published_at=START),
                registry.ActivityReportFiled(attendees=[], photos=[]),
            ),
        ]
    return lives


def notified_expertise_lives() -> list[Life]:
    def council(*contracts: EventContract) -> Life:
        return [("expertise", c) for c in contracts]

    lives = [
        council(
            expertise.CouncilMemberAdmitted(person_id=f"e{n}", name=f"Expert {n}", cities=["*"]),
            expertise.CouncilMemberCitiesChanged(person_id=f"e{n}", cities=["sarov"]),
            *([expertise.CouncilMemberRemoved(person_id=f"e{n}", reason="left")] if n == 2 else []),
        )
        for n in range(3)
    ]
    concluded = expertise.ReviewConcluded(
        practice_id="practice-0",
        round="primary",
        verdict="approved_for_vote",
        rationale="good",
        priority_rank=None,
        session_id="s",
        expected_results="",
        deadlines="",
        resource_sources="",
        regulation_proposals="",
    )
    for n in range(2):
        opened = expertise.ReviewOpened(
            practice_id=f"practice-{n}",
            practice_kind="own",
            practice_title=f"Lit yards {n}",
            round="primary",
            weights={"relevance": 1},
            interested=["e1"],
        )
        lives.append(council(opened, concluded.model_copy(update={"practice_id": f"practice-{n}"})))
    return lives


def itself(projection: notify.NoticeProjection) -> Callable[[], notify.NoticeProjection]:
    """The module's notice projections are instances: each run applies the same one."""
    return lambda: projection


async def test_each_notice_projection_gives_the_same_facts_and_deliveries_singly_whole_or_cut(
    mongo,
):
    cases = [
        (
            notify.REGISTRY,
            notified_registry_lives(),
            ("passport_approved", "practice_approved_for_vote", "activity_registered"),
        ),
        (notify.VOTING, poll_lives(), ("poll_opened", "poll_closed")),
        (notify.EXPERTISE, notified_expertise_lives(), ("review_assigned", "review_concluded")),
    ]
    for projection, lives, kinds in cases:
        events = interleaved(lives, seed=31)
        found = await same_singly_whole_and_cut(
            mongo, itself(projection), events, seed=10, given=subscriptions(*kinds)
        )
        assert {d["kind"] for d in found[DELIVERIES]} == set(kinds)
        assert found[INBOX]
