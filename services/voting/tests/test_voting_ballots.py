from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import grpc
import pytest
from eventsourcing.persistence import StoredEvent
from lmp.voting.v1 import voting_pb2
from lmp_kit.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    PermissionDeniedError,
)
from lmp_kit.idempotency import Retry
from lmp_kit.registry_client import RegisteredItem
from voting.application import NotCountedError, Voter, VotingApplication
from voting.domain import Ballot, OptionSpec, PollSpec
from voting.domain.ballots import pseudonym_of
from voting.domain.merkle import inclusion_proof, merkle_root, verify_inclusion
from voting.keys import PseudonymKeys
from voting.seats import ElectorateReachedError

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
RESIDENT = Voter("resident-42", "resident")


class FakeRegistry:
    """The registry as the voting service sees it over gRPC: ids to (city, title, status)."""

    def __init__(self) -> None:
        self.problems: dict[str, RegisteredItem] = {}
        self.practices: dict[str, RegisteredItem] = {}

    def problem(self, problem_id: str) -> RegisteredItem | None:
        return self.problems.get(problem_id)

    def practice(self, practice_id: str) -> RegisteredItem | None:
        return self.practices.get(practice_id)


@pytest.fixture
def registry():
    return FakeRegistry()


@pytest.fixture
def app(registry):
    application = VotingApplication(
        env=MEMORY, keys=PseudonymKeys(master=b"k" * 32), registry=registry
    )
    yield application
    application.close()


def problems(registry, city="sarov", count=3):
    ids = []
    for number in range(count):
        problem_id = str(uuid4())
        registry.problems[problem_id] = RegisteredItem(city, f"Problem {number}")
        ids.append(problem_id)
    return ids


def spec(registry, method="single_choice", **changes):
    options = [OptionSpec("problem", p, "") for p in problems(registry)]
    fields = {
        "city_id": "sarov",
        "kind": "city_problem",
        "title": "November vote on city problems",
        "description": "",
        "method": method,
        "options": options,
        "opens_at": NOW - timedelta(hours=1),
        "closes_at": NOW + timedelta(days=7),
    }
    return PollSpec(**(fields | changes))


def events(app):
    notifications = app.recorder.select_notifications(start=None, limit=10_000)
    return [app.mapper.to_domain_event(n) for n in notifications]


def test_creating_a_poll_records_created_and_opened_with_labels_from_the_registry(app, registry):
    poll = app.create_poll(spec(registry), now=NOW)

    created, opened = events(app)
    assert type(created).__qualname__ == "Poll.Created"
    assert [o["label"] for o in created.options] == ["Problem 0", "Problem 1", "Problem 2"]
    assert [o["option_id"] for o in created.options] == ["o1", "o2", "o3"]
    assert type(opened).__qualname__ == "Poll.Opened"
    assert opened.opens_at == NOW - timedelta(hours=1)
    assert poll.status(NOW) == "open"


def test_a_poll_on_a_problem_of_another_city_is_refused_and_records_nothing(app, registry):
    other = problems(registry, city="seversk", count=1)[0]
    bad = spec(registry)
    bad = PollSpec(
        **(vars(bad) | {"options": [*bad.options[:1], OptionSpec("problem", other, "")]})
    )

    with pytest.raises(FailedPreconditionError) as refused:
        app.create_poll(bad, now=NOW)

    assert refused.value.message == f"problem {other} is not in the registry of 'sarov'"
    assert app.recorder.max_notification_id() is None


def test_a_practice_rating_needs_practices_approved_for_vote(app, registry):
    approved, submitted = str(uuid4()), str(uuid4())
    registry.practices[approved] = RegisteredItem("sarov", "Night buses", "approved_for_vote")
    registry.practices[submitted] = RegisteredItem("sarov", "Snow app", "submitted")
    options = [OptionSpec("practice", approved, ""), OptionSpec("practice", submitted, "")]

    with pytest.raises(FailedPreconditionError) as refused:
        app.create_poll(spec(registry, kind="practice_rating", options=options), now=NOW)

    assert refused.value.message == (
        f"practice {submitted} is 'submitted', not approved for vote by the Expert Council"
    )
    assert app.recorder.max_notification_id() is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"options": []}, "a poll needs at least 2 options (got 0)"),
        (
            {"method": "plurality"},
            "method must be one of single_choice, approval, score, borda, schulze, not 'plurality'",
        ),
        (
            {"kind": "referendum"},
            (
                "kind must be one of practice_rating, city_problem, practice_evaluation, "
                "not 'referendum'"
            ),
        ),
        (
            {"eligible_roles": ["curator"]},
            (
                "role 'curator' cannot vote; the voting roles are administration, enterprise, "
                "initiative_group, resident, working_group"
            ),
        ),
        ({"closes_at": NOW - timedelta(days=1)}, "closes_at 2026-11-19T12:00:00Z is in the past"),
        ({"quorum": -1}, "quorum must be 0 (none) or a positive number, not -1"),
    ],
)
def test_an_invalid_poll_is_refused_with_a_readable_message_and_records_nothing(
    app, registry, changes, message
):
    with pytest.raises(InvalidArgumentError) as refused:
        app.create_poll(spec(registry, **changes), now=NOW)

    assert refused.value.message == message
    assert app.recorder.max_notification_id() is None


