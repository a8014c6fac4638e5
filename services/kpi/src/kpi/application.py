from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from lmp_kit.auth import Principal
from lmp_kit.domain import ServiceApplication, check_city_id
from lmp_kit.errors import FailedPreconditionError, NotFoundError

from kpi.domain.catalogue import PolicyCatalogue
from kpi.domain.checks import check_month
from kpi.domain.periods import KpiPeriod
from kpi.domain.policy import ScoringPolicy
from kpi.domain.scoring import Evaluation

# Who may call each use case (and for which cities) is kpi's access table (kpi.access), which
# the gRPC guard checks before the handler; these use cases hold the domain's rules only.


@dataclass(frozen=True)
class SigningBasis:
    evaluation: Evaluation
    version: int


def now_utc() -> datetime:
    return datetime.now(UTC)


class KpiApplication(ServiceApplication):
    def __init__(
        self, env: dict[str, str] | None = None, clock: Callable[[], datetime] = now_utc
    ) -> None:
        super().__init__(env=env)
        self.clock = clock

    def period(self, city_id: str, month: str) -> KpiPeriod | None:
        try:
            found: KpiPeriod = self.repository.get(KpiPeriod.create_id(city_id, month))
        except AggregateNotFoundError:
            return None
        return found

    def evaluate(  # noqa: PLR0913  # the parts of a curator's evaluation, each named
        self,
        actor: Principal,
        city_id: str,
        month: str,
        *,
        score: str,
        branding_used: bool,
        methodology_followed: bool,
        conclusion: str,
    ) -> KpiPeriod:
        check_city_id(city_id)
        check_month(month)
        period = self.period(city_id, month) or KpiPeriod.open(city_id, month)
        period.evaluate(
            actor.subject,
            score=score,
            branding_used=branding_used,
            methodology_followed=methodology_followed,
            conclusion=conclusion,
            now=self.clock(),
        )
        self.save(period)
        return period

    def signing_basis(self, city_id: str, month: str) -> SigningBasis:
        check_city_id(city_id)
        check_month(month)
        period = self.period(city_id, month)
        if period is None or period.evaluation is None:
            msg = (
                f"{city_id} {month} has no evaluation yet: submit the score, K6/K7 "
                "judgements and a conclusion first"
            )
            raise FailedPreconditionError(msg)
        period.check_awaiting_curator(self.clock(), "signing")
        return SigningBasis(evaluation_of(period), period.evaluation_version)

    def sign(
        self,
        actor: Principal,
        city_id: str,
        month: str,
        scorecard: dict[str, Any],
        evaluated_at_version: int,
    ) -> KpiPeriod:
        check_city_id(city_id)
        period = self.period(city_id, check_month(month))
        if period is None:
            msg = f"{city_id} {month} has no evaluation yet"
            raise FailedPreconditionError(msg)
        period.sign(actor.subject, scorecard, evaluated_at_version, self.clock())
        self.save(period)
        return period

    def close_reporting(self, actor: Principal, city_id: str, month: str, reason: str) -> KpiPeriod:
        check_city_id(city_id)
        check_month(month)
        period = self.period(city_id, month) or KpiPeriod.open(city_id, month)
        period.close_reporting(actor.subject, reason, self.clock())
        self.save(period)
        return period

    def amend(self, actor: Principal, city_id: str, month: str, reason: str) -> KpiPeriod:
        check_city_id(city_id)
        period = self.period(city_id, check_month(month))
        if period is None:
            msg = f"{city_id} {month} has never been closed; there is nothing to amend"
            raise NotFoundError(msg)
        period.amend(actor.subject, reason)
        self.save(period)
        return period

    def catalogue(self) -> PolicyCatalogue | None:
        try:
            found: PolicyCatalogue = self.repository.get(PolicyCatalogue.create_id())
        except AggregateNotFoundError:
            return None
        return found

    def introduce_policy(self, policy: ScoringPolicy) -> ScoringPolicy:
        catalogue = self.catalogue() or PolicyCatalogue.start()
        catalogue.introduce(policy)
        self.save(catalogue)
        return policy

    def policies(self) -> list[ScoringPolicy]:
        catalogue = self.catalogue()
        return catalogue.introduced() if catalogue else []


def evaluation_of(period: KpiPeriod) -> Evaluation:
    given = period.evaluation or {}
    return Evaluation(
        score=Decimal(given["score"]),
        branding_used=bool(given["branding_used"]),
        methodology_followed=bool(given["methodology_followed"]),
        conclusion=str(given["conclusion"]),
        curator=str(given["curator"]),
        event_id=str(given.get("event_id", "")),
    )
