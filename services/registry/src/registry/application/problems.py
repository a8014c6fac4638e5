"""The use cases of a city's problems."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from lmp_kit.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from lmp_kit.idempotency import Claim, Retry

from registry.application.base import RegistryBase
from registry.domain import Problem


class ProblemNotFoundError(NotFoundError):
    def __init__(self, problem_id: UUID) -> None:
        super().__init__(f"problem {problem_id} does not exist")


class ProblemAlreadyRegisteredError(AlreadyExistsError):
    def __init__(self, city_id: str, title: str, problem_id: UUID) -> None:
        super().__init__(f"city {city_id!r} already has a problem titled {title!r}: {problem_id}")


class ProblemUseCases(RegistryBase):
    def register_problem(
        self, city_id: str, title: str, description: str, retry: Retry | None = None
    ) -> Problem:
        def create(claim: Claim) -> Problem:
            problem = Problem.register(city_id, title, description)
            try:
                self.save(problem, *claim(problem.id))
            except IntegrityError:
                raise ProblemAlreadyRegisteredError(city_id, title, problem.id) from None
            return problem

        return self.request_keys.create_once(retry, "problem", self.get_problem, create)

    def get_problem(self, problem_id: UUID) -> Problem:
        try:
            problem: Problem = self.repository.get(problem_id)
        except AggregateNotFoundError:
            raise ProblemNotFoundError(problem_id) from None
        if not isinstance(problem, Problem):
            raise ProblemNotFoundError(problem_id)
        return problem

    def _problems_of_city(self, city_id: str, problem_ids: Iterable[str]) -> list[Problem]:
        problems = []
        for problem_id in problem_ids:
            try:
                problem = self.get_problem(UUID(problem_id))
            except ProblemNotFoundError:
                problem = None
            if problem is None or problem.city_id != city_id:
                msg = f"problem {problem_id} is not a problem of city {city_id!r}"
                raise InvalidArgumentError(msg)
            problems.append(problem)
        return problems

    def describe_problem(self, problem_id: UUID, description: str) -> Problem:
        problem = self.get_problem(problem_id)
        problem.describe(description)
        self.save(problem)
        return problem

    def set_problem_priority(self, problem_id: UUID, priority: str) -> Problem:
        problem = self.get_problem(problem_id)
        problem.set_priority(priority)
        self.save(problem)
        return problem

    def mark_problem_solved(self, problem_id: UUID, *, with_external_resources: bool) -> Problem:
        problem = self.get_problem(problem_id)
        problem.mark_solved(with_external_resources=with_external_resources)
        self.save(problem)
        return problem
