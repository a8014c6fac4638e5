from __future__ import annotations

import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    PermissionDeniedError,
)

from expertise.domain.council import CRITERIA, Council
from expertise.domain.sessions import CouncilSession

ROUNDS = ("primary", "secondary")
PRACTICE_KINDS = ("own", "external", "initiative")
PRIMARY_VERDICTS = ("approved_for_vote", "approved_for_passport", "needs_revision", "rejected")
SECONDARY_VERDICTS = ("prioritized", "rejected")
SCORE_RANGE = range(1, 6)
RATIONALE_MAX = 10_000
TEXT_MAX = 10_000
RANK_MAX = 10_000
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PracticeFacts:
    """What the registry told us about a practice: enough to open its review."""

    practice_id: str
    city_id: str
    kind: str
    title: str
    authors: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The council's secondary decision on a prioritized practice (stage 5)."""

    priority_rank: int | None = None
    expected_results: str = ""
    deadlines: str = ""
    resource_sources: str = ""
    regulation_proposals: str = ""


@dataclass(frozen=True)
class Summary:
    experts: int
    aggregate: Decimal | None
    minimum: Decimal | None
    maximum: Decimal | None
    stdev: Decimal | None
    per_criterion: dict[str, Decimal]


class Review(CityAggregate):
    practice_id: str
    practice_kind: str
    practice_title: str
    round: str
    weights: dict[str, int]
    interested: list[str]
    recused: dict[str, str]
    scores: dict[str, dict[str, int]]
    verdict: str | None
    rationale: str
    session_id: str | None
    plan: dict[str, Any]
    aggregate_score: str | None
    assessment: dict[str, Any] | None

    @staticmethod
    def create_id(practice_id: str, round: str) -> UUID:  # noqa: A002  # the domain's word
        return uuid5(NAMESPACE_URL, f"lmp:expertise:review:{practice_id}:{round}")

    @classmethod
    def open(cls, practice: PracticeFacts, round: str, council: Council) -> Review:  # noqa: A002  # the domain's word
        check_round(round)
        check_practice(practice)
        interested = sorted({*practice.authors, *practice.participants})
        review = cls(
            city_id=practice.city_id,
            practice_id=practice.practice_id,
            practice_kind=practice.kind,
            practice_title=practice.title,
            round=round,
            weights=dict(council.weights),
            interested=interested,
        )
        for person_id in interested:
            if council.is_member(person_id):
                review.recuse(person_id)
        return review

    @event("Opened")
    def __init__(  # noqa: PLR0913  # the facts a review is opened with, each named
        self,
        *,
        city_id: str,
        practice_id: str,
        practice_kind: str,
        practice_title: str,
        round: str,  # noqa: A002  # the domain's word
        weights: dict[str, int],
        interested: list[str],
    ) -> None:
        self.city_id = city_id
        self.practice_id = practice_id
        self.practice_kind = practice_kind
        self.practice_title = practice_title
        self.round = round
        self.weights = dict(weights)
        self.interested = list(interested)
        self.recused = {}
        self.scores = {}
        self.verdict = None
        self.rationale = ""
        self.session_id = None
        self.plan = {}
        self.aggregate_score = None
        self.assessment = None

    def recuse(self, person_id: str) -> None:
        if person_id not in self.recused:
            self._recuse_expert(person_id, "author or participant of the practice")

    @event("ExpertRecused")
    def _recuse_expert(self, person_id: str, reason: str) -> None:
        self.recused[person_id] = reason

    @property
    def concluded(self) -> bool:
        return self.verdict is not None

    def score(self, person_id: str, scores: dict[str, int], council: Council) -> None:
        self.check_may_score(person_id, council)
        self.check_open()
        if self.round != "secondary":
            msg = "only a secondary review is scored; a primary review gets the council's verdict"
            raise FailedPreconditionError(msg)
        if person_id in self.scores:
            msg = f"{person_id} has already scored practice {self.practice_id} in this round"
            raise AlreadyExistsError(msg)
        self._score(person_id, check_scores(scores))

    @event("Scored")
    def _score(self, person_id: str, scores: dict[str, int]) -> None:
        self.scores[person_id] = dict(scores)

    def assess(self, person_id: str, scores: dict[str, int], rationale: str) -> None:
        self.check_open()
        if self.round != "secondary":
            msg = (
                "only a secondary review is assessed by the working group (stage 5); a primary "
                "review gets the council's verdict"
            )
            raise FailedPreconditionError(msg)
        checked = check_scores(scores)
        reasons = check_rationale(rationale)
        current = self.assessment
        if current and (current["scores"], current["rationale"]) == (checked, reasons):
            return
        self.trigger_event(
            self.Assessed,
            person_id=person_id,
            scores=checked,
            rationale=reasons,
            revision=1 + (current["revision"] if current else 0),
        )

    class Assessed(CityAggregate.Event):
        """The working group's assessment; the aggregate keeps when it was recorded."""

        person_id: str
        scores: dict[str, int]
        rationale: str
        revision: int

        def apply(self, aggregate: Review) -> None:
            aggregate.assessment = {
                "person_id": self.person_id,
                "scores": dict(self.scores),
                "rationale": self.rationale,
                "revision": self.revision,
                "assessed_at": self.timestamp,
            }

    def check_assessed(self) -> None:
        if self.round == "secondary" and self.assessment is None:
            msg = (
                f"the working group has not assessed practice {self.practice_id} on the four "
                f"criteria ({', '.join(CRITERIA)}) yet: the city's working group records "
                "AssessPractice before the council fixes its priority"
            )
            raise FailedPreconditionError(msg)

    def check_may_score(self, person_id: str, council: Council) -> None:
        if not council.is_member(person_id):
            msg = f"{person_id} is not a member of the expert council; only members score"
            raise PermissionDeniedError(msg)
        if not council.may_review(person_id, self.city_id):
            msg = f"{person_id} may not review practices of city {self.city_id!r}"
            raise PermissionDeniedError(msg)
        if person_id in self.recused or person_id in self.interested:
            msg = (
                f"{person_id} is an author or participant of practice {self.practice_id} "
                "and is recused from its review"
            )
            raise PermissionDeniedError(msg)

    def check_open(self) -> None:
        if self.concluded:
            msg = f"the {self.round} review of practice {self.practice_id} is already concluded"
            raise FailedPreconditionError(msg)

    def conclude(  # noqa: PLR0913  # the decision's parts, each named
        self,
        *,
        by: str,
        verdict: str,
        rationale: str,
        session: CouncilSession,
        council: Council,
        plan: Plan | None = None,
    ) -> None:
        plan = plan or Plan()
        council.check_chair(by, "concludes a review")
        self.check_open()
        self.check_decision(verdict, rationale, plan)
        session.check_may_decide(self.city_id, self.practice_id)
        self.check_assessed()
        summary = self.summary()
        self._conclude(
            practice_id=self.practice_id,
            round=self.round,
            verdict=verdict,
            rationale=rationale.strip(),
            priority_rank=plan.priority_rank,
            aggregate_score=None if summary.aggregate is None else str(summary.aggregate),
            session_id=str(session.id),
            expected_results=plan.expected_results.strip(),
            deadlines=plan.deadlines.strip(),
            resource_sources=plan.resource_sources.strip(),
            regulation_proposals=plan.regulation_proposals.strip(),
        )

    @event("Concluded")
    def _conclude(  # noqa: PLR0913  # the payload of docs/events.md and the council's plan
        self,
        *,
        practice_id: str,
        round: str,  # noqa: A002  # the domain's word
        verdict: str,
        rationale: str,
        priority_rank: int | None,
        aggregate_score: str | None,
        session_id: str,
        expected_results: str,
        deadlines: str,
        resource_sources: str,
        regulation_proposals: str,
    ) -> None:
        del practice_id, round
        self.verdict = verdict
        self.rationale = rationale
        self.aggregate_score = aggregate_score
        self.session_id = session_id
        self.plan = {
            "priority_rank": priority_rank,
            "expected_results": expected_results,
            "deadlines": deadlines,
            "resource_sources": resource_sources,
            "regulation_proposals": regulation_proposals,
        }

    def check_decision(self, verdict: str, rationale: str, plan: Plan) -> None:
        allowed = PRIMARY_VERDICTS if self.round == "primary" else SECONDARY_VERDICTS
        if verdict not in allowed:
            msg = f"a {self.round} review's verdict is one of {', '.join(allowed)}, not {verdict!r}"
            raise InvalidArgumentError(msg)
        check_rationale(rationale)
        if verdict == "approved_for_passport" and self.practice_kind != "own":
            msg = (
                f"only own realized practices are approved for passport; practice "
                f"{self.practice_id} is {self.practice_kind}"
            )
            raise FailedPreconditionError(msg)
        check_plan(verdict, plan)

    def summary(self) -> Summary:
        return summarize(self.weights, self.scores)

    def weighted_score_of(self, person_id: str) -> Decimal:
        return weighted_score_of(self.weights, self.scores[person_id])

    def assessment_score(self) -> Decimal | None:
        if self.assessment is None:
            return None
        return weighted_score_of(self.weights, self.assessment["scores"])


