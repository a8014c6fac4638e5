"""Recompute every monthly scorecard of a federation from its events.

Generates --cities x --months worth of upstream events with the contract's payloads (by
default 100 cities x 12 months, about 1.0M events: cities, practices and passports, activities
with announcements, releases and reports, recognized improvement facts, problems solved with
external resources, closed city-problem polls and their ballots), with a few late facts for
months the curators had already signed. Then, timed, it does what a rebuild does minus the
database round trips: turns every envelope into the KPI facts (the projection's own
functions), groups them as the read-model queries do, and scores every city-month with the
default policy (the same pure functions the service uses). It prints events per second and
the total time, and a digest of all scorecards: two runs with the same --seed print the same
digest (determinism).

    uv run python bench/kpi_recompute.py [--cities N] [--months N] [--seed N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kpi.domain import scoring
from kpi.domain.policy import DEFAULT_POLICY
from kpi.domain.scoring import Closure, Evaluation, Fact, score_month
from kpi.projections import REGISTRY_FACTS, VOTING_FACTS
from lmp_kit.envelope import Envelope

YEAR = 2026
BALLOTS_PER_POLL = 400
POLLS_PER_MONTH = 2
ACTIVITIES_PER_MONTH = 8
FACT_OF = {**REGISTRY_FACTS, **VOTING_FACTS}


class Generator:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)  # noqa: S311  # reproducible data, not secrets
        self.nid = 0
        self.events: list[Envelope] = []

    def emit(  # noqa: PLR0913, PLR0917  # the parts of an envelope, each named
        self,
        event_type: str,
        city: str,
        aggregate: uuid.UUID,
        at: datetime,
        payload: dict[str, object],
        service: str = "registry",
    ) -> None:
        self.nid += 1
        self.events.append(
            Envelope.model_construct(
                event_id=uuid.UUID(int=self.random.getrandbits(128)),
                event_type=event_type,
                schema_version=1,
                service=service,
                city_id=city,
                aggregate_id=aggregate,
                aggregate_version=1,
                notification_id=self.nid,
                occurred_at=at,
                traceparent="",
                payload=payload,
            )
        )

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.random.getrandbits(128))

    def moment(self, month: int) -> datetime:
        day = self.random.randint(1, 27)
        return datetime(YEAR, month, day, self.random.randint(0, 23), tzinfo=UTC)

    def city(self, city: str, months: int) -> None:
        start = datetime(YEAR, 1, 1, tzinfo=UTC)
        self.emit("City.Registered", city, self.new_id(), start, {"voter_target": 700})
        for number in range(months):
            month = number + 1
            label = f"{YEAR}-{month:02d}"
            practice = self.new_id()
            self.emit("Practice.Registered", city, practice, self.moment(month), {"kind": "own"})
            if self.random.random() < 0.6:  # noqa: PLR2004  # share of practices packaged
                self.emit(
                    "Practice.PassportApproved",
                    city,
                    practice,
                    self.moment(month),
                    {"version": 9, "review_id": f"review-{practice}", "approved_by": "wg"},
                )
            for _ in range(ACTIVITIES_PER_MONTH):
                self.activity(city, month)
            for _ in range(self.random.randint(0, 3)):
                self.emit(
                    "ImprovementFact.Recognized",
                    city,
                    self.new_id(),
                    self.moment(month),
                    {"month": label},
                )
            for _ in range(self.random.randint(0, 2)):
                self.emit(
                    "Problem.Solved",
                    city,
                    self.new_id(),
                    self.moment(month),
                    {"solved_with_external_resources": True},
                )
            self.emit(
                "ExternalResourceCase.Recorded",
                city,
                self.new_id(),
                self.moment(month),
                {"month": label, "problem_id": None},
            )
            for _ in range(POLLS_PER_MONTH):
                self.poll(city, month)
            if month > 1 and self.random.random() < 0.1:  # noqa: PLR2004  # late facts
                late = datetime(YEAR, month, 28, tzinfo=UTC)
                previous = f"{YEAR}-{month - 1:02d}"
                self.emit(
                    "ImprovementFact.Recognized", city, self.new_id(), late, {"month": previous}
                )

    def activity(self, city: str, month: int) -> None:
        activity = self.new_id()
        held = self.moment(month)
        speakers = [{"person_id": f"p{self.random.randint(1, 12)}"} for _ in range(3)]
        self.emit(
            "Activity.Registered",
            city,
            activity,
            held,
            {
                "title": f"Meeting {activity.hex[:6]}",
                "held_on": held.date().isoformat(),
                "speakers": speakers,
                "joint_action": self.random.random() < 0.3,  # noqa: PLR2004  # share of joint actions
                "branding_used": True,
            },
        )
        for kind in ("AnnouncementPublished", "PressReleasePublished", "ReportFiled"):
            if self.random.random() < 0.97:  # noqa: PLR2004  # most activities are complete
                self.emit(f"Activity.{kind}", city, activity, held + timedelta(hours=1), {})

    def poll(self, city: str, month: int) -> None:
        poll = self.new_id()
        closed = self.moment(month)
        for voter in self.random.sample(range(3000), BALLOTS_PER_POLL):
            self.emit(
                "Ballot.Cast",
                city,
                self.new_id(),
                closed - timedelta(hours=2),
                {"poll_id": str(poll), "pseudonym": f"{voter:064x}"},
                service="voting",
            )
        self.emit(
            "Poll.Closed",
            city,
            poll,
            closed,
            {"kind": "city_problem", "distinct_voters": BALLOTS_PER_POLL},
            service="voting",
        )


def to_fact(envelope: Envelope) -> Fact | None:
    document = FACT_OF[envelope.event_type](envelope)
    if document is None:
        return None
    return Fact(
        event_id=document["_id"],
        kind=document["kind"],
        month=document["month"],
        occurred_at=document["occurred_at"],
        ref=document["ref"],
        data=document["data"],
    )


def recompute(
    events: list[Envelope], months: int, closures: dict[str, dict[str, list[Closure]]]
) -> list[scoring.Scorecard]:
    cumulative: dict[str, list[Fact]] = defaultdict(list)
    monthly: dict[tuple[str, str], list[Fact]] = defaultdict(list)
    by_ref: dict[str, list[Fact]] = defaultdict(list)
    for envelope in events:
        fact = to_fact(envelope)
        if fact is None:
            continue
        city = envelope.city_id
        if fact.kind in scoring.CUMULATIVE_KINDS:
            cumulative[city].append(fact)
        elif fact.kind in scoring.ACTIVITY_PARTS or fact.kind == scoring.BALLOT:
            by_ref[fact.ref].append(fact)
        else:
            monthly[city, fact.month].append(fact)
            occurred = scoring.month_of(fact.occurred_at)
            if occurred > fact.month:
                monthly[city, occurred].append(fact)
    cards = []
    for city in sorted(cumulative):
        for number in range(1, months + 1):
            month = f"{YEAR}-{number:02d}"
            facts = [*cumulative[city], *monthly[city, month]]
            facts += [
                part
                for fact in monthly[city, month]
                if fact.kind in {scoring.ACTIVITY, scoring.POLL_CLOSED}
                for part in by_ref[fact.ref]
            ]
            evaluation = Evaluation(Decimal("0.8"), True, True, "ok", "curator", f"e-{city}")  # noqa: FBT003  # K6, K7 judgements
            cards.append(
                score_month(
                    city,
                    month,
                    facts=facts,
                    closures=closures.get(city, {}),
                    evaluation=evaluation,
                    policy=DEFAULT_POLICY,
                )
            )
    return cards


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cities", type=int, default=100)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()

    started = time.perf_counter()
    generator = Generator(args.seed)
    cities = [f"city-{n:03d}" for n in range(args.cities)]
    for city in cities:
        generator.city(city, args.months)
    events = generator.events
    closures = {
        city: {
            f"{YEAR}-{n:02d}": [Closure(signed_at=datetime(YEAR, n + 1, 5, tzinfo=UTC))]
            for n in range(1, min(args.months, 11) + 1)
        }
        for city in cities
    }
    generated = time.perf_counter() - started
    print(
        f"generated {len(events):,} events for {args.cities} cities x {args.months} months "
        f"in {generated:.1f} s"
    )

    started, cpu_started = time.perf_counter(), time.process_time()
    cards = recompute(events, args.months, closures)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    digest = hashlib.sha256(
        json.dumps([c.as_payload() for c in cards], sort_keys=True).encode()
    ).hexdigest()
    failed = sum(1 for c in cards if c.verdict == scoring.FAILED)
    print(f"recomputed {len(cards):,} scorecards ({failed:,} failed by a knock-out)")
    print(f"events/s: {len(events) / elapsed:,.0f}")
    print(f"total time: {elapsed:.1f} s (target <= 60 s); CPU time of this process {cpu:.1f} s")
    print(f"scorecards digest: {digest[:16]}")


if __name__ == "__main__":
    main()
