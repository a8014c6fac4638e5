"""The use cases of a city's improvement facts and external-resource cases."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from lmp_kit.idempotency import Claim, Retry

from registry.application.problems import ProblemUseCases
from registry.domain import ExternalResourceCase, ImprovementFact
from registry.domain.checks import check_ids, utc_today


class FactUseCases(ProblemUseCases):
    def record_improvement_fact(  # noqa: PLR0913  # the attributes of a fact, each named
        self,
        city_id: str,
        *,
        month: str,
        title: str,
        description: str,
        evidence: Iterable[str],
        retry: Retry | None = None,
    ) -> ImprovementFact:
        def create(claim: Claim) -> ImprovementFact:
            fact = ImprovementFact.record(
                city_id, month, title, description, evidence, today=utc_today()
            )
            self._create(
                fact,
                *claim(fact.id),
                conflict=f"city {city_id!r} already recorded {title!r} for {month}: {fact.id}",
            )
            return fact

        return self.request_keys.create_once(
            retry, "improvement fact", self.get_improvement_fact, create
        )

    def get_improvement_fact(self, fact_id: UUID) -> ImprovementFact:
        return self._get(ImprovementFact, fact_id, "improvement fact")

    def judge_improvement_fact(
        self, fact_id: UUID, *, recognized: bool, reason: str = ""
    ) -> ImprovementFact:
        fact = self.get_improvement_fact(fact_id)
        if recognized:
            fact.recognize()
        else:
            fact.reject(reason)
        self.save(fact)
        return fact

    def record_external_resource_case(  # noqa: PLR0913  # the attributes of a case, each named
        self,
        city_id: str,
        *,
        month: str,
        title: str,
        source_kind: str,
        amount: str,
        currency: str,
        partner: str,
        problem_id: str = "",
        retry: Retry | None = None,
    ) -> ExternalResourceCase:
        def create(claim: Claim) -> ExternalResourceCase:
            linked = check_ids("problem_id", [problem_id] if problem_id else [])
            self._problems_of_city(city_id, linked)
            case = ExternalResourceCase.record(
                city_id,
                month=month,
                title=title,
                source_kind=source_kind,
                amount=amount,
                currency=currency,
                partner=partner,
                problem_id=linked[0] if linked else None,
                today=utc_today(),
            )
            self._create(
                case,
                *claim(case.id),
                conflict=f"city {city_id!r} already recorded {title!r} for {month}: {case.id}",
            )
            return case

        return self.request_keys.create_once(
            retry, "external-resource case", self.get_external_resource_case, create
        )

    def get_external_resource_case(self, case_id: UUID) -> ExternalResourceCase:
        return self._get(ExternalResourceCase, case_id, "external-resource case")
