from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from kpi.domain.policy import ScoringPolicy

CITY = "city"
PRACTICE = "practice"
PASSPORT = "passport"
POLL_CLOSED = "poll_closed"
BALLOT = "ballot"
IMPROVEMENT = "improvement"
PROBLEM_SOLVED = "problem_solved"
EXTERNAL_CASE = "external_case"
ACTIVITY = "activity"
ANNOUNCEMENT = "announcement"
PRESS_RELEASE = "press_release"
REPORT = "report"
PRACTICE_CLASSIFIED = "practice_classified"
PROBLEM_LINK = "problem_link"
CUMULATIVE_KINDS = (CITY, PRACTICE, PASSPORT, PRACTICE_CLASSIFIED, PROBLEM_LINK)
ACTIVITY_PARTS = (ANNOUNCEMENT, PRESS_RELEASE, REPORT)
CITY_PROBLEM_POLL = "city_problem"
UNCLASSIFIED = "unclassified"

FOUR_PLACES = Decimal("0.0001")
TWO_PLACES = Decimal("0.01")

PASSED = "passed"
FAILED = "failed"
PENDING = "pending"

KNOCKOUT_TITLES = {
    "K1": "at least {minimum_packaged} packaged practices",
    "K2": "every activity has an announcement and a press release",
    "K3": "positive change demonstrated in the month",
    "K4": "at least {minimum_speakers} speakers",
    "K5": "a joint agreed action of the enterprise and the administration",
    "K6": "programme branding (GSR attributes) used",
    "K7": "methodology followed, incl. reaction speed and correction",
    "K8": "every activity has a report (attendee list and photos)",
}


def month_of(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}"


@dataclass(frozen=True)
class Fact:
    event_id: str
    kind: str
    month: str
    occurred_at: datetime
    ref: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Closure:
    """A time during which a month was closed: from the curator's signature to an amendment."""

    signed_at: datetime
    reopened_at: datetime | None = None

    def covers(self, moment: datetime) -> bool:
        return self.signed_at <= moment and (self.reopened_at is None or moment < self.reopened_at)


@dataclass(frozen=True)
class Evaluation:
    score: Decimal
    branding_used: bool
    methodology_followed: bool
    conclusion: str
    curator: str
    event_id: str


@dataclass(frozen=True)
class Indicator:
    name: str
    weight: int
    achieved: int
    target: int
    attainment: Decimal
    points: Decimal
    evidence: tuple[str, ...]
    note: str = ""
    by_direction: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class KnockOut:
    code: str
    title: str
    outcome: str
    reason: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Scorecard:
    city_id: str
    month: str
    policy_version: str
    indicators: tuple[Indicator, ...]
    knockouts: tuple[KnockOut, ...]
    total: Decimal
    verdict: str

    @property
    def failed_knockouts(self) -> tuple[str, ...]:
        return tuple(k.code for k in self.knockouts if k.outcome == FAILED)

    def indicator(self, name: str) -> Indicator:
        return next(i for i in self.indicators if i.name == name)

    def knockout(self, code: str) -> KnockOut:
        return next(k for k in self.knockouts if k.code == code)

    def as_payload(self) -> dict[str, Any]:
        return {
            "city_id": self.city_id,
            "month": self.month,
            "policy_version": self.policy_version,
            "total": str(self.total),
            "verdict": self.verdict,
            "indicators": [
                {
                    "name": i.name,
                    "weight": i.weight,
                    "achieved": i.achieved,
                    "target": i.target,
                    "attainment": str(i.attainment),
                    "points": str(i.points),
                    "evidence": list(i.evidence),
                    "note": i.note,
                    "by_direction": [{"direction": d, "voters": n} for d, n in i.by_direction],
                }
                for i in self.indicators
            ],
            "knockouts": [
                {
                    "code": k.code,
                    "title": k.title,
                    "outcome": k.outcome,
                    "reason": k.reason,
                    "evidence": list(k.evidence),
                }
                for k in self.knockouts
            ],
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Scorecard:
        return cls(
            city_id=payload["city_id"],
            month=payload["month"],
            policy_version=payload["policy_version"],
            total=Decimal(payload["total"]),
            verdict=payload["verdict"],
            indicators=tuple(
                Indicator(
                    name=i["name"],
                    weight=int(i["weight"]),
                    achieved=int(i["achieved"]),
                    target=int(i["target"]),
                    attainment=Decimal(i["attainment"]),
                    points=Decimal(i["points"]),
                    evidence=tuple(i["evidence"]),
                    note=i["note"],
                    by_direction=tuple(
                        (str(d["direction"]), int(d["voters"])) for d in i.get("by_direction", [])
                    ),
                )
                for i in payload["indicators"]
            ),
            knockouts=tuple(
                KnockOut(
                    code=k["code"],
                    title=k["title"],
                    outcome=k["outcome"],
                    reason=k["reason"],
                    evidence=tuple(k["evidence"]),
                )
                for k in payload["knockouts"]
            ),
        )


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - (number == 1):04d}-{(number - 2) % 12 + 1:02d}"