def weighted_score_of(weights: dict[str, int], scores: dict[str, int]) -> Decimal:
    """An expert's weighted mean, in cents: as shown with the expert's scores."""
    return _cents(weighted_score(weights, scores))


def weighted_score(weights: dict[str, int], scores: dict[str, int]) -> Decimal:
    total_weight = sum(weights[c] for c in CRITERIA)
    weighted = sum(weights[c] * scores[c] for c in CRITERIA)
    return Decimal(weighted) / Decimal(total_weight)


def summarize(weights: dict[str, int], scores: dict[str, dict[str, int]]) -> Summary:
    if not scores:
        return Summary(0, None, None, None, None, {})
    by_expert = [weighted_score(weights, s) for s in scores.values()]
    return Summary(
        experts=len(by_expert),
        aggregate=_cents(sum(by_expert, Decimal(0)) / len(by_expert)),
        minimum=_cents(min(by_expert)),
        maximum=_cents(max(by_expert)),
        stdev=_cents(statistics.pstdev(by_expert)),
        per_criterion={
            c: _cents(Decimal(sum(s[c] for s in scores.values())) / len(scores)) for c in CRITERIA
        },
    )


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def check_round(round: str) -> str:  # noqa: A002  # the domain's word
    if round not in ROUNDS:
        msg = f"round must be one of {', '.join(ROUNDS)}, not {round!r}"
        raise InvalidArgumentError(msg)
    return round