def test_a_ballot_records_only_a_keyed_pseudonym_and_returns_a_receipt(app, registry):
    poll = app.create_poll(spec(registry), now=NOW)

    ballot = app.cast_ballot(poll.id, RESIDENT, {"o2": 1}, now=NOW)

    cast = events(app)[-1]
    assert type(cast).__qualname__ == "Ballot.Cast"
    assert cast.pseudonym == pseudonym_of(app.keys.of("sarov"), "resident-42")
    assert cast.month == "2026-11"
    assert ballot.id == Ballot.create_id(poll.id, cast.pseudonym)
    assert len(ballot.receipt) == 64
    stored = b"".join(n.state for n in app.recorder.select_notifications(start=None, limit=100))
    assert b"resident-42" not in stored


def test_the_same_resident_has_another_pseudonym_in_another_city():
    keys = PseudonymKeys(master=b"k" * 32)

    assert pseudonym_of(keys.of("sarov"), "r-1") != pseudonym_of(keys.of("seversk"), "r-1")
    assert pseudonym_of(keys.of("sarov"), "r-1") == pseudonym_of(keys.of("sarov"), "r-1")


def test_second_ballot_from_same_resident_is_rejected_when_revoting_is_not_allowed(app, registry):
    poll = app.create_poll(spec(registry), now=NOW)
    app.cast_ballot(poll.id, RESIDENT, {"o2": 1}, now=NOW)
    before = app.recorder.max_notification_id()

    with pytest.raises(AlreadyExistsError) as refused:
        app.cast_ballot(poll.id, RESIDENT, {"o3": 1}, now=NOW)

    assert refused.value.status == grpc.StatusCode.ALREADY_EXISTS
    assert app.recorder.max_notification_id() == before


def test_when_revoting_is_allowed_the_last_ballot_counts(app, registry):
    poll = app.create_poll(spec(registry, revote_allowed=True), now=NOW)
    first = app.cast_ballot(poll.id, RESIDENT, {"o2": 1}, now=NOW)
    second = app.cast_ballot(poll.id, RESIDENT, {"o3": 1}, now=NOW)
    app.cast_ballot(poll.id, Voter("resident-7", "resident"), {"o3": 1}, now=NOW)

    closed = app.close_poll(poll.id, now=NOW + timedelta(hours=1))

    assert first.id == second.id
    assert second.version == 2
    assert first.receipt != second.receipt
    assert closed.ballots_counted == 2
    assert next((r["option_id"], r["votes"]) for r in closed.results) == ("o3", 2)
    recast = next(e for e in reversed(events(app)) if type(e).__qualname__ == "Ballot.Recast")
    assert recast.originator_id == first.id
    assert recast.previous == {"o2": 1}


@pytest.mark.parametrize(
    ("moment", "message"),
    [
        (NOW - timedelta(hours=2), "opens at 2026-11-20T11:00:00Z"),
        (NOW + timedelta(days=8), "closed at 2026-11-27T12:00:00Z"),
    ],
)
def test_a_ballot_outside_the_window_is_refused_and_records_nothing(app, registry, moment, message):
    poll = app.create_poll(spec(registry), now=NOW - timedelta(hours=3))
    before = app.recorder.max_notification_id()

    with pytest.raises(FailedPreconditionError) as refused:
        app.cast_ballot(poll.id, RESIDENT, {"o1": 1}, now=moment)

    assert refused.value.message == (
        f"poll {poll.id} {message}: ballots are accepted only while it is open"
    )
    assert app.recorder.max_notification_id() == before


