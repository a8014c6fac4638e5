"""The city programme's use cases: a city, its working group, strategy, regional requirements and
stage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from lmp_kit.errors import NotFoundError
from lmp_kit.idempotency import Claim, Retry

from registry.application.base import RegistryBase
from registry.domain import City
from registry.domain.stages import StageEvidence, missing_results


class CityUseCases(RegistryBase):
    def register_city(  # noqa: PLR0913  # the attributes of a city, each named
        self,
        city_id: str,
        *,
        name: str,
        region: str,
        kind: str,
        population: int,
        voter_target: int,
    ) -> City:
        city = City.register(
            city_id,
            name=name,
            region=region,
            kind=kind,
            population=population,
            voter_target=voter_target,
        )
        self._create(city, conflict=f"city {city_id!r} is already registered")
        return city

    def get_city(self, city_id: str) -> City:
        try:
            found: City = self.repository.get(City.create_id(city_id))
        except AggregateNotFoundError:
            msg = f"city {city_id!r} is not registered"
            raise NotFoundError(msg) from None
        return found

    def find_city(self, city_id: str) -> City | None:
        try:
            return self.get_city(city_id)
        except NotFoundError:
            return None

    def approve_working_group(
        self,
        city_id: str,
        members: Iterable[Mapping[str, str]],
        order_number: str,
        order_date: str,
        tasks: Iterable[str] = (),
    ) -> City:
        city = self.get_city(city_id)
        city.approve_working_group(list(members), order_number, order_date, tasks)
        self.save(city)
        return city

    def fix_strategy(
        self, city_id: str, directions: Iterable[str], criteria: Iterable[str]
    ) -> City:
        city = self.get_city(city_id)
        city.fix_strategy(directions, criteria)
        self.save(city)
        return city

    def add_regional_requirement(
        self, city_id: str, title: str, description: str, retry: Retry | None = None
    ) -> tuple[City, str]:
        def create(claim: Claim) -> tuple[City, str]:
            city = self.get_city(city_id)
            requirement_id = city.add_regional_requirement(title, description)
            self.save(city, *claim(UUID(requirement_id)))
            return city, requirement_id

        def load(requirement_id: UUID) -> tuple[City, str]:
            return self.get_city(city_id), str(requirement_id)

        return self.request_keys.create_once(retry, "regional requirement", load, create)

    def record_stage_plan(
        self, city_id: str, plan: str, items: Iterable[str], document: str, approved_on: str
    ) -> City:
        city = self.get_city(city_id)
        city.record_stage_plan(plan, items, document, approved_on)
        self.save(city)
        return city

    def change_voter_target(self, city_id: str, voter_target: int, reason: str) -> City:
        city = self.get_city(city_id)
        city.change_voter_target(voter_target, reason, datetime.now(UTC).strftime("%Y-%m"))
        self.save(city)
        return city

    def advance_stage(self, city_id: str, to_stage: int, evidence: StageEvidence) -> City:
        city = self.get_city(city_id)
        city.advance_stage(to_stage, missing_results(city, evidence, city.stage))
        self.save(city)
        return city
