"""`lmp rebuild` on real servers: blue/green under traffic, the comparison, the resume."""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

import grpc
import pytest
from lmp.kpi.v1 import kpi_pb2
from lmp.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from lmp.registry.v1 import registry_pb2
from lmp.voting.v1 import voting_pb2
from lmp_devstack import free_port
from lmp_kit.consumer import FENCES
from lmp_kit.readmodels import CONTROL, CONTROL_ID, generation_name
from lmp_kit.rebuild import Progress, Rebuild
from lmp_kit.runtime import mongo_client, read_models, service_token
from lmp_kit.settings import Settings
from pymongo import MongoClient

from lmp_cli import rebuild as rebuild_cli

if TYPE_CHECKING:
    from collections.abc import Callable

    from .conftest import Slice


class Traffic:
    """Commands and reads in a thread while the rebuild runs: every read must answer."""

    def __init__(self, stack: Slice, read: Callable[[], object]) -> None:
        self.stack = stack
        self.read = read
        self.sent = 0
        self.reads = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        stub = self.stack.registry()
        metadata = self.stack.metadata()
        while not self._stop.is_set():
            stub.RegisterProblem(
                registry_pb2.RegisterProblemRequest(
                    city_id="sarov", title=f"During {self.sent}", description="traffic"
                ),
                metadata=metadata,
                timeout=10,
            )
            self.sent += 1
            try:
                self.read()
            except grpc.RpcError as error:
                self.failures.append(f"{error.code().name}: {error.details()}")
            self.reads += 1
            time.sleep(0.02)


def rebuild(stack: Slice, service: str, **options: Any) -> tuple[int, str]:
    out = io.StringIO()
    code = rebuild_cli.run(service, stack.env, out=out, **options)
    return code, out.getvalue()


def control(stack: Slice, service: str) -> dict[str, Any]:
    database = Settings.from_env(service, stack.env).mongodb_database
    with MongoClient[dict[str, Any]](stack.env["MONGODB_URI"]) as client:
        return client[database][CONTROL].find_one({"_id": CONTROL_ID}) or {}


def databases(stack: Slice) -> list[str]:
    with MongoClient[dict[str, Any]](stack.env["MONGODB_URI"]) as client:
        return client.list_database_names()


def test_kpi_is_rebuilt_under_traffic_switched_and_follows_the_new_generation(
    stack: Slice,
) -> None:
    stack.register_city()
    stack.register(150)
    assert stack.wait_registered(150) == 150
    kpi = stack.kpi()
    metadata = stack.metadata()

    def read() -> object:
        return kpi.ListProblemStats(
            kpi_pb2.ListProblemStatsRequest(city_id="sarov"), metadata=metadata, timeout=10
        )

    with Traffic(stack, read) as traffic:
        time.sleep(0.5)
        code, output = rebuild(stack, "kpi")
        time.sleep(1.5)  # reads on the new generation too
    assert code == 0, output
    assert "switched to generation 1" in output
    assert "problem_stats" in output  # among the collections found equal
    assert "indexed kpi_registry_facts, kpi_voting_facts after loading in" in output
    assert "events/s" in output
    assert traffic.sent > 10
    assert traffic.reads > 10
    assert traffic.failures == []
    assert control(stack, "kpi")["active"] == 1
    # Recorded after the switch: the live consumers follow on the new generation.
    total = 150 + traffic.sent
    stack.register(5, prefix="After")
    assert stack.wait_registered(total + 5) == total + 5
    home = Settings.from_env("kpi", stack.env).mongodb_database
    assert generation_name(home, 1) in databases(stack)
    with MongoClient[dict[str, Any]](stack.env["MONGODB_URI"]) as client:
        # The old generation's read models were dropped; its fences stay, retired.
        assert "problem_stats" not in client[home].list_collection_names()
        assert all(f.get("retired") for f in client[home][FENCES].find())
        # The new generation has the live one's indexes (the scorecards read by them).
        rebuilt = client[generation_name(home, 1)]
        wanted = {
            "kpi_registry_facts": {"city_id_1_month_1", "city_id_1_occurred_month_1"},
            "kpi_voting_facts": {"city_id_1_kind_1_ref_1"},
        }
        for facts, names in wanted.items():
            assert names <= set(rebuilt[facts].index_information()), facts


def test_a_live_generation_that_differs_is_reported_and_kept_and_its_consumers_resume(
    stack: Slice,
) -> None:
    stack.register_city()
    stack.register(20)
    assert stack.wait_registered(20) == 20
    home = Settings.from_env("kpi", stack.env).mongodb_database
    with MongoClient[dict[str, Any]](stack.env["MONGODB_URI"]) as client:
        client[home]["problem_stats"].insert_one({"_id": "tampered", "city_id": "nowhere"})
    code, output = rebuild(stack, "kpi")
    assert code == 1, output
    assert "differs from the live generation 0 in problem_stats" in output
    assert control(stack, "kpi").get("active", 0) == 0
    assert generation_name(home, 1) not in databases(stack)
    stack.register(3, prefix="After")
    assert stack.wait_registered(23) == 23  # the live consumers resumed


