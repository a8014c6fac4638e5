from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from lmp_kit.auth import Principal
from lmp_kit.domain import CityAggregate, ServiceApplication
from lmp_kit.envelope import Envelope
from lmp_kit.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from lmp_kit.idempotency import Claim, Retry

from registry.domain import (
    Activity,
    City,
    ExternalResourceCase,
    ImprovementFact,
    Practice,
    Problem,
)
from registry.domain.checks import check_ids, check_moment
from registry.domain.passports import SECTIONS, Content, diff
from registry.domain.practices import require_roles

A = TypeVar("A", bound=CityAggregate)

# Who registers which kind of practice: the access table (registry.access) admits all of them
# to RegisterPractice; the kind narrows it (decision 0002).
PRACTICE_REGISTRARS: Mapping[str, frozenset[str]] = {
    "own": frozenset({"working_group", "administration"}),
    "external": frozenset({"working_group", "administration"}),
    "initiative": frozenset({"working_group", "administration", "initiative_group", "portal"}),
}


class ProblemNotFoundError(NotFoundError):
    def __init__(self, problem_id: UUID) -> None:
        super().__init__(f"problem {problem_id} does not exist")


class HiddenPracticeError(NotFoundError):
    """A practice the caller may not read: one that does not exist and another city's
    unpublished one get the same answer, so a guessed id or title reveals nothing."""

    def __init__(self, practice_id: UUID | str) -> None:
        super().__init__(
            f"no practice {str(practice_id)[:80]!r} in your cities or in the federation library"
        )


class ProblemAlreadyRegisteredError(AlreadyExistsError):
    def __init__(self, city_id: str, title: str, problem_id: UUID) -> None:
        super().__init__(f"city {city_id!r} already has a problem titled {title!r}: {problem_id}")


@dataclass(frozen=True)
class SectionVersion:
    version: int
    content: Content
    edited_at: datetime
    passport_version: int


@dataclass(frozen=True)
class ReactionOutcome:
    practice_id: UUID
    outcome: str

    @property
    def recorded(self) -> bool:
        return self.outcome == "applied"


