"""kpi's scorecard reads on a real MongoDB server: each query on voting's facts (a document per
ballot, most of the read model) is answered by an index and examines only the documents it
returns, so a scorecard costs its own ballots, not the city's year of them; the scorecard
gauges read every city's last month every interval, and a rebuild shares the server with them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kpi import views
from kpi.consumers import SUBSCRIPTIONS
from kpi.domain.scoring import Closure, Scorecard
from kpi.metrics import Gauges
from kpi.projections import VOTING_FACTS_COLLECTION, FactsProjection
from lmp_kit.consumer import TrackedConsumer
from lmp_kit.envelope import Envelope
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient, monitoring

CITY, OTHER = "sarov", "ozersk"
MONTHS = ("2026-01", "2026-02", "2026-03")
ASKED = "2026-02"


class Finds(monitoring.CommandListener):
    """The filters of the find commands sent on voting's facts, and the other commands."""

    def __init__(self) -> None:
        self.filters: list[dict[str, Any]] = []
        self.others: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command.get(event.command_name) != VOTING_FACTS_COLLECTION:
            return
        if event.command_name == "find":
            self.filters.append(dict(event.command.get("filter", {})))
        else:
            self.others.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        del event

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        del event


def envelope(  # noqa: PLR0913  # an envelope's parts that differ here, each named
    nid: int,
    event_type: str,
    city: str,
    at: datetime,
    payload: dict[str, Any],
    *,
    aggregate: uuid.UUID | None = None,
) -> Envelope:
    return Envelope.model_validate(
        {
            "event_id": uuid.uuid4(),
            "event_type": event_type,
            "schema_version": 1,
            "service": "registry" if event_type.startswith("City.") else "voting",
            "city_id": city,
            "aggregate_id": aggregate or uuid.uuid4(),
            "aggregate_version": 1,
            "notification_id": nid,
            "occurred_at": at,
            "traceparent": "",
            "payload": payload,
        }
    )


class Numbers:
    """Notification ids in order, across the upstreams of a test's federation."""

    def __init__(self) -> None:
        self.last = 0

    def __call__(self) -> int:
        self.last += 1
        return self.last


def city_problem_poll(
    nid: Numbers, city: str, month: str, closed: datetime, voters: range
) -> list[Envelope]:
    """A city-problem poll of the month: a ballot a voter the day before it closed, then its
    closing."""
    poll = uuid.uuid4()
    cast = []
    for voter in voters:
        ballot = {
            "poll_id": str(poll),
            "pseudonym": f"{city}-{voter:060x}",
            "month": month,
            "choices": {"a": 1},
        }
        cast.append(envelope(nid(), "Ballot.Cast", city, closed - timedelta(days=1), ballot))
    result = {
        "kind": "city_problem",
        "closed_at": closed.isoformat(),
        "results": [],
        "ballots_counted": len(cast),
        "distinct_voters": len(cast),
        "turnout": "1",
        "digest": "",
    }
    return [*cast, envelope(nid(), "Poll.Closed", city, closed, result, aggregate=poll)]


def federation(nid: Numbers) -> tuple[list[Envelope], list[Envelope], set[str]]:
    """Two cities, each a city-problem poll a month with 5 + n ballots; the event ids of the
    asked month's poll and ballots of CITY."""
    registry: list[Envelope] = []
    voting: list[Envelope] = []
    wanted: set[str] = set()
    for city in (CITY, OTHER):
        registered = datetime(2026, 1, 1, tzinfo=UTC)
        payload: dict[str, Any] = {"name": city.title(), "voter_target": 10}
        registry.append(envelope(nid(), "City.Registered", city, registered, payload))
        for number, month in enumerate(MONTHS, start=1):
            closed = datetime(2026, number, 20, tzinfo=UTC)
            events = city_problem_poll(nid, city, month, closed, range(5 + number))
            voting += events
            if city == CITY and month == ASKED:
                wanted |= {str(e.event_id) for e in events}
    return registry, voting, wanted


async def load(
    client: AsyncMongoClient[Any], name: str, registry: list[Envelope], voting: list[Envelope]
) -> None:
    """The events through the service's own facts projections, their indexes and all."""
    upstreams = {"registry": registry, "voting": voting}
    facts = [
        (projection, upstreams[subscription.upstream])
        for subscription in SUBSCRIPTIONS
        for projection in subscription.projections
        if isinstance(projection, FactsProjection)
    ]
    async with client.start_session() as session:
        for projection, events in facts:
            await projection.prepare(client[name])
            await projection.apply_batch(events, client[name], session)


async def examined_only_returned(
    client: AsyncMongoClient[Any], name: str, filters: list[dict[str, Any]]
) -> int:
    """Asserts each query on voting's facts is an index scan examining only what it returns;
    the documents they returned in all."""
    returned = 0
    for query in filters:
        explained = await client[name].command(
            "explain",
            {"find": VOTING_FACTS_COLLECTION, "filter": query},
            verbosity="executionStats",
        )
        stats = explained["executionStats"]
        assert stats["totalDocsExamined"] == stats["nReturned"], (query, stats)
        assert "IXSCAN" in str(explained["queryPlanner"]["winningPlan"]), query
        returned += stats["nReturned"]
    return returned