def test_an_interrupted_rebuild_resumes_from_its_own_positions(stack: Slice) -> None:
    stack.register_city()
    stack.register(120)
    assert stack.wait_registered(120) == 120
    settings = Settings.from_env("kpi", stack.env)
    from kpi.consumers import SUBSCRIPTIONS  # noqa: PLC0415  # kpi's own projections

    class StoppedHereError(Exception):
        pass

    def interrupt(progress: Progress) -> None:
        if progress.applied:
            raise StoppedHereError

    async def first_run() -> None:
        client = mongo_client(settings)
        try:
            job = Rebuild(
                models=read_models(settings, client, SUBSCRIPTIONS),
                subscriptions=SUBSCRIPTIONS,
                upstream_targets={
                    s.upstream: settings.endpoints[s.upstream].grpc_target for s in SUBSCRIPTIONS
                },
                token=service_token(settings),
                report=interrupt,
            )
            with pytest.raises(StoppedHereError):
                await job.run()
        finally:
            await client.close()

    asyncio.run(first_run())
    assert control(stack, "kpi")["rebuild"]["generation"] == 1
    facts = ("kpi_registry_facts", "kpi_voting_facts")
    new = generation_name(settings.mongodb_database, 1)
    with MongoClient[dict[str, Any]](stack.env["MONGODB_URI"]) as client:
        # Stopped while loading: the facts are there without their secondary indexes, which
        # the rebuild builds once after loading (FactsProjection indexes after load); the
        # collections other projections query while applying have theirs from the start.
        assert client[new]["kpi_registry_facts"].count_documents({}) > 0
        for name in facts:
            assert set(client[new][name].index_information()) <= {"_id_"}, name
        assert len(client[new]["_tracking"].index_information()) > 1
    code, output = rebuild(stack, "kpi")
    assert code == 0, output
    assert "resuming the rebuild into generation 1" in output
    assert f"indexed {', '.join(facts)} after loading in" in output
    assert "switched to generation 1" in output
    with MongoClient[dict[str, Any]](stack.env["MONGODB_URI"]) as client:
        assert "city_id_1_kind_1_ref_1" in client[new]["kpi_voting_facts"].index_information()
    stack.register(2, prefix="After")
    assert stack.wait_registered(122) == 122


def test_the_registry_is_rebuilt_under_traffic_and_lists_what_came_after(stack: Slice) -> None:
    stack.register_city()
    stack.register(60)
    registry = stack.registry()
    metadata = stack.metadata()

    def listed() -> int:
        count, token = 0, ""
        while True:
            page = registry.ListProblems(
                registry_pb2.ListProblemsRequest(
                    city_id="sarov", page=registry_pb2.PageRequest(page_size=200, page_token=token)
                ),
                metadata=metadata,
                timeout=10,
            )
            count += len(page.problems)
            token = page.next_page_token
            if not token:
                return count

    with Traffic(stack, listed) as traffic:
        time.sleep(0.5)
        code, output = rebuild(stack, "registry")
        time.sleep(1.0)
    assert code == 0, output
    assert "switched to generation 1" in output
    assert traffic.failures == []
    stack.register(4, prefix="After")
    expected = 60 + traffic.sent + 4
    deadline = time.monotonic() + 30
    while listed() < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    assert listed() == expected


class Hook:
    """A portal's webhook receiver on loopback that counts what it is sent."""

    def __init__(self) -> None:
        self.deliveries: list[str] = []
        self.port = free_port()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's hook
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                hook.deliveries.append(self.headers.get("Idempotency-Key", ""))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()


def subscribed(
    made: Slice, hook: Hook, anna: tuple[tuple[str, str], ...]
) -> notifications_pb2_grpc.NotificationsServiceStub:
    notifications = notifications_pb2_grpc.NotificationsServiceStub(
        grpc.insecure_channel(made.target("notifications"))
    )
    notifications.CreateSubscription(
        notifications_pb2.CreateSubscriptionRequest(
            city_id="sarov",
            kind="activity_registered",
            person_id="tester",
            channels=["inbox", "webhook"],
            webhook_url=hook.url,
        ),
        metadata=anna,
        timeout=10,
    )
    return notifications


def inbox_size(
    notifications: notifications_pb2_grpc.NotificationsServiceStub,
    anna: tuple[tuple[str, str], ...],
) -> int:
    return len(
        notifications.ListInbox(
            notifications_pb2.ListInboxRequest(page_size=500), metadata=anna, timeout=10
        ).notifications
    )