def check_practice(practice: PracticeFacts) -> None:
    check_city_id(practice.city_id)
    try:
        UUID(practice.practice_id)
    except ValueError:
        msg = f"practice_id must be a UUID, not {practice.practice_id!r}"
        raise InvalidArgumentError(msg) from None
    if practice.kind not in PRACTICE_KINDS:
        msg = f"practice kind must be one of {', '.join(PRACTICE_KINDS)}, not {practice.kind!r}"
        raise InvalidArgumentError(msg)


def check_scores(scores: dict[str, int]) -> dict[str, int]:
    missing = [c for c in CRITERIA if c not in scores]
    unknown = sorted(set(scores) - set(CRITERIA))
    if missing or unknown:
        msg = f"score every criterion exactly once: {', '.join(CRITERIA)}"
        if missing:
            msg += f" (missing: {', '.join(missing)})"
        if unknown:
            msg += f" (unknown: {', '.join(unknown)})"
        raise InvalidArgumentError(msg)
    for criterion in CRITERIA:
        if scores[criterion] not in SCORE_RANGE:
            msg = (
                f"the score for {criterion} must be an integer from {SCORE_RANGE.start} to "
                f"{SCORE_RANGE.stop - 1}, not {scores[criterion]}"
            )
            raise InvalidArgumentError(msg)
    return {c: scores[c] for c in CRITERIA}


def check_rationale(rationale: str) -> str:
    if not rationale.strip() or len(rationale.strip()) > RATIONALE_MAX:
        msg = f"a rationale of 1 to {RATIONALE_MAX} characters is required"
        raise InvalidArgumentError(msg)
    return rationale.strip()


def check_plan(verdict: str, plan: Plan) -> None:
    if verdict == "prioritized":
        if plan.priority_rank is None or not 1 <= plan.priority_rank <= RANK_MAX:
            msg = f"a prioritized practice needs a priority_rank from 1 to {RANK_MAX}"
            raise InvalidArgumentError(msg)
        if not plan.expected_results.strip() or not plan.deadlines.strip():
            msg = "a prioritized practice needs its expected results and deadlines"
            raise InvalidArgumentError(msg)
    elif plan.priority_rank is not None:
        msg = f"only a prioritized practice has a priority_rank, not one {verdict}"
        raise InvalidArgumentError(msg)
    for name in ("expected_results", "deadlines", "resource_sources", "regulation_proposals"):
        if len(getattr(plan, name).strip()) > TEXT_MAX:
            msg = f"{name} must be at most {TEXT_MAX} characters"
            raise InvalidArgumentError(msg)
