"""The use cases of a practice: registration, classification, people, lifecycle and status,
passport, links to problems, adoption by another city; and who may read it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from lmp_kit.auth import Principal
from lmp_kit.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from lmp_kit.idempotency import Claim, Retry

from registry.application.cities import CityUseCases
from registry.application.problems import ProblemUseCases
from registry.domain import Practice, Problem
from registry.domain.practices import require_roles

# Who registers which kind of practice: the access table (registry.access) admits all of them
# to RegisterPractice; the kind narrows it (decision 0002).
PRACTICE_REGISTRARS: Mapping[str, frozenset[str]] = {
    "own": frozenset({"working_group", "administration"}),
    "external": frozenset({"working_group", "administration"}),
    "initiative": frozenset({"working_group", "administration", "initiative_group", "portal"}),
}


class HiddenPracticeError(NotFoundError):
    """A practice the caller may not read: one that does not exist and another city's
    unpublished one get the same answer, so a guessed id or title reveals nothing."""

    def __init__(self, practice_id: UUID | str) -> None:
        super().__init__(
            f"no practice {str(practice_id)[:80]!r} in your cities or in the federation library"
        )


class PracticeUseCases(ProblemUseCases, CityUseCases):
    def register_practice(  # noqa: PLR0913  # the attributes of a practice, each named
        self,
        actor: Principal,
        city_id: str,
        kind: str,
        title: str,
        *,
        summary: str = "",
        authors: Iterable[Mapping[str, str]] = (),
        participants: Iterable[Mapping[str, str]] = (),
        problem_ids: Iterable[str] = (),
        requirement_ids: Iterable[str] = (),
        cells: Iterable[Mapping[str, Any]] = (),
        lifecycle_step: int = 1,
        retry: Retry | None = None,
    ) -> Practice:
        def create(claim: Claim) -> Practice:
            if kind in PRACTICE_REGISTRARS:
                require_roles(
                    actor.roles, PRACTICE_REGISTRARS[kind], f"registering an {kind} practice"
                )
            practice = Practice.register(
                city_id,
                kind,
                title,
                summary=summary,
                authors=authors,
                participants=participants,
                problem_ids=problem_ids,
                requirement_ids=requirement_ids,
                cells=cells,
                lifecycle_step=lifecycle_step,
            )
            problems = self._problems_of_city(city_id, practice.problem_ids)
            self._check_requirements(city_id, practice.requirement_ids)
            for problem in problems:
                problem.link_practice(str(practice.id))
            self._create(
                practice,
                *problems,
                *claim(practice.id),
                conflict=f"city {city_id!r} already has a practice titled {title!r}: {practice.id}",
            )
            return practice

        return self.request_keys.create_once(retry, "practice", self.get_practice, create)

    def _check_requirements(self, city_id: str, requirement_ids: list[str]) -> None:
        if not requirement_ids:
            return
        try:
            city = self.get_city(city_id)
        except NotFoundError:
            msg = f"city {city_id!r} is not registered, so it lists no regional requirements"
            raise InvalidArgumentError(msg) from None
        unknown = [r for r in requirement_ids if not city.has_requirement(r)]
        if unknown:
            msg = f"unknown regional requirements of city {city_id!r}: {', '.join(unknown)}"
            raise InvalidArgumentError(msg)

    def get_practice(self, practice_id: UUID) -> Practice:
        return self._get(Practice, practice_id, "practice")

    def link_practice(self, problem_id: UUID, practice_id: UUID) -> Problem:
        problem = self.get_problem(problem_id)
        practice = self.get_practice(practice_id)
        if practice.city_id != problem.city_id:
            msg = "a problem is linked only to practices of its own city"
            raise InvalidArgumentError(msg)
        practice.check_editable()
        problem.link_practice(str(practice.id))
        practice.link_problem(str(problem.id))
        self.save(problem, practice)
        return problem

    def classify_practice(self, practice_id: UUID, cells: Iterable[Mapping[str, Any]]) -> Practice:
        practice = self.get_practice(practice_id)
        practice.classify(cells)
        self.save(practice)
        return practice

    def set_practice_people(
        self,
        practice_id: UUID,
        authors: Iterable[Mapping[str, str]],
        participants: Iterable[Mapping[str, str]],
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.set_people(authors, participants)
        self.save(practice)
        return practice

    def move_lifecycle(self, practice_id: UUID, step: int, reason: str) -> Practice:
        practice = self.get_practice(practice_id)
        practice.move_lifecycle(step, reason)
        self.save(practice)
        return practice

    def change_status(
        self, actor: Principal, practice_id: UUID, status: str, reason: str
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.change_status(status, reason, actor.roles)
        self.save(practice)
        return practice

    def edit_passport(
        self, practice_id: UUID, section: str, content: Mapping[str, Any]
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.edit_passport(section, content)
        self.save(practice)
        return practice

    def approve_passport(self, actor: Principal, practice_id: UUID) -> Practice:
        practice = self.get_practice(practice_id)
        practice.approve_passport(actor.subject)
        self.save(practice)
        return practice

    def adopt_practice(  # noqa: PLR0913  # the adoption's attributes, each named
        self,
        actor: Principal,
        source_id: UUID,
        city_id: str,
        title: str | None = None,
        retry: Retry | None = None,
        *,
        problem_ids: Iterable[str] = (),
    ) -> Practice:
        """The adopting city names the problems of its own that the adopted practice solves."""

        def create(claim: Claim) -> Practice:
            source = self.readable_practice(actor, source_id)
            if not source.approved_passport_version:
                msg = f"practice {source.title!r} has no approved passport, so it is not published"
                raise FailedPreconditionError(msg)
            if source.city_id == city_id:
                msg = "a city adopts practices of other cities, not its own"
                raise InvalidArgumentError(msg)
            adopted = Practice.register(
                city_id,
                "external",
                title or source.title,
                summary=source.summary,
                authors=source.authors,
                cells=source.cells,
                problem_ids=problem_ids,
                source_practice_id=str(source.id),
                source_city_id=source.city_id,
            )
            problems = self._problems_of_city(city_id, adopted.problem_ids)
            for problem in problems:
                problem.link_practice(str(adopted.id))
            source.credit_replication(str(adopted.id), city_id)
            self._create(
                adopted,
                source,
                *problems,
                *claim(adopted.id),
                conflict=f"city {city_id!r} already has a practice titled {adopted.title!r}: "
                f"{adopted.id}",
            )
            return adopted

        return self.request_keys.create_once(retry, "practice", self.get_practice, create)

    def readable_practice(self, actor: Principal, practice_id: UUID) -> Practice:
        """A city's practices are read by that city; approved passports by every city. Any
        other is the same NOT_FOUND as a practice that does not exist."""
        try:
            practice = self.get_practice(practice_id)
        except NotFoundError:
            raise HiddenPracticeError(practice_id) from None
        if not self.shown_to(actor, practice):
            raise HiddenPracticeError(practice_id)
        return practice

    @staticmethod
    def shown_to(actor: Principal, practice: Practice) -> bool:
        """Whether the caller sees the practice: its own cities' or a published one."""
        return bool(practice.approved_passport_version) or actor.may_act_in(practice.city_id)

    def shown_replications(self, actor: Principal, practice: Practice) -> list[dict[str, str]]:
        """The practice's copies the caller may see: published ones and its cities'."""
        return [
            r
            for r in practice.replications
            if actor.may_act_in(r["city_id"])
            or self.shown_to(actor, self.get_practice(UUID(r["practice_id"])))
        ]
