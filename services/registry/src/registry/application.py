from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from lmp_kit.domain import ServiceApplication
from lmp_kit.errors import AlreadyExistsError, NotFoundError

from registry.domain import Problem


class ProblemNotFoundError(NotFoundError):
    def __init__(self, problem_id: UUID) -> None:
        super().__init__(f"problem {problem_id} does not exist")


class ProblemAlreadyRegisteredError(AlreadyExistsError):
    def __init__(self, city_id: str, title: str) -> None:
        super().__init__(f"city {city_id!r} already has a problem titled {title!r}")


class RegistryApplication(ServiceApplication):
    def register_problem(self, city_id: str, title: str, description: str) -> Problem:
        problem = Problem.register(city_id, title, description)
        try:
            self.save(problem)
        except IntegrityError:
            raise ProblemAlreadyRegisteredError(city_id, title) from None
        return problem

    def get_problem(self, problem_id: UUID) -> Problem:
        try:
            problem: Problem = self.repository.get(problem_id)
        except AggregateNotFoundError:
            raise ProblemNotFoundError(problem_id) from None
        return problem
