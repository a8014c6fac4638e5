"""What every use case of the registry builds on: finding an aggregate of a kind, creating one
whose id is taken, whether one exists."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from lmp_kit.domain import CityAggregate, ServiceApplication
from lmp_kit.errors import AlreadyExistsError, NotFoundError

A = TypeVar("A", bound=CityAggregate)


class RegistryBase(ServiceApplication):
    def _get(self, kind: type[A], aggregate_id: UUID, label: str) -> A:
        try:
            found: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            msg = f"{label} {aggregate_id} does not exist"
            raise NotFoundError(msg) from None
        if not isinstance(found, kind):
            msg = f"{label} {aggregate_id} does not exist"
            raise NotFoundError(msg)
        return found

    def _create(self, aggregate: Aggregate, *others: Aggregate, conflict: str) -> None:
        try:
            self.save(aggregate, *others)
        except IntegrityError:
            raise AlreadyExistsError(conflict) from None

    def _exists(self, aggregate_id: UUID) -> bool:
        try:
            self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return False
        return True
