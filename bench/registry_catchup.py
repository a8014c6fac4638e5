"""A catch-up of registry's own read models: N registry events through the real consumer.

Generates --events registry events with the contracts' payloads (problems described,
prioritised, linked and solved; practices registered, classified, moved through their
statuses, with passport sections, a plan, milestone updates and progress reports; activities
with announcement, press release and report; improvement facts recognized; external-resource
cases), interleaved across aggregates as a log interleaves them, then feeds them to registry's
`TrackedConsumer` (its six projections, tracking, fence, one MongoDB transaction per page) page
by page, as a catch-up or a rebuild reads the log. It prints events/s, the MongoDB commands
sent (counted by a command listener: each one is a round trip) per page and per event, and a
digest of every read-model collection, so two runs (e.g. before and after a projection
change) can be compared: the same --seed and --events print the same digest.

    uv run python bench/registry_catchup.py [--events N] [--page N] [--seed N] [--json]

MONGODB_URI, when set, is used instead of a throwaway SecantusDB.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import json_util
from lmp_contracts import registry
from lmp_contracts.base import EventContract
from lmp_devstack.secantus import start_secantus
from lmp_kit.consumer import TrackedConsumer
from lmp_kit.envelope import Envelope
from lmp_kit.follow import READ_LIMIT
from pymongo import AsyncMongoClient, monitoring
from registry.consumers import SUBSCRIPTIONS

START = datetime(2026, 1, 1, tzinfo=UTC)
CITIES = 8
IGNORED = frozenset({"endSessions", "hello", "isMaster", "ismaster", "ping", "buildInfo"})


class Commands(monitoring.CommandListener):
    """Counts the commands sent to MongoDB, by name."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in IGNORED:
            self.counts[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def person(n: int) -> registry.Person:
    return registry.Person(person_id=f"p{n}", name=f"Person {n}")


def milestone(number: int) -> registry.Milestone:
    return registry.Milestone(
        number=number,
        title=f"Step {number}",
        owner=person(number),
        due_date=date(2027, number, 1),
        status="planned",
    )


def problem_life(n: int) -> list[EventContract]:
    return [
        registry.ProblemRegistered(title=f"Problem {n} of the yards", description="dark yards"),
        registry.ProblemDescribed(description=f"dark yards, {n} of them"),
        registry.ProblemPrioritySet(priority="high"),
        registry.ProblemPracticeLinked(practice_id=str(uuid.UUID(int=n))),
        registry.ProblemSolved(solved_with_external_resources=n % 2 == 0),
    ]


def practice_life(n: int) -> list[EventContract]:
    cell = registry.Cell(function="infrastructure", method="own_resources", sub_methods=[])
    value = registry.ReportValue(indicator="Lit yards", unit="yards", planned="5", actual="4")
    sources = [registry.ResourceSource(kind="own_budget", amount="1", currency="RUB")]
    return [
        registry.PracticeRegistered(kind="own", title=f"Lit courtyards {n}", cells=[cell]),
        registry.PracticeClassified(cells=[cell]),
        registry.PracticePassportSectionEdited(
            section="what",
            content={"text": f"Lamps in {n} yards"},
            section_version=1,
            passport_version=1,
        ),
        registry.PracticePassportApproved(version=1, review_id="", approved_by="curator"),
        registry.PracticeStatusChanged(status="prioritized", reason="", review_id=""),
        registry.PracticePlanSet(
            plan_version=1,
            approved_by="head",
            milestones=[milestone(1), milestone(2)],
            resource_sources=sources,
            regulation_proposals=["Amend the lighting rules"],
        ),
        registry.PracticeStatusChanged(status="implementing", reason="", review_id=""),
        registry.PracticeMilestoneUpdated(number=1, status="done", due_date=date(2027, 1, 20)),
        registry.PracticeProgressReported(month="2026-02", indicators=[value], note=""),
        registry.PracticeProblemLinked(problem_id=str(uuid.UUID(int=n))),
    ]


def activity_life(n: int) -> list[EventContract]:
    published = START + timedelta(days=n % 28)
    return [
        registry.ActivityRegistered(
            kind="meeting",
            title=f"Meeting {n}",
            held_on=date(2026, 1 + n % 12, 1 + n % 28),
            participant_categories=["residents"],
        ),
        registry.ActivityAnnouncementPublished(text="come", published_at=published),
        registry.ActivityPressReleasePublished(text="done", published_at=published),
        registry.ActivityReportFiled(attendees=[person(n)], photos=[]),
    ]


def fact_life(n: int) -> list[EventContract]:
    return [
        registry.ImprovementFactRecorded(
            month="2026-02", title=f"Fact {n}", description="", evidence=["https://x"]
        ),
        registry.ImprovementFactRecognized(month="2026-02"),
    ]


def case_life(n: int) -> list[EventContract]:
    return [
        registry.ExternalResourceCaseRecorded(
            month="2026-02",
            title=f"Grant {n}",
            source_kind="grant",
            amount="100",
            currency="RUB",
            partner="fund",
        )
    ]


LIVES = (problem_life, practice_life, activity_life, fact_life, case_life)


def generate(total: int, seed: int) -> list[Envelope]:
    """`total` events of aggregates' lives, interleaved (each life in its own order)."""
    rng = random.Random(seed)  # noqa: S311  # a reproducible workload, no secret
    lives: list[list[EventContract]] = []
    count = 0
    n = 0
    while count < total:
        life = LIVES[n % len(LIVES)](n)
        lives.append(life)
        count += len(life)
        n += 1
    cursors = [0] * len(lives)
    open_lives = list(range(len(lives)))
    envelopes: list[Envelope] = []
    while open_lives and len(envelopes) < total:
        pick = rng.randrange(len(open_lives))
        index = open_lives[pick]
        contract = lives[index][cursors[index]]
        cursors[index] += 1
        if cursors[index] == len(lives[index]):
            open_lives[pick] = open_lives[-1]
            open_lives.pop()
        nid = len(envelopes) + 1
        aggregate = uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{index}")
        envelopes.append(
            Envelope(
                event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{index}/{cursors[index]}"),
                event_type=contract.event_type,
                schema_version=contract.schema_version,
                service="registry",
                city_id=f"city-{index % CITIES}",
                aggregate_id=aggregate,
                aggregate_version=cursors[index],
                notification_id=nid,
                occurred_at=START + timedelta(seconds=nid),
                traceparent="",
                payload=contract.model_dump(mode="json"),
            )
        )
    return envelopes


@contextmanager
def mongodb() -> Iterator[str]:
    external = os.environ.get("MONGODB_URI")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory() as tmp, start_secantus(Path(tmp)) as server:
        yield server.address


async def digest(client: AsyncMongoClient[Any], database: str, names: list[str]) -> str:
    hashed = hashlib.sha256()
    for name in names:
        async for doc in client[database][name].find({}).sort("_id", 1):
            hashed.update(json_util.dumps(doc, sort_keys=True).encode())
    return hashed.hexdigest()[:16]


async def run(uri: str, envelopes: list[Envelope], page: int) -> dict[str, Any]:
    commands = Commands()
    client: AsyncMongoClient[Any] = AsyncMongoClient(uri, tz_aware=True, event_listeners=[commands])
    database = f"bench_{uuid.uuid4().hex[:8]}"
    (subscription,) = SUBSCRIPTIONS
    consumer = TrackedConsumer(
        upstream="registry",
        projections=subscription.projections,
        client=client,
        database=database,
        upstream_target="",
        topic="",
        token=lambda: "",
    )
    try:
        await consumer.prepare()
        commands.counts.clear()
        started = time.perf_counter()
        for first in range(0, len(envelopes), page):
            await consumer.apply_page(envelopes[first : first + page], "catch-up")
        seconds = time.perf_counter() - started
        sent = sum(commands.counts.values())
        names = sorted(
            name for p in subscription.projections for name in getattr(p, "collections", ())
        )
        return {
            "events": len(envelopes),
            "page": page,
            "seconds": round(seconds, 3),
            "events_per_s": round(len(envelopes) / seconds, 1),
            "commands": sent,
            "commands_per_page": round(sent / -(-len(envelopes) // page), 1),
            "commands_per_event": round(sent / len(envelopes), 3),
            "by_command": dict(commands.counts.most_common()),
            "digest": await digest(client, database, names),
        }
    finally:
        await client.drop_database(database)
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--page", type=int, default=READ_LIMIT)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    envelopes = generate(args.events, args.seed)
    with mongodb() as uri:
        result = asyncio.run(run(uri, envelopes, args.page))
    print(
        f"{result['events']:,} registry events in pages of {result['page']}: "
        f"{result['seconds']} s, {result['events_per_s']:,} events/s; "
        f"{result['commands']:,} MongoDB commands ({result['commands_per_page']} a page, "
        f"{result['commands_per_event']} an event): {result['by_command']}; "
        f"read models digest {result['digest']}"
    )
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