def effective_month(fact: Fact, closures: Mapping[str, Sequence[Closure]]) -> str:
    """A fact for a month that was closed when it occurred counts in the month it occurred in,
    or in the next month when its own month was signed before it ended (closed early)."""
    if any(c.covers(fact.occurred_at) for c in closures.get(fact.month, ())):
        return max(next_month(fact.month), month_of(fact.occurred_at))
    return fact.month


def attainment_of(achieved: int, target: int) -> Decimal:
    if target <= 0:
        return Decimal(0).quantize(FOUR_PLACES)
    return min(Decimal(1), Decimal(achieved) / Decimal(target)).quantize(
        FOUR_PLACES, ROUND_HALF_EVEN
    )


def indicator(  # noqa: PLR0913, PLR0917  # the parts of an indicator, each named
    name: str,
    policy: ScoringPolicy,
    achieved: int,
    target: int,
    evidence: Iterable[str],
    note: str = "",
    attainment: Decimal | None = None,
) -> Indicator:
    reached = attainment_of(achieved, target) if attainment is None else attainment
    weight = policy.weights[name]
    return Indicator(
        name=name,
        weight=weight,
        achieved=achieved,
        target=target,
        attainment=reached,
        points=(weight * reached).quantize(TWO_PLACES, ROUND_HALF_EVEN),
        evidence=tuple(sorted(set(evidence))),
        note=note,
    )


def knockout(
    code: str,
    *,
    failed: bool | None,
    reason: str,
    evidence: Iterable[str],
    policy: ScoringPolicy | None = None,
) -> KnockOut:
    """A knock-out's outcome; K1's and K4's titles carry the thresholds of their `policy`."""
    outcome = PENDING if failed is None else FAILED if failed else PASSED
    title = KNOCKOUT_TITLES[code]
    if policy is not None:
        title = title.format(
            minimum_packaged=policy.minimum_packaged, minimum_speakers=policy.minimum_speakers
        )
    return KnockOut(code, title, outcome, reason, tuple(sorted(set(evidence))))


@dataclass(frozen=True)
class MonthFacts:
    """The facts that count for one city and month, once the closures have been applied."""

    month: str
    in_month: tuple[Fact, ...]
    up_to_month: tuple[Fact, ...]
    everything: tuple[Fact, ...]

    @classmethod
    def sort(
        cls, month: str, facts: Iterable[Fact], closures: Mapping[str, Sequence[Closure]]
    ) -> MonthFacts:
        everything = tuple(sorted(facts, key=lambda f: (f.occurred_at, f.event_id)))
        placed = [(effective_month(f, closures), f) for f in everything]
        return cls(
            month=month,
            in_month=tuple(f for m, f in placed if m == month),
            up_to_month=tuple(f for m, f in placed if m <= month),
            everything=everything,
        )

    def of(self, kind: str) -> list[Fact]:
        return [f for f in self.in_month if f.kind == kind]