class RegistryApplication(ServiceApplication):
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

    # City programme

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

    def approve_working_group(
        self,
        city_id: str,
        members: Iterable[Mapping[str, str]],
        order_number: str,
        order_date: str,
    ) -> City:
        city = self.get_city(city_id)
        city.approve_working_group(list(members), order_number, order_date)
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

    def advance_stage(self, city_id: str, to_stage: int) -> City:
        city = self.get_city(city_id)
        city.advance_stage(to_stage)
        self.save(city)
        return city

    # Problems

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

    # Practices

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

    # Implementation plan, progress reports, decisions

    def set_implementation_plan(
        self,
        actor: Principal,
        practice_id: UUID,
        milestones: Iterable[Mapping[str, Any]],
        resource_sources: Iterable[Mapping[str, Any]],
        regulation_proposals: Iterable[str],
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.set_plan(milestones, resource_sources, regulation_proposals, actor.subject)
        self.save(practice)
        return practice

    def update_milestone(
        self, practice_id: UUID, number: int, status: str, due_date: str
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.update_milestone(number, status, due_date)
        self.save(practice)
        return practice

    def file_progress_report(
        self,
        practice_id: UUID,
        month: str,
        values: Iterable[Mapping[str, Any]],
        note: str,
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.file_progress_report(month, values, note)
        self.save(practice)
        return practice

    def decide_on_practice(
        self,
        actor: Principal,
        practice_id: UUID,
        decision: str,
        reason: str,
        resource_sources: Iterable[Mapping[str, Any]],
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.decide(decision, reason, resource_sources, actor.subject)
        self.save(practice)
        return practice

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

    def section_history(
        self, actor: Principal, practice_id: UUID, section: str
    ) -> list[SectionVersion]:
        if section not in SECTIONS:
            msg = f"passport section {section!r} is not one of: {', '.join(SECTIONS)}"
            raise InvalidArgumentError(msg)
        self.readable_practice(actor, practice_id)
        return [
            SectionVersion(
                version=e.section_version,
                content=e.content,
                edited_at=e.timestamp,
                passport_version=e.passport_version,
            )
            for e in self._events_of(practice_id)
            if type(e).__qualname__ == "Practice.PassportSectionEdited" and e.section == section
        ]

    def _events_of(self, aggregate_id: UUID) -> list[Any]:
        return list(self.repository.event_store.get(aggregate_id))

    def section_diff(
        self, actor: Principal, practice_id: UUID, section: str, versions: tuple[int, int]
    ) -> str:
        history = self.section_history(actor, practice_id, section)
        contents = {v.version: v.content for v in history}
        for version in versions:
            if version != 0 and version not in contents:
                msg = (
                    f"passport section {section} has versions 1 to {len(history)} "
                    f"(0 means empty), not {version}"
                )
                raise InvalidArgumentError(msg)
        return diff(section, contents.get(versions[0]), contents.get(versions[1]), versions)

    def practice_as_of(self, actor: Principal, practice_id: UUID, moment: datetime) -> Practice:
        check_moment("as_of", moment)
        current = self.readable_practice(actor, practice_id)
        version = 0
        for stored in self._events_of(practice_id):
            if stored.timestamp > moment:
                break
            version = stored.originator_version
        if not version:
            msg = f"practice {current.title!r} was not yet registered at {moment.isoformat()}"
            raise FailedPreconditionError(msg)
        past: Practice = self.repository.get(practice_id, version=version)
        return past

    def adopt_practice(
        self,
        actor: Principal,
        source_id: UUID,
        city_id: str,
        title: str | None = None,
        retry: Retry | None = None,
    ) -> Practice:
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
                source_practice_id=str(source.id),
                source_city_id=source.city_id,
            )
            source.credit_replication(str(adopted.id), city_id)
            self._create(
                adopted,
                source,
                *claim(adopted.id),
                conflict=f"city {city_id!r} already has a practice titled {adopted.title!r}: "
                f"{adopted.id}",
            )
            return adopted

        return self.request_keys.create_once(retry, "practice", self.get_practice, create)

    def lineage(self, actor: Principal, practice_id: UUID) -> list[tuple[Practice, int]]:
        """The replication tree the practice belongs to, from its root, depth first: only the
        copies the caller may see (published ones and its cities'), so another city's
        unpublished copy is not listed. A copy is made only of a published practice, so the
        sources up to the root are all published."""
        practice = self.readable_practice(actor, practice_id)
        root = practice
        while root.source_practice_id is not None:
            root = self.get_practice(UUID(root.source_practice_id))
        tree: list[tuple[Practice, int]] = []
        pending = [(root, 0)]
        while pending:
            node, depth = pending.pop()
            tree.append((node, depth))
            children = [self.get_practice(UUID(r["practice_id"])) for r in node.replications]
            pending.extend(
                (child, depth + 1) for child in reversed(children) if self.shown_to(actor, child)
            )
        return tree

    # Reactions to other services' events

    def apply_review_verdict(
        self,
        practice_id: UUID,
        verdict: str,
        priority_rank: int | None,
        review_id: str,
    ) -> ReactionOutcome:
        practice = self.get_practice(practice_id)
        outcome = practice.react_to_review(review_id, verdict, priority_rank)
        self.save(practice)
        return ReactionOutcome(practice.id, outcome)

    def apply_vote_rank(self, practice_id: UUID, rank: int, poll_id: str) -> ReactionOutcome:
        practice = self.get_practice(practice_id)
        outcome = practice.react_to_vote(poll_id, rank)
        self.save(practice)
        return ReactionOutcome(practice.id, outcome)

    def react_to_review(self, envelope: Envelope) -> list[Practice]:
        """Expertise's `Review.Concluded` advances the practice (see docs/events.md)."""
        payload = envelope.payload
        practice = self.get_practice(
            UUID(check_ids("practice_id", [str(payload.get("practice_id", ""))])[0])
        )
        outcome = practice.react_to_review(
            str(envelope.aggregate_id),
            str(payload.get("verdict", "")),
            payload.get("priority_rank"),
        )
        return [practice] if outcome == "applied" else []

    def react_to_session(self, envelope: Envelope) -> list[Activity]:
        """A held council session is a programme activity of its city (a council sitting)."""
        held_on = str(envelope.payload.get("held_on", ""))
        activity = Activity.register(
            envelope.city_id,
            "council_sitting",
            f"Заседание Экспертного совета {held_on}",
            held_on,
        )
        if self._exists(activity.id):
            return []
        return [activity]

    def _exists(self, aggregate_id: UUID) -> bool:
        try:
            self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return False
        return True

    def react_to_poll(self, envelope: Envelope) -> list[Practice]:
        """Voting's `Poll.Closed` of a practice rating gives each practice its rank."""
        payload = envelope.payload
        if payload.get("kind") != "practice_rating":
            return []
        ranked = []
        for result in payload.get("results", []):
            if result.get("ref_kind") != "practice":
                continue
            try:
                practice = self.get_practice(
                    UUID(check_ids("ref_id", [str(result.get("ref_id", ""))])[0])
                )
            except NotFoundError:
                continue
            if practice.react_to_vote(str(envelope.aggregate_id), int(result["rank"])) == "applied":
                ranked.append(practice)
        return ranked

    # Activities, improvement facts, external-resource cases

    def register_activity(  # noqa: PLR0913  # the attributes of an activity, each named
        self,
        city_id: str,
        kind: str,
        title: str,
        held_on: str,
        *,
        speakers: Iterable[Mapping[str, str]] = (),
        joint_action: bool = False,
        branding_used: bool = False,
        retry: Retry | None = None,
    ) -> Activity:
        def create(claim: Claim) -> Activity:
            activity = Activity.register(
                city_id,
                kind,
                title,
                held_on,
                speakers=speakers,
                joint_action=joint_action,
                branding_used=branding_used,
            )
            self._create(
                activity,
                *claim(activity.id),
                conflict=f"city {city_id!r} already has activity {title!r} on {held_on}: "
                f"{activity.id}",
            )
            return activity

        return self.request_keys.create_once(retry, "activity", self.get_activity, create)

    def get_activity(self, activity_id: UUID) -> Activity:
        return self._get(Activity, activity_id, "activity")

    def publish_announcement(
        self, activity_id: UUID, text: str, published_at: datetime
    ) -> Activity:
        activity = self.get_activity(activity_id)
        activity.publish_announcement(text, published_at)
        self.save(activity)
        return activity

    def publish_press_release(
        self, activity_id: UUID, text: str, published_at: datetime
    ) -> Activity:
        activity = self.get_activity(activity_id)
        activity.publish_press_release(text, published_at)
        self.save(activity)
        return activity

    def file_activity_report(
        self,
        activity_id: UUID,
        attendees: Iterable[Mapping[str, str]],
        photos: Iterable[Mapping[str, str]],
    ) -> Activity:
        activity = self.get_activity(activity_id)
        activity.file_report(attendees, photos)
        self.save(activity)
        return activity

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
            fact = ImprovementFact.record(city_id, month, title, description, evidence)
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