def voting_evidence(card: Scorecard) -> set[str]:
    return set(next(i for i in card.indicators if i.name == "voting").evidence)


async def test_a_scorecard_reads_only_the_voting_facts_it_counts(mongo, mongodb_uri):
    client, name = mongo
    registry, voting, wanted = federation(Numbers())
    await load(client, name, registry, voting)
    finds = Finds()
    listening: AsyncMongoClient[Any] = AsyncMongoClient(
        mongodb_uri, tz_aware=True, event_listeners=[finds]
    )
    try:
        card = await views.month_card(
            listening[name], CITY, ASKED, datetime(2026, 3, 5, tzinfo=UTC)
        )
        # The cities the gauges and the ranking go over, without reading voting's facts.
        assert await views.cities(listening[name]) == sorted((CITY, OTHER))
    finally:
        await listening.close()

    # What it counts: the month's poll and its ballots, none of another month or city.
    counted = voting_evidence(card.scorecard)
    assert wanted <= counted
    assert not counted & ({str(e.event_id) for e in voting} - wanted)

    # What it read: each query by an index, examining only what it returned; in all, the
    # city's polls (a handful a year) and the asked poll's ballots, each once.
    assert finds.filters
    assert finds.others == []
    returned = await examined_only_returned(client, name, finds.filters)
    assert returned == len(MONTHS) + len(wanted) - 1  # the city's polls, the asked one's ballots


async def test_a_poll_closed_after_an_early_signature_counts_next_month_read_by_index(
    mongo, mongodb_uri
):
    # The late branch: January is signed on the 25th, before it ends; a poll closed on the
    # 28th is January's in its payload but counts for February (scoring.effective_month),
    # and February's scorecard finds it among the city's polls, by the same index.
    client, name = mongo
    nid = Numbers()
    registry, voting, on_time = federation(nid)
    signed = datetime(2026, 1, 25, tzinfo=UTC)
    late = city_problem_poll(nid, CITY, "2026-01", signed + timedelta(days=3), range(100, 104))
    before = [
        e
        for e in voting
        if e.city_id == CITY and e.event_type == "Poll.Closed" and e.occurred_at < signed
    ]
    await load(client, name, registry, [*voting, *late])
    closures = {"2026-01": [Closure(signed_at=signed)]}
    finds = Finds()
    listening: AsyncMongoClient[Any] = AsyncMongoClient(
        mongodb_uri, tz_aware=True, event_listeners=[finds]
    )
    try:
        cards = {
            month: await views.compute_scorecard(
                listening[name], CITY, month, evaluation=None, introduced=(), closures=closures
            )
            for month in ("2026-01", ASKED)
        }
    finally:
        await listening.close()

    late_ids = {str(e.event_id) for e in late}
    assert late_ids <= voting_evidence(cards[ASKED])
    assert on_time <= voting_evidence(cards[ASKED])
    assert not late_ids & voting_evidence(cards["2026-01"])
    assert {str(e.event_id) for e in before} <= voting_evidence(cards["2026-01"])
    assert "2 city-problem polls closed" in next(
        i.note for i in cards[ASKED].indicators if i.name == "voting"
    )
    assert await examined_only_returned(client, name, finds.filters) > 0


def sample(name: str, city: str) -> float:
    value = REGISTRY.get_sample_value(name, {"city": city})
    assert value is not None, name
    return value


async def test_the_gauges_compute_the_cards_again_only_after_a_batch_or_in_a_new_month(mongo):
    """Between two batches the gauges read only the fences: the waiting seconds move with the
    clock from the kept moment; a batch applied (its fence counted) or the next month computes
    the cards again."""
    client, name = mongo
    registry, voting, _ = federation(Numbers())
    consumers = {
        s.upstream: TrackedConsumer(
            upstream=s.upstream,
            projections=s.projections,
            client=client,
            database=name,
            upstream_target="127.0.0.1:9",  # never called: pages are handed to it
            topic="unused",
            token=lambda: "",
        )
        for s in SUBSCRIPTIONS
    }
    for consumer in consumers.values():
        await consumer.prepare()
    await consumers["registry"].apply_page(registry, "kafka")
    last_poll = next(
        i
        for i, e in enumerate(voting)
        if e.city_id == OTHER and "03" in str(e.payload.get("month", ""))
    )
    await consumers["voting"].apply_page(voting[:last_poll], "kafka")
    db = client[name]
    gauges = Gauges()
    april = datetime(2026, 4, 2, tzinfo=UTC)  # the last ended month: 2026-03, awaiting

    await gauges.refresh(db, april)
    waited = sample("lmp_kpi_months_awaiting_curator_seconds", CITY)
    await gauges.refresh(db, april + timedelta(seconds=60))
    assert gauges.computations == 1
    assert sample("lmp_kpi_months_awaiting_curator_seconds", CITY) == waited + 60
    before = sample("lmp_kpi_month_score", OTHER)

    await consumers["voting"].apply_page(voting[last_poll:], "kafka")  # OTHER's March poll
    await gauges.refresh(db, april + timedelta(seconds=70))
    assert gauges.computations == 2
    assert sample("lmp_kpi_month_score", OTHER) != before

    await gauges.refresh(db, datetime(2026, 5, 2, tzinfo=UTC))
    assert gauges.computations == 3