def test_a_rebuild_of_notifications_delivers_nothing_again(slice_factory: Any) -> None:  # noqa: PLR0915  # one story on real servers, told in order
    made = slice_factory()
    made.env |= {
        "LMP_DELIVERY_POLL_INTERVAL_S": "0.1",
        "LMP_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver listens on loopback
    }
    made.start("registry")
    made.start("notifications")
    hook = Hook()
    try:
        anna = made.metadata("resident", cities=("sarov",))
        notifications = subscribed(made, hook, anna)
        registry = made.registry()
        group = made.metadata("working_group", cities=("sarov",))
        month = datetime.now(UTC).strftime("%Y-%m-01")
        counter = iter(range(10_000))

        def register_activity() -> None:
            registry.RegisterActivity(
                registry_pb2.RegisterActivityRequest(
                    city_id="sarov",
                    kind="strategic_session",
                    title=f"Сессия {next(counter)}",
                    held_on=month,
                ),
                metadata=group,
                timeout=10,
            )

        for _ in range(5):
            register_activity()

        def inbox() -> int:
            return inbox_size(notifications, anna)

        def settled(expected: int) -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and (
                len(hook.deliveries) < expected or inbox() < expected
            ):
                time.sleep(0.2)

        settled(5)
        assert len(hook.deliveries) == 5
        registered = 5
        stop = threading.Event()

        def traffic() -> None:
            nonlocal registered
            while not stop.is_set():
                register_activity()
                registered += 1
                time.sleep(0.1)

        thread = threading.Thread(target=traffic, daemon=True)
        thread.start()
        try:
            code, output = rebuild(made, "notifications")
        finally:
            stop.set()
            thread.join(30)
        assert code == 0, output
        assert "switched to generation 1" in output
        register_activity()
        registered += 1
        settled(registered)
        time.sleep(2.0)  # anything sent twice would arrive by now
        assert len(hook.deliveries) == registered, output
        assert len(set(hook.deliveries)) == registered
        assert inbox() == registered
        assert control(made, "notifications")["active"] == 1
    finally:
        hook.close()


def test_a_live_stream_opened_before_the_switch_follows_the_new_generation(stack: Slice) -> None:
    """WatchScorecards opened on generation 0 hears of a change made on generation 1 at once
    (its change streams reopen on the new generation), not at its next idle timer."""
    import queue  # noqa: PLC0415  # this test only

    stack.register_city()
    stack.register(20)
    assert stack.wait_registered(20) == 20
    month = datetime.now(UTC).strftime("%Y-%m")
    stream = stack.kpi().WatchScorecards(
        kpi_pb2.WatchScorecardsRequest(city_id="sarov", month=month),
        metadata=stack.metadata("curator", cities=("sarov",)),
        timeout=120,
    )
    cards: queue.Queue[kpi_pb2.Scorecard] = queue.Queue()

    def listen() -> None:
        with contextlib.suppress(grpc.RpcError):  # cancelled at the end
            for card in stream:
                cards.put(card)

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    cards.get(timeout=30)  # the card as it is
    code, output = rebuild(stack, "kpi")
    assert code == 0, output
    assert control(stack, "kpi")["active"] == 1
    time.sleep(2.0)  # every process has seen the switch (it polls every 0.5 s)
    while not cards.empty():  # the switch itself wakes the stream: drain what it read again
        cards.get_nowait()

    started = time.monotonic()
    stack.registry().RegisterActivity(
        registry_pb2.RegisterActivityRequest(
            city_id="sarov",
            kind="working_meeting",
            title="After the switch",
            held_on=datetime.now(UTC).date().isoformat(),
            participant_categories=["administration"],
        ),
        metadata=stack.metadata(),
        timeout=10,
    )
    card = cards.get(timeout=20)  # Empty (a failure) if only the 60-s idle timer would wake it
    waited = time.monotonic() - started
    stream.cancel()
    assert card.city_id == "sarov"
    assert waited < 15


