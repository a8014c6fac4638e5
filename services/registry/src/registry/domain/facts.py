from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID

from eventsourcing.domain import event
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.errors import FailedPreconditionError

from registry.domain.checks import (
    check_amount,
    check_choice,
    check_currency,
    check_month,
    check_month_begun,
    check_text,
    check_texts,
    invalid,
    natural_id,
    normalized,
)

VERDICTS = ("recognized", "rejected")
EXTERNAL_SOURCES = (
    "co_financing_programme",
    "donors",
    "public_private_partnership",
    "residents_funds",
)


class ImprovementFact(CityAggregate):
    @staticmethod
    def create_id(city_id: str, month: str, title: str) -> UUID:
        return natural_id("improvement", city_id, month, normalized(title))

    @classmethod
    def record(  # noqa: PLR0913  # the attributes of a fact, each named
        cls,
        city_id: str,
        month: str,
        title: str,
        description: str,
        evidence: Iterable[str],
        *,
        today: date,
    ) -> ImprovementFact:
        check_city_id(city_id)
        checked_evidence = check_texts("evidence", evidence, maximum=2000)
        if not checked_evidence:
            msg = "an improvement fact needs evidence (links or references)"
            raise invalid(msg)
        fact = cls(
            city_id=city_id,
            month=check_month("month", month),
            title=check_text("title", title, minimum=3, maximum=200),
            description=check_text("description", description, maximum=10_000),
            evidence=checked_evidence,
        )
        check_month_begun("the improvement fact's month", fact.month, today)
        return fact

    @event("Recorded")
    def __init__(
        self, city_id: str, month: str, title: str, description: str, evidence: list[str]
    ) -> None:
        self.city_id = city_id
        self.month = month
        self.title = title
        self.description = description
        self.evidence = evidence
        self.verdict = ""
        self.reason = ""

    def check_undecided(self) -> None:
        if self.verdict:
            msg = f"improvement fact {self.title!r} is already {self.verdict}"
            raise FailedPreconditionError(msg)

    def recognize(self) -> None:
        self.check_undecided()
        self._recognized(month=self.month)

    @event("Recognized")
    def _recognized(self, month: str) -> None:
        del month
        self.verdict = "recognized"

    def reject(self, reason: str) -> None:
        self.check_undecided()
        self._rejected(reason=check_text("reason", reason, minimum=1, maximum=2000))

    @event("Rejected")
    def _rejected(self, reason: str) -> None:
        self.verdict = "rejected"
        self.reason = reason


class ExternalResourceCase(CityAggregate):
    @staticmethod
    def create_id(city_id: str, month: str, title: str) -> UUID:
        return natural_id("external-resource-case", city_id, month, normalized(title))

    @classmethod
    def record(  # noqa: PLR0913  # the attributes of a case, each named
        cls,
        city_id: str,
        *,
        month: str,
        title: str,
        source_kind: str,
        amount: str,
        currency: str,
        partner: str,
        problem_id: str | None = None,
        today: date,
    ) -> ExternalResourceCase:
        check_city_id(city_id)
        case = cls(
            city_id=city_id,
            month=check_month("month", month),
            title=check_text("title", title, minimum=3, maximum=200),
            source_kind=check_choice("source_kind", source_kind, EXTERNAL_SOURCES),
            amount=check_amount("amount", amount),
            currency=check_currency("currency", currency),
            partner=check_text("partner", partner, minimum=1, maximum=300),
            problem_id=problem_id,
        )
        check_month_begun("the external-resource case's month", case.month, today)
        return case

    @event("Recorded")
    def __init__(  # noqa: PLR0913  # the attributes of a case, each named
        self,
        *,
        city_id: str,
        month: str,
        title: str,
        source_kind: str,
        amount: str,
        currency: str,
        partner: str,
        problem_id: str | None,
    ) -> None:
        self.city_id = city_id
        self.month = month
        self.title = title
        self.source_kind = source_kind
        self.amount = amount
        self.currency = currency
        self.partner = partner
        self.problem_id = problem_id