def score_month(  # noqa: PLR0913  # what a scorecard depends on, each named
    city_id: str,
    month: str,
    *,
    facts: Iterable[Fact],
    closures: Mapping[str, Sequence[Closure]],
    evaluation: Evaluation | None,
    policy: ScoringPolicy,
) -> Scorecard:
    sorted_facts = MonthFacts.sort(month, facts, closures)
    packaged = packaged_indicator(sorted_facts, policy)
    indicators = (
        packaged,
        voting_indicator(sorted_facts, policy),
        improvement_indicator(sorted_facts, policy),
        external_resources_indicator(sorted_facts, policy),
        expert_indicator(evaluation, policy),
    )
    knockouts = (
        k1_packaged(packaged, policy),
        *activity_knockouts(sorted_facts, policy),
        k3_positive_change(sorted_facts),
        *curator_knockouts(evaluation),
    )
    ordered = tuple(sorted(knockouts, key=lambda k: k.code))
    outcomes = {k.outcome for k in ordered}
    verdict = FAILED if FAILED in outcomes else PENDING if PENDING in outcomes else PASSED
    return Scorecard(
        city_id=city_id,
        month=month,
        policy_version=policy.version,
        indicators=indicators,
        knockouts=ordered,
        total=sum((i.points for i in indicators), Decimal("0.00")),
        verdict=verdict,
    )


def is_council_passport(fact: Fact) -> bool:
    """A passport packages a practice only after the Expert Council's conclusion: one approved
    before that rule (no review on the event) is not counted (docs/decisions/0002-registry.md)."""
    return fact.kind == PASSPORT and bool(fact.data.get("review_id"))


def packaged_indicator(facts: MonthFacts, policy: ScoringPolicy) -> Indicator:
    own = {f.ref for f in facts.everything if f.kind == PRACTICE and f.data.get("kind") == "own"}
    passports = [f for f in facts.up_to_month if is_council_passport(f) and f.ref in own]
    practices = {f.ref for f in passports}
    return indicator(
        "packaged",
        policy,
        len(practices),
        policy.packaged_target,
        (f.event_id for f in passports),
        note=f"{len(practices)} own practices with an approved passport by {facts.month}",
    )


def voting_indicator(facts: MonthFacts, policy: ScoringPolicy) -> Indicator:
    polls = [f for f in facts.of(POLL_CLOSED) if f.data.get("kind") == CITY_PROBLEM_POLL]
    poll_ids = {f.ref for f in polls}
    ballots = [f for f in facts.everything if f.kind == BALLOT and f.ref in poll_ids]
    voters = len({f.data["pseudonym"] for f in ballots})
    # The target in force: the latest set in or before the month (a change made in a month
    # closed early counts from the next, as every late fact); before the city registered, its
    # first target.
    cities = [f for f in facts.everything if f.kind == CITY]
    in_force = [f for f in facts.up_to_month if f.kind == CITY] or cities[:1]
    target = int(in_force[-1].data["voter_target"]) if in_force else 0
    evidence = [f.event_id for f in (*polls, *ballots, *in_force[-1:])]
    base = voters_by_direction(facts, polls, ballots)
    if not polls:
        return replace(
            indicator(
                "voting",
                policy,
                voters,
                target,
                evidence,
                note=f"no city-problem poll closed in {facts.month}",
                attainment=Decimal(0).quantize(FOUR_PLACES),
            ),
            by_direction=base,
        )
    if not target:
        note = "the city's voter target is unknown"
    else:
        note = f"{len(polls)} city-problem polls closed, {voters} distinct voters of {target}"
    return replace(
        indicator("voting", policy, voters, target, evidence, note=note), by_direction=base
    )