def test_voting_is_rebuilt_and_proves_and_counts_on_the_new_generation(voting_stack: Slice) -> None:
    """Voting's read models (polls, the live tally, ballots, the receipt trees) rebuilt while a
    poll is open: after the switch a closed poll's receipts are still proved against its
    digest, and a ballot cast after the switch is counted in the live results."""
    from .conftest import eventually, stamp  # noqa: PLC0415  # this test only
    from .test_voting_receipts import close, open_poll_with_ballots  # noqa: PLC0415  # its helpers

    stack = voting_stack
    stack.register_city()
    closed, receipts = open_poll_with_ballots(stack)
    closed = close(stack, closed.poll_id)
    voting = stack.voting()
    now = datetime.now(UTC)
    running = voting.CreatePoll(
        voting_pb2.CreatePollRequest(
            city_id="sarov",
            kind="city_problem",
            title="Still open",
            method="single_choice",
            options=[
                voting_pb2.OptionRef(ref_kind=o.ref_kind, ref_id=o.ref_id) for o in closed.options
            ],
            opens_at=stamp(now - timedelta(minutes=1)),
            closes_at=stamp(now + timedelta(days=1)),
        ),
        metadata=stack.metadata(),
        timeout=10,
    )
    resident = stack.metadata("portal", cities=("sarov",))
    proved = eventually(  # before: the receipt tree is built and cached (once projected)
        lambda: voting.VerifyReceipt(
            voting_pb2.VerifyReceiptRequest(poll_id=closed.poll_id, receipt=receipts[0]),
            metadata=resident,
            timeout=30,
        )
    )

    code, output = rebuild(stack, "voting")
    assert code == 0, output
    assert "switched to generation 1" in output
    time.sleep(1.5)  # every process has seen the switch

    again = voting.VerifyReceipt(
        voting_pb2.VerifyReceiptRequest(poll_id=closed.poll_id, receipt=receipts[-1]),
        metadata=resident,
        timeout=30,
    )
    assert again.digest == proved.digest == closed.digest
    before = voting.GetLiveResults(
        voting_pb2.GetLiveResultsRequest(poll_id=running.poll_id), metadata=resident, timeout=10
    ).ballots
    voting.CastBallot(
        voting_pb2.CastBallotRequest(
            poll_id=running.poll_id,
            voter_id="after-the-switch",
            choices=[voting_pb2.Choice(option_id="o1", value=1)],
        ),
        metadata=resident,
        timeout=10,
    )
    deadline = time.monotonic() + 30
    counted = before
    while counted <= before and time.monotonic() < deadline:
        counted = voting.GetLiveResults(
            voting_pb2.GetLiveResultsRequest(poll_id=running.poll_id),
            metadata=resident,
            timeout=10,
        ).ballots
        time.sleep(0.2)
    assert counted == before + 1


def test_expertise_is_rebuilt_under_traffic_and_reviews_what_came_after(
    slice_factory: Any,  # the conftest's factory
) -> None:
    """Expertise's read models (the registry's practices it holds, its reviews and sessions)
    rebuilt while the registry keeps recording: its lists answer throughout, hold the same
    reviews after the switch, and a practice registered after it can be reviewed at once."""
    from lmp.expertise.v1 import expertise_pb2, expertise_pb2_grpc  # noqa: PLC0415  # this test only

    stack: Slice = slice_factory()
    stack.start("registry")
    stack.start("expertise")
    stack.register_city()
    expertise = expertise_pb2_grpc.ExpertiseServiceStub(
        grpc.insecure_channel(stack.target("expertise"))
    )
    expertise.FormCouncil(
        expertise_pb2.FormCouncilRequest(),
        metadata=stack.metadata("programme_office", cities=("*",)),
        timeout=10,
    )
    group = stack.metadata("working_group", cities=("sarov",))
    problem = stack.problem()

    def review_a_new_practice(title: str) -> str:
        practice, call = stack.registry().RegisterPractice.with_call(
            registry_pb2.RegisterPracticeRequest(
                city_id="sarov",
                kind="own",
                title=title,
                authors=[registry_pb2.Person(person_id="anna", name="Анна")],
                problem_ids=[problem],
            ),
            metadata=group,
            timeout=10,
        )
        token = next(v for k, v in call.initial_metadata() if k == "lmp-consistency-token")
        review, opened = expertise.OpenReview.with_call(
            expertise_pb2.OpenReviewRequest(practice_id=practice.practice_id, round="primary"),
            metadata=(*group, ("lmp-consistency-token", token)),
            timeout=10,
        )
        written[0] = str(
            next(v for k, v in opened.initial_metadata() if k == "lmp-consistency-token")
        )
        return str(review.review_id)

    written = [""]
    before = {review_a_new_practice(f"Practice {n}") for n in range(8)}

    def listed() -> set[str]:
        page = expertise.ListReviews(
            expertise_pb2.ListReviewsRequest(city_id="sarov", page_size=100),
            metadata=(*group, ("lmp-consistency-token", written[0])),
            timeout=10,
        )
        return {r.review_id for r in page.reviews}

    with Traffic(stack, listed) as traffic:
        time.sleep(0.5)
        code, output = rebuild(stack, "expertise")
        time.sleep(1.5)
    assert code == 0, output
    assert "switched to generation 1" in output
    assert traffic.failures == []
    assert before <= listed()
    after = review_a_new_practice("Registered after the switch")
    assert after in listed()