def test_a_ballot_in_a_closed_poll_is_refused(app, registry):
    poll = app.create_poll(spec(registry), now=NOW)
    app.close_poll(poll.id, now=NOW)

    with pytest.raises(FailedPreconditionError, match="is closed: ballots are accepted only"):
        app.cast_ballot(poll.id, RESIDENT, {"o1": 1}, now=NOW)


def test_a_voter_whose_role_is_not_eligible_is_refused(app, registry):
    poll = app.create_poll(spec(registry), now=NOW)

    with pytest.raises(PermissionDeniedError) as refused:
        app.cast_ballot(poll.id, Voter("boss", "enterprise"), {"o1": 1}, now=NOW)

    assert refused.value.message == (
        "a voter with role 'enterprise' is not eligible in this poll; eligible: resident"
    )


def test_a_ballot_with_an_unknown_option_is_invalid_and_records_nothing(app, registry):
    poll = app.create_poll(spec(registry), now=NOW)
    before = app.recorder.max_notification_id()

    with pytest.raises(InvalidArgumentError, match="unknown option 'o7'"):
        app.cast_ballot(poll.id, RESIDENT, {"o7": 1}, now=NOW)

    assert app.recorder.max_notification_id() == before


def test_closing_publishes_ranked_results_turnout_and_a_digest_that_verifies_receipts(
    app, registry
):
    poll = app.create_poll(spec(registry, method="borda", electorate=8, quorum=3), now=NOW)
    rankings = [
        {"o1": 1, "o2": 2, "o3": 3},
        {"o2": 1, "o1": 2, "o3": 3},
        {"o2": 1, "o3": 2, "o1": 3},
    ]
    receipts = [
        app.cast_ballot(poll.id, Voter(f"r{i}", "resident"), r, now=NOW).receipt
        for i, r in enumerate(rankings)
    ]

    closed = app.close_poll(poll.id, now=NOW + timedelta(hours=2))

    closed_event = events(app)[-1]
    assert type(closed_event).__qualname__ == "Poll.Closed"
    assert [(r["option_id"], r["rank"], r["score"]) for r in closed_event.results] == [
        ("o2", 1, "5"),
        ("o1", 2, "3"),
        ("o3", 3, "1"),
    ]
    assert (closed_event.ballots_counted, closed_event.distinct_voters) == (3, 3)
    assert closed_event.turnout == "37.50"
    assert closed_event.quorum_met is True
    assert closed_event.closed_at == NOW + timedelta(hours=2)
    count = app.recount(closed)
    assert closed.digest == count.digest == merkle_root(count.receipts)
    for receipt in receipts:
        index = count.receipts.index(receipt)
        proof = inclusion_proof(count.receipts, index)
        assert verify_inclusion(receipt, index, len(receipts), proof, closed.digest)


def test_a_recount_from_the_event_log_gives_the_closed_result_bit_for_bit(app, registry):
    poll = app.create_poll(spec(registry, method="schulze", revote_allowed=True), now=NOW)
    orders = [("o1", "o2", "o3"), ("o3", "o1", "o2"), ("o2", "o3", "o1"), ("o1", "o3", "o2")]
    for i in range(20):
        order = orders[i % 4]
        choices = {o: position + 1 for position, o in enumerate(order)}
        app.cast_ballot(poll.id, Voter(f"r{i % 15}", "resident"), choices, now=NOW)
    closed = app.close_poll(poll.id, now=NOW)
    replayed = VotingApplication(env=MEMORY, keys=app.keys)
    log = app.recorder.select_notifications(start=None, limit=10_000)
    replayed.recorder.insert_events(
        [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in log]
    )

    count = replayed.recount(replayed.get_poll(poll.id))

    assert count.results == closed.results
    assert count.digest == closed.digest
    assert count.ballots_counted == 15


def test_merkle_proofs_verify_for_every_leaf_and_fail_for_a_forged_receipt():
    for size in range(1, 20):
        receipts = [f"{i:064x}" for i in range(size)]
        root = merkle_root(receipts)
        for index in range(size):
            proof = inclusion_proof(receipts, index)
            assert verify_inclusion(receipts[index], index, size, proof, root)
            assert not verify_inclusion(f"{size + 99:064x}", index, size, proof, root)