def voters_by_direction(
    facts: MonthFacts, polls: Sequence[Fact], ballots: Sequence[Fact]
) -> tuple[tuple[str, int], ...]:
    """The base by project direction: for each function of the municipal classifier, the
    distinct voters of the month's city-problem polls that put an item of that direction to
    the vote. A practice's directions are its classifier functions (the latest
    classification); a problem's, those of the practices that solve it; a poll with no
    classified item counts its voters as `unclassified`."""
    functions = practice_functions(facts.everything)
    solved_by: dict[str, set[str]] = {}
    for fact in facts.everything:
        if fact.kind == PRACTICE:
            for problem_id in fact.data.get("problem_ids", ()):
                solved_by.setdefault(str(problem_id), set()).add(fact.ref)
        elif fact.kind == PROBLEM_LINK:
            solved_by.setdefault(str(fact.data["problem_id"]), set()).add(fact.ref)

    def directions(option: Sequence[str]) -> set[str]:
        ref_kind, ref_id = option[0], option[1]
        if ref_kind == "practice":
            return set(functions.get(ref_id, ()))
        if ref_kind == "problem":
            return {f for p in solved_by.get(ref_id, ()) for f in functions.get(p, ())}
        return set()

    of_poll = {
        poll.ref: {d for option in poll.data.get("options", ()) for d in directions(option)}
        or {UNCLASSIFIED}
        for poll in polls
    }
    voters: dict[str, set[str]] = {}
    for ballot in ballots:
        for direction in of_poll.get(ballot.ref, ()):
            voters.setdefault(direction, set()).add(str(ballot.data["pseudonym"]))
    return tuple((d, len(voters[d])) for d in sorted(voters, key=lambda d: (d == UNCLASSIFIED, d)))


def practice_functions(facts: Iterable[Fact]) -> dict[str, tuple[str, ...]]:
    """Each practice's classifier functions: a classification replaces those registered."""
    functions: dict[str, tuple[str, ...]] = {}
    for fact in facts:  # in the order they occurred
        if fact.kind in {PRACTICE, PRACTICE_CLASSIFIED}:
            functions[fact.ref] = tuple(fact.data.get("functions", ()))
    return functions


def improvement_indicator(facts: MonthFacts, policy: ScoringPolicy) -> Indicator:
    recognized = facts.of(IMPROVEMENT)
    return indicator(
        "improvement",
        policy,
        len(recognized),
        policy.improvement_target,
        (f.event_id for f in recognized),
        note=f"{len(recognized)} improvement facts recognized for {facts.month}",
    )


def external_resources_indicator(facts: MonthFacts, policy: ScoringPolicy) -> Indicator:
    tasks: dict[str, list[str]] = {}
    for fact in facts.of(PROBLEM_SOLVED):
        tasks.setdefault(fact.ref, []).append(fact.event_id)
    for fact in facts.of(EXTERNAL_CASE):
        task = str(fact.data.get("problem_id") or fact.ref)
        tasks.setdefault(task, []).append(fact.event_id)
    return indicator(
        "external_resources",
        policy,
        len(tasks),
        policy.external_resources_target,
        (event_id for ids in tasks.values() for event_id in ids),
        note=f"{len(tasks)} city tasks solved with external resources",
    )


def expert_indicator(evaluation: Evaluation | None, policy: ScoringPolicy) -> Indicator:
    if evaluation is None:
        return indicator(
            "expert",
            policy,
            0,
            1,
            (),
            note="awaiting the curator's evaluation",
            attainment=Decimal(0).quantize(FOUR_PLACES),
        )
    return indicator(
        "expert",
        policy,
        0,
        1,
        (evaluation.event_id,),
        note=f"curator {evaluation.curator}",
        attainment=evaluation.score.quantize(FOUR_PLACES, ROUND_HALF_EVEN),
    )


def k1_packaged(packaged: Indicator, policy: ScoringPolicy) -> KnockOut:
    failed = packaged.achieved < policy.minimum_packaged
    reason = (
        f"only {packaged.achieved} packaged practices; at least {policy.minimum_packaged} needed"
        if failed
        else f"{packaged.achieved} packaged practices"
    )
    return knockout("K1", failed=failed, reason=reason, evidence=packaged.evidence, policy=policy)