def test_concurrent_ballots_share_commits_and_only_the_second_ballot_of_a_voter_fails(
    app, registry
):
    poll = app.create_poll(spec(registry, method="score"), now=NOW)
    voters = [Voter(f"r{i}", "resident") for i in range(40)] + [RESIDENT] * 8
    # The resident's eight ballots differ from each other: each is a second ballot, no retry.
    choices = [{"o1": 1, "o2": 2, "o3": 3}] * 40 + [
        {"o1": i % 6, "o2": i // 6, "o3": 5} for i in range(8)
    ]

    def attempt(voter, chosen):
        try:
            app.cast_ballot(poll.id, voter, chosen, now=NOW)
        except AlreadyExistsError:
            return "again"
        return "accepted"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(attempt, voters, choices))

    assert outcomes.count("accepted") == 41
    assert outcomes.count("again") == 7
    casts = [e for e in events(app) if type(e).__qualname__ == "Ballot.Cast"]
    assert len(casts) == 41
    assert len({e.originator_id for e in casts}) == 41


def test_a_ballot_queued_behind_the_close_of_its_poll_is_refused(app, registry):
    poll = app.create_poll(spec(registry), now=NOW)
    _, ballot = app.prepare_ballot(poll.id, RESIDENT, {"o1": 1}, now=NOW)
    app.close_poll(poll.id, now=NOW)

    with pytest.raises(FailedPreconditionError, match="is closed"):
        app.writer.submit(ballot, poll.id, poll.version).result()

    assert not [e for e in events(app) if type(e).__qualname__ == "Ballot.Cast"]


@pytest.fixture
def replicas(registry, tmp_path):
    """Two API replicas on one event store (SQLite here; PostgreSQL in production)."""
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / "voting.events.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "10",
    }
    keys = PseudonymKeys(master=b"k" * 32)
    made = [VotingApplication(env=env, keys=keys, registry=registry) for _ in range(2)]
    yield made
    for replica in made:
        replica.close()


def test_a_ballot_committed_after_another_replica_counted_is_refused_and_left_out(
    replicas, registry
):
    first, second = replicas
    poll = first.create_poll(spec(registry), now=NOW)
    first.cast_ballot(poll.id, RESIDENT, {"o1": 1}, now=NOW)
    checked, late = second.prepare_ballot(
        poll.id, Voter("resident-7", "resident"), {"o2": 1}, now=NOW
    )

    closed = first.close_poll(poll.id, now=NOW)  # between the second replica's check and commit
    saved = second.writer.submit(late, checked.id, checked.version).result()

    assert saved.poll_changed
    with pytest.raises(NotCountedError, match="was not counted"):
        second.confirm_counted(saved)
    assert closed.ballots_counted == 1
    assert saved.notification_id > closed.counted_up_to
    recount = second.recount(second.get_poll(poll.id))
    assert (recount.ballots_counted, recount.digest) == (1, closed.digest)
    assert [
        type(e).__qualname__ for e in events(first) if type(e).__qualname__.startswith("Poll.")
    ] == ["Poll.Created", "Poll.Opened", "Poll.Closing", "Poll.Closed"]


def test_a_ballot_committed_before_the_fence_is_counted_by_another_replica(replicas, registry):
    first, second = replicas
    poll = first.create_poll(spec(registry), now=NOW)
    checked, ballot = second.prepare_ballot(poll.id, RESIDENT, {"o2": 1}, now=NOW)
    saved = second.writer.submit(ballot, checked.id, checked.version).result()

    closed = first.close_poll(poll.id, now=NOW)

    assert not saved.poll_changed
    assert second.confirm_counted(saved).receipt == ballot.receipt
    assert closed.ballots_counted == 1
    assert saved.notification_id <= closed.counted_up_to


def test_a_poll_created_again_under_its_request_id_is_the_original(app, registry):
    request = voting_pb2.CreatePollRequest(city_id="sarov", title="A", request_id="portal-p1")
    first = app.create_poll(spec(registry, request_id="portal-p1"), NOW, Retry.of("sarov", request))
    head = app.recorder.max_notification_id()

    again = app.create_poll(spec(registry, request_id="portal-p1"), NOW, Retry.of("sarov", request))

    assert again.id == first.id
    assert app.recorder.max_notification_id() == head
    other = voting_pb2.CreatePollRequest(city_id="sarov", title="B", request_id="portal-p1")
    with pytest.raises(AlreadyExistsError, match=f"created poll {first.id}"):
        app.create_poll(spec(registry, request_id="portal-p1"), NOW, Retry.of("sarov", other))


def ballot_casts(app):
    return [e for e in events(app) if type(e).__qualname__ == "Ballot.Cast"]


def test_a_poll_admits_no_more_voters_than_its_electorate_and_turnout_stays_at_most_100(
    app, registry
):
    poll = app.create_poll(spec(registry, electorate=2, revote_allowed=True), now=NOW)
    app.cast_ballot(poll.id, Voter("r1", "resident"), {"o1": 1}, now=NOW)
    app.cast_ballot(poll.id, Voter("r2", "resident"), {"o2": 1}, now=NOW)
    before = app.recorder.max_notification_id()

    with pytest.raises(ElectorateReachedError) as refused:
        app.cast_ballot(poll.id, Voter("r3", "resident"), {"o1": 1}, now=NOW)
    assert app.recorder.max_notification_id() == before  # nothing written
    app.cast_ballot(poll.id, Voter("r1", "resident"), {"o3": 1}, now=NOW)  # a re-vote has its seat
    closed = app.close_poll(poll.id, now=NOW)

    assert refused.value.status == grpc.StatusCode.FAILED_PRECONDITION
    assert "as many ballots as its electorate (2)" in refused.value.message
    assert (closed.ballots_counted, closed.turnout) == (2, "100.00")


def test_a_poll_without_an_electorate_takes_no_seats(app, registry):
    poll = app.create_poll(spec(registry), now=NOW)

    for number in range(3):
        app.cast_ballot(poll.id, Voter(f"r{number}", "resident"), {"o1": 1}, now=NOW)

    assert [type(e).__qualname__ for e in events(app)].count("RequestKey.Claimed") == 0
    assert len(ballot_casts(app)) == 3


def test_concurrent_voters_beyond_the_electorate_are_refused_exactly(app, registry):
    poll = app.create_poll(spec(registry, electorate=7), now=NOW)

    def attempt(number):
        try:
            app.cast_ballot(poll.id, Voter(f"r{number}", "resident"), {"o1": 1}, now=NOW)
        except ElectorateReachedError:
            return "refused"
        return "admitted"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(attempt, range(30)))

    assert outcomes.count("admitted") == 7
    assert len(ballot_casts(app)) == 7
    assert app.close_poll(poll.id, now=NOW).turnout == "100.00"


def test_replicas_that_share_an_event_store_never_admit_more_than_the_electorate(
    replicas, registry
):
    """Each replica's writer knows the seats it took; a seat the other replica took meanwhile
    fails the commit in the store, and the ballot takes the next seat or is refused."""
    first, second = replicas
    poll = first.create_poll(spec(registry, electorate=3), now=NOW)
    first.cast_ballot(poll.id, Voter("r1", "resident"), {"o1": 1}, now=NOW)  # seat 1
    second.cast_ballot(poll.id, Voter("r2", "resident"), {"o1": 1}, now=NOW)  # seat 2
    first.cast_ballot(poll.id, Voter("r3", "resident"), {"o1": 1}, now=NOW)  # 2 taken: seat 3

    with pytest.raises(ElectorateReachedError):
        second.cast_ballot(poll.id, Voter("r4", "resident"), {"o1": 1}, now=NOW)
    with pytest.raises(AlreadyExistsError):  # a voter's second ballot is still that
        second.cast_ballot(poll.id, Voter("r3", "resident"), {"o2": 1}, now=NOW)

    def attempt(replica_and_number):
        replica, number = replica_and_number
        try:
            replica.cast_ballot(poll.id, Voter(f"s{number}", "resident"), {"o1": 1}, now=NOW)
        except ElectorateReachedError:
            return "refused"
        return "admitted"

    with ThreadPoolExecutor(max_workers=8) as pool:
        late = list(pool.map(attempt, [(replicas[n % 2], n) for n in range(8)]))

    assert late == ["refused"] * 8
    assert len(ballot_casts(first)) == 3
    assert first.close_poll(poll.id, now=NOW).turnout == "100.00"


def test_replicas_racing_for_the_last_seats_admit_exactly_the_electorate(replicas, registry):
    first, second = replicas
    poll = first.create_poll(spec(registry, electorate=5), now=NOW)

    def attempt(replica_and_number):
        replica, number = replica_and_number
        try:
            replica.cast_ballot(poll.id, Voter(f"r{number}", "resident"), {"o1": 1}, now=NOW)
        except ElectorateReachedError:
            return "refused"
        return "admitted"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, [(replicas[n % 2], n) for n in range(16)]))

    assert outcomes.count("admitted") == 5
    assert len(ballot_casts(second)) == 5
    assert first.close_poll(poll.id, now=NOW).ballots_counted == 5