def activity_knockouts(facts: MonthFacts, policy: ScoringPolicy) -> list[KnockOut]:
    activities = facts.of(ACTIVITY)
    ids = {f.ref for f in activities}
    parts: dict[tuple[str, str], list[str]] = {}
    for fact in facts.everything:
        if fact.kind in ACTIVITY_PARTS and fact.ref in ids:
            parts.setdefault((fact.ref, fact.kind), []).append(fact.event_id)

    def missing(*kinds: str) -> list[Fact]:
        return [a for a in activities if any((a.ref, k) not in parts for k in kinds)]

    def present(*kinds: str) -> list[str]:
        return [e for a in activities for k in kinds for e in parts.get((a.ref, k), [])]

    unannounced = missing(ANNOUNCEMENT, PRESS_RELEASE)
    unreported = missing(REPORT)
    speakers = {s for a in activities for s in a.data.get("speakers", ())}
    joint = [a for a in activities if a.data.get("joint_action")]
    return [
        knockout(
            "K2",
            failed=bool(unannounced),
            reason=unpublished(unannounced, parts)
            or f"{len(activities)} activities, all announced and released",
            evidence=[a.event_id for a in unannounced] or present(ANNOUNCEMENT, PRESS_RELEASE),
        ),
        knockout(
            "K4",
            failed=len(speakers) < policy.minimum_speakers,
            reason=f"{len(speakers)} distinct speakers in {facts.month}; "
            f"at least {policy.minimum_speakers} needed",
            evidence=[a.event_id for a in activities if a.data.get("speakers")],
            policy=policy,
        ),
        knockout(
            "K5",
            failed=not joint,
            reason=f"{len(joint)} joint actions of the enterprise and the administration"
            if joint
            else f"no joint action of the enterprise and the administration in {facts.month}",
            evidence=[a.event_id for a in joint],
        ),
        knockout(
            "K8",
            failed=bool(unreported),
            reason=titled("without a report", unreported)
            or f"{len(activities)} activities, all reported",
            evidence=[a.event_id for a in unreported] or present(REPORT),
        ),
    ]


def unpublished(activities: list[Fact], parts: Mapping[tuple[str, str], list[str]]) -> str:
    """K2's reason: each activity that lacks its announcement or its press release, saying
    which of the two it lacks (the seed's "анонс и релиз": both are required)."""
    if not activities:
        return ""
    lacking = []
    for activity in activities:
        missing = [
            name
            for kind, name in ((ANNOUNCEMENT, "announcement"), (PRESS_RELEASE, "press release"))
            if (activity.ref, kind) not in parts
        ]
        lacking.append(f"{named(activity)} has no {' and no '.join(missing)}")
    return f"{len(activities)} activities lack an announcement or a press release: " + "; ".join(
        lacking
    )


COUNCIL_SITTING = "council_sitting"


def titled(what: str, activities: list[Fact]) -> str:
    if not activities:
        return ""
    names = ", ".join(named(a) for a in activities)
    return f"{len(activities)} activities {what}: {names}"


def named(activity: Fact) -> str:
    """A council sitting is recorded by the Expert Council's held session, with its date only
    (decision 0006): the reason says who completes it."""
    name = repr(activity.data.get("title", activity.ref))
    if activity.data.get("activity_kind") == COUNCIL_SITTING:
        return f"{name} (the Expert Council's sitting: the working group publishes it)"
    return name


def k3_positive_change(facts: MonthFacts) -> KnockOut:
    recognized = facts.of(IMPROVEMENT)
    return knockout(
        "K3",
        failed=not recognized,
        reason=f"{len(recognized)} recognized improvement facts"
        if recognized
        else f"no recognized improvement fact demonstrates positive change in {facts.month}",
        evidence=[f.event_id for f in recognized],
    )


def curator_knockouts(evaluation: Evaluation | None) -> list[KnockOut]:
    if evaluation is None:
        return [
            knockout("K6", failed=None, reason="awaiting the curator's judgement", evidence=()),
            knockout("K7", failed=None, reason="awaiting the curator's judgement", evidence=()),
        ]
    return [
        knockout(
            "K6",
            failed=not evaluation.branding_used,
            reason="the curator found programme branding used"
            if evaluation.branding_used
            else "the curator found programme branding not used",
            evidence=(evaluation.event_id,),
        ),
        knockout(
            "K7",
            failed=not evaluation.methodology_followed,
            reason="the curator found the methodology followed"
            if evaluation.methodology_followed
            else "the curator found the methodology not followed",
            evidence=(evaluation.event_id,),
        ),
    ]
