from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.errors import AlreadyExistsError, FailedPreconditionError, PermissionDeniedError

from registry.domain.checks import (
    check_choice,
    check_count,
    check_date,
    check_ids,
    check_month,
    check_people,
    check_text,
    invalid,
    natural_id,
    normalized,
)
from registry.domain.classifier import check_cells
from registry.domain.passports import SECTIONS, Content, check_section, is_empty
from registry.domain.plans import (
    DECISIONS,
    MILESTONE_STATUSES,
    REGULATION_FINAL,
    REGULATION_STATUSES,
    Plan,
    check_milestones,
    check_proposals,
    check_report_values,
    check_resource_sources,
)

KINDS = ("own", "external", "initiative")
LIFECYCLE_STEPS = (
    "problem",
    "solution_options",
    "initiative",
    "declaration",
    "support_and_allies",
    "overcoming_barriers",
    "resources_or_savings",
    "implementation",
    "operation",
    "system_changes",
    "general_acceptance",
    "replication",
)
STATUSES = (
    "submitted",
    "primary_review",
    "approved_for_vote",
    "approved_for_passport",
    "needs_revision",
    "rejected",
    "ranked",
    "passport_approved",
    "prioritized",
    "planned",
    "implementing",
    "evaluated_continue",
    "evaluated_change_resources",
    "evaluated_stop",
)
VERDICTS = ("approved_for_vote", "approved_for_passport", "needs_revision", "rejected")
EVALUATIONS = ("evaluated_continue", "evaluated_change_resources", "evaluated_stop")
# The statuses of a practice with an implementation plan (ListImplementationPlans).
PLAN_STATUSES = ("planned", "implementing", *EVALUATIONS)
# Statuses only the Expert Council's conclusion gives (docs/decisions/0002-registry.md).
COUNCIL_DECISIONS = frozenset({*VERDICTS, "prioritized"})
COUNCIL_APPROVALS = frozenset({"approved_for_vote", "approved_for_passport"})
WORKING_GROUP = frozenset({"working_group"})
ADMINISTRATION = frozenset({"administration"})
# Who may move a practice from one programme status to the next (docs/decisions/0002-registry.md).
TRANSITIONS: Mapping[tuple[str, str], frozenset[str]] = {
    ("submitted", "primary_review"): WORKING_GROUP,
    ("needs_revision", "submitted"): frozenset({"working_group", "initiative_group"}),
    ("prioritized", "planned"): ADMINISTRATION,
    ("planned", "implementing"): frozenset({"administration", "working_group"}),
    **{("implementing", evaluation): ADMINISTRATION for evaluation in EVALUATIONS},
    ("evaluated_continue", "implementing"): frozenset({"administration", "working_group"}),
    ("evaluated_change_resources", "implementing"): frozenset({"administration", "working_group"}),
}
PASSPORT_APPROVABLE = frozenset({"approved_for_passport", "ranked"})
PASSPORT_FROZEN = frozenset({"rejected", *STATUSES[STATUSES.index("passport_approved") :]})
RANKABLE = frozenset({"approved_for_vote", "approved_for_passport"})
# Implementation plan, progress reports and decisions (docs/decisions/0002-registry.md); who
# may call each is in the access table (registry.access).
PLANNABLE = frozenset({"prioritized", "planned"})
MILESTONE_EDITABLE = frozenset(
    {"planned", "implementing", "evaluated_continue", "evaluated_change_resources"}
)
REPORTABLE = frozenset({"planned", "implementing"})
# Implementation has started: the plan changes only by a correction with a reason.
STARTED = frozenset({"implementing", "evaluated_continue", "evaluated_change_resources"})
DECIDABLE = frozenset({"implementing"})


def require_roles(roles: frozenset[str], allowed: frozenset[str], action: str) -> None:
    if not roles & allowed:
        msg = f"{action} needs one of the roles {', '.join(sorted(allowed))}"
        raise PermissionDeniedError(msg)


class Practice(CityAggregate):
    # Declared once, each the one class of its name, so that a topic names exactly one class
    # (an `@event(Class)` method would derive a second class of the same name).
    class Event(CityAggregate.Event):
        pass

    class StatusChanged(Event):
        status: str
        reason: str
        review_id: str
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["review_id"] = ""

        def apply(self, aggregate: Any) -> None:  # noqa: ANN401  # library signature
            aggregate.status = self.status
            aggregate.reason = self.reason
            if self.review_id and self.status in COUNCIL_APPROVALS:
                aggregate.council_review_id = self.review_id

    class PassportApproved(Event):
        version: int
        review_id: str
        approved_by: str
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["review_id"] = ""
            state["approved_by"] = ""

        def apply(self, aggregate: Any) -> None:  # noqa: ANN401  # library signature
            aggregate.approved_passport_version = self.version

    @staticmethod
    def create_id(city_id: str, title: str) -> UUID:
        return natural_id("practice", city_id, normalized(title))

    @classmethod
    def register(  # noqa: PLR0913  # the attributes of a practice, each named
        cls,
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
        source_practice_id: str | None = None,
        source_city_id: str | None = None,
    ) -> Practice:
        check_city_id(city_id)
        check_choice("kind", kind, KINDS)
        checked_authors = check_people("author", authors)
        if kind in ("own", "initiative") and not checked_authors:
            msg = f"an {kind} practice needs at least one author"
            raise invalid(msg)
        if source_practice_id is not None and kind != "external":
            msg = "only an external practice can come from a source practice"
            raise invalid(msg)
        practice = cls(
            city_id=city_id,
            kind=kind,
            title=check_text("title", title, minimum=3, maximum=200),
            summary=check_text("summary", summary, maximum=5000),
            authors=checked_authors,
            participants=check_people("participant", participants),
            problem_ids=check_ids("problem_ids", problem_ids),
            requirement_ids=check_ids("requirement_ids", requirement_ids),
            cells=check_cells(cells),
            lifecycle_step=check_count(
                "lifecycle_step", lifecycle_step, minimum=1, maximum=len(LIFECYCLE_STEPS)
            ),
            source_practice_id=source_practice_id,
            source_city_id=source_city_id,
        )
        if not practice.problem_ids:
            msg = (
                f"a practice is always the solution of a problem (практика всегда - решение "
                f"проблемы): name in problem_ids at least one problem of city {city_id!r} that "
                f"the {kind} practice solves (RegisterProblem first if it is not registered)"
            )
            raise FailedPreconditionError(msg)
        return practice

    @event("Registered")
    def __init__(  # noqa: PLR0913  # the attributes of a practice, each named
        self,
        *,
        city_id: str,
        kind: str,
        title: str,
        summary: str,
        authors: list[dict[str, str]],
        participants: list[dict[str, str]],
        problem_ids: list[str],
        requirement_ids: list[str],
        cells: list[dict[str, Any]],
        lifecycle_step: int,
        source_practice_id: str | None,
        source_city_id: str | None,
    ) -> None:
        self.city_id = city_id
        self.kind = kind
        self.title = title
        self.summary = summary
        self.authors = authors
        self.participants = participants
        self.problem_ids = problem_ids
        self.requirement_ids = requirement_ids
        self.cells = cells
        self.lifecycle_step = lifecycle_step
        self.source_practice_id = source_practice_id
        self.source_city_id = source_city_id
        self.status = "submitted"
        self.reason = ""
        self.council_review_id = ""
        self.passport: dict[str, list[Content]] = {}
        self.passport_version = 0
        self.approved_passport_version = 0
        self.rank: int | None = None
        self.priority_rank: int | None = None
        self.reactions: list[str] = []
        self.replications: list[dict[str, str]] = []
        self.plan: Plan | None = None
        self.reports: dict[str, dict[str, Any]] = {}
        self.decisions: list[dict[str, Any]] = []
        self.act: dict[str, Any] | None = None
        self.regulation_statuses: dict[str, dict[str, str]] = {}
        self.corrections: list[dict[str, Any]] = []
        self.residents: list[dict[str, str]] = []
        self.resident_list_version = 0
        self.involvement_procedure: dict[str, Any] | None = None

    def check_editable(self) -> None:
        if self.status in ("rejected", "evaluated_stop"):
            msg = f"practice {self.title!r} is {self.status}; it can no longer change"
            raise FailedPreconditionError(msg)

    def classify(self, cells: Iterable[Mapping[str, Any]]) -> None:
        self.check_editable()
        checked = check_cells(cells)
        if not checked:
            msg = "a practice is classified into at least one cell"
            raise invalid(msg)
        self._classified(cells=checked)

    @event("Classified")
    def _classified(self, cells: list[dict[str, Any]]) -> None:
        self.cells = cells

    def link_problem(self, problem_id: str) -> bool:
        if problem_id in self.problem_ids:
            return False
        self._problem_linked(problem_id=problem_id)
        return True

    @event("ProblemLinked")
    def _problem_linked(self, problem_id: str) -> None:
        self.problem_ids = [*self.problem_ids, problem_id]

    def set_people(
        self,
        authors: Iterable[Mapping[str, str]],
        participants: Iterable[Mapping[str, str]],
    ) -> None:
        self.check_editable()
        checked_authors = check_people("author", authors)
        if self.kind in ("own", "initiative") and not checked_authors:
            msg = f"an {self.kind} practice needs at least one author"
            raise invalid(msg)
        self._people_set(
            authors=checked_authors, participants=check_people("participant", participants)
        )

    @event("PeopleSet")
    def _people_set(
        self, authors: list[dict[str, str]], participants: list[dict[str, str]]
    ) -> None:
        self.authors = authors
        self.participants = participants

    def move_lifecycle(self, step: int, reason: str) -> None:
        self.check_editable()
        check_count("lifecycle step", step, minimum=1, maximum=len(LIFECYCLE_STEPS))
        reason = check_text("reason", reason, maximum=2000)
        if step == self.lifecycle_step:
            msg = f"practice {self.title!r} is already at lifecycle step {step}"
            raise FailedPreconditionError(msg)
        if step > self.lifecycle_step + 1:
            msg = (
                f"a practice moves forward one lifecycle step at a time: from step "
                f"{self.lifecycle_step} the next is {self.lifecycle_step + 1}, not {step}"
            )
            raise FailedPreconditionError(msg)
        if step < self.lifecycle_step and not reason:
            msg = f"moving back from lifecycle step {self.lifecycle_step} to {step} needs a reason"
            raise invalid(msg)
        self._lifecycle_moved(step=step, name=LIFECYCLE_STEPS[step - 1], reason=reason)

    @event("LifecycleMoved")
    def _lifecycle_moved(self, step: int, name: str, reason: str) -> None:
        del name, reason
        self.lifecycle_step = step

    def change_status(self, status: str, reason: str, roles: frozenset[str]) -> None:
        check_choice("status", status, STATUSES)
        reason = check_text("reason", reason, maximum=2000)
        if status == "passport_approved":
            msg = "a passport is approved with ApprovePassport, which checks its sections"
            raise FailedPreconditionError(msg)
        if status == "ranked":
            msg = "a practice is ranked only by the result of a rating vote"
            raise FailedPreconditionError(msg)
        if status == "planned":
            msg = "a practice becomes planned when the administration sets its implementation plan"
            raise FailedPreconditionError(msg)
        if status in EVALUATIONS:
            msg = f"a practice becomes {status} by a decision (DecideOnPractice)"
            raise FailedPreconditionError(msg)
        if status in COUNCIL_DECISIONS:
            msg = (
                f"a practice becomes {status} only from the Expert Council's conclusion on its "
                f"review (ConcludeReview in the expertise service at a held session), never by "
                f"ChangeStatus"
            )
            raise PermissionDeniedError(msg)
        allowed = TRANSITIONS.get((self.status, status))
        if allowed is None:
            nexts = [to for (of, to) in TRANSITIONS if of == self.status]
            msg = (
                f"practice {self.title!r} is {self.status}; it cannot become {status} "
                f"(allowed next: {', '.join(nexts) or 'none by hand'})"
            )
            raise FailedPreconditionError(msg)
        require_roles(roles, allowed, f"moving a practice from {self.status} to {status}")
        self._status_changed(status=status, reason=reason, review_id="")

    def _status_changed(self, status: str, reason: str, review_id: str) -> None:
        self.trigger_event(self.StatusChanged, status=status, reason=reason, review_id=review_id)

    def edit_passport(self, section: str, content: Mapping[str, Any]) -> int:
        if self.status in PASSPORT_FROZEN:
            msg = f"practice {self.title!r} is {self.status}: its passport can no longer change"
            raise FailedPreconditionError(msg)
        checked = check_section(section, content)
        history = self.passport.get(section, [])
        if history and history[-1] == checked:
            msg = f"passport section {section} already says exactly this"
            raise FailedPreconditionError(msg)
        self._passport_section_edited(
            section=section,
            content=checked,
            section_version=len(history) + 1,
            passport_version=self.passport_version + 1,
        )
        return len(history) + 1

    @event("PassportSectionEdited")
    def _passport_section_edited(
        self, section: str, content: Content, section_version: int, passport_version: int
    ) -> None:
        self.passport.setdefault(section, []).append(content)
        del section_version
        self.passport_version = passport_version

    def section(self, name: str, version: int | None = None) -> Content | None:
        history = self.passport.get(name, [])
        if version is None:
            return history[-1] if history else None
        if not 1 <= version <= len(history):
            msg = f"passport section {name} has versions 1 to {len(history)}, not {version}"
            raise invalid(msg)
        return history[version - 1]

    def empty_sections(self) -> list[str]:
        return [s for s in SECTIONS if is_empty(s, self.section(s))]

    def people_ids(self) -> frozenset[str]:
        return frozenset(p["person_id"] for p in [*self.authors, *self.participants])

    def approve_passport(self, approved_by: str) -> None:
        if approved_by in self.people_ids():
            msg = (
                f"{approved_by} is an author or participant of practice {self.title!r}; a "
                f"practice's own people do not approve its passport"
            )
            raise PermissionDeniedError(msg)
        if self.status not in PASSPORT_APPROVABLE:
            msg = (
                f"practice {self.title!r} is {self.status}; a passport is approved only for a "
                f"practice approved for passport or ranked by the vote"
            )
            raise FailedPreconditionError(msg)
        if not self.council_review_id:
            msg = (
                f"practice {self.title!r} is {self.status} without a conclusion of the Expert "
                f"Council (recorded before the council's ConcludeReview became the only way); "
                f"a passport is approved after the council concludes a review of it"
            )
            raise FailedPreconditionError(msg)
        empty = self.empty_sections()
        if empty:
            msg = f"the passport cannot be approved while sections are empty: {', '.join(empty)}"
            raise FailedPreconditionError(msg)
        self._passport_approved(
            version=self.passport_version,
            review_id=self.council_review_id,
            approved_by=approved_by,
        )
        self._status_changed(
            status="passport_approved", reason=f"passport v{self.passport_version}", review_id=""
        )

    def _passport_approved(self, version: int, review_id: str, approved_by: str) -> None:
        self.trigger_event(
            self.PassportApproved, version=version, review_id=review_id, approved_by=approved_by
        )

    def react_to_review(self, review_id: str, verdict: str, priority_rank: int | None) -> str:
        if review_id in self.reactions:
            return "duplicate"
        unconfirmed = self.status in COUNCIL_APPROVALS and not self.council_review_id
        if verdict in VERDICTS and (self.status in ("submitted", "primary_review") or unconfirmed):
            if self.status == "submitted":
                self._status_changed(
                    status="primary_review", reason="the review concluded", review_id=""
                )
            self._status_changed(status=verdict, reason=f"review {review_id}", review_id=review_id)
        elif verdict == "prioritized" and self.status == "passport_approved":
            if priority_rank is None or priority_rank < 1:
                msg = "a prioritized verdict needs a priority_rank of 1 or more"
                raise invalid(msg)
            self._priority_ranked(priority_rank=priority_rank, review_id=review_id)
            self._status_changed(
                status="prioritized", reason=f"priority {priority_rank}", review_id=review_id
            )
        else:
            return f"not applicable: the practice is {self.status}, the verdict {verdict}"
        self._reacted(reaction=review_id)
        return "applied"

    def react_to_vote(self, poll_id: str, rank: int) -> str:
        if poll_id in self.reactions:
            return "duplicate"
        if rank < 1:
            msg = f"a rank is 1 or more, not {rank}"
            raise invalid(msg)
        if self.status not in RANKABLE:
            return f"not applicable: the practice is {self.status}"
        self._ranked(rank=rank, poll_id=poll_id)
        self._status_changed(status="ranked", reason=f"rank {rank} in poll {poll_id}", review_id="")
        self._reacted(reaction=poll_id)
        return "applied"

    @event("Ranked")
    def _ranked(self, rank: int, poll_id: str) -> None:
        del poll_id
        self.rank = rank

    @event("PriorityRanked")
    def _priority_ranked(self, priority_rank: int, review_id: str) -> None:
        del review_id
        self.priority_rank = priority_rank

    @event("Reacted")
    def _reacted(self, reaction: str) -> None:
        self.reactions = [*self.reactions, reaction]

    def credit_replication(self, practice_id: str, city_id: str) -> None:
        self._replicated(practice_id=practice_id, city_id=city_id)

    @event("Replicated")
    def _replicated(self, practice_id: str, city_id: str) -> None:
        self.replications = [*self.replications, {"practice_id": practice_id, "city_id": city_id}]

    # Implementation plan, progress reports, decisions

    def set_plan(
        self,
        milestones: Iterable[Mapping[str, Any]],
        resource_sources: Iterable[Mapping[str, Any]],
        regulation_proposals: Iterable[str],
        approved_by: str,
    ) -> None:
        plan: Plan = {
            "milestones": check_milestones(milestones),
            "resource_sources": check_resource_sources(resource_sources),
            "regulation_proposals": check_proposals(regulation_proposals),
        }
        if self.status in STARTED:
            msg = (
                f"the implementation of practice {self.title!r} has started ({self.status}): "
                f"only its milestones and resource sources change, each change a correction "
                f"with a reason (CorrectImplementationPlan)"
            )
            raise FailedPreconditionError(msg)
        if self.status not in PLANNABLE:
            msg = (
                f"practice {self.title!r} is {self.status}; an implementation plan is set only "
                f"for a prioritized practice (or revised while it is planned)"
            )
            raise FailedPreconditionError(msg)
        if self.plan is not None and all(plan[k] == self.plan[k] for k in plan):
            msg = f"the implementation plan of practice {self.title!r} already says exactly this"
            raise FailedPreconditionError(msg)
        version = 1 if self.plan is None else int(self.plan["plan_version"]) + 1
        self._plan_set(plan_version=version, approved_by=approved_by, **plan)
        if self.status == "prioritized":
            self._status_changed(
                status="planned", reason=f"implementation plan v{version}", review_id=""
            )

    @event("PlanSet")
    def _plan_set(
        self,
        plan_version: int,
        approved_by: str,
        milestones: list[dict[str, Any]],
        resource_sources: list[dict[str, str]],
        regulation_proposals: list[str],
    ) -> None:
        self.plan = {
            "plan_version": plan_version,
            "approved_by": approved_by,
            "milestones": milestones,
            "resource_sources": resource_sources,
            "regulation_proposals": regulation_proposals,
        }

    def _require_plan(self) -> Plan:
        if self.plan is None:
            msg = f"practice {self.title!r} has no implementation plan"
            raise FailedPreconditionError(msg)
        return self.plan

    def update_milestone(self, number: int, status: str, due_date: str) -> None:
        plan = self._require_plan()
        check_choice("milestone status", status, MILESTONE_STATUSES)
        milestones = plan["milestones"]
        if not 1 <= number <= len(milestones):
            msg = f"the plan has milestones 1 to {len(milestones)}, not {number}"
            raise invalid(msg)
        if self.status not in MILESTONE_EDITABLE:
            msg = f"practice {self.title!r} is {self.status}; its milestones can no longer change"
            raise FailedPreconditionError(msg)
        current = milestones[number - 1]
        due = check_date("milestone due_date", due_date) if due_date else current["due_date"]
        if (status, due) == (current["status"], current["due_date"]):
            msg = f"milestone {number} is already {status}, due {due}"
            raise FailedPreconditionError(msg)
        self._milestone_updated(number=number, status=status, due_date=due)

    @event("MilestoneUpdated")
    def _milestone_updated(self, number: int, status: str, due_date: str) -> None:
        if self.plan is None:  # pragma: no cover  # only recorded after a plan
            return
        milestones = [dict(m) for m in self.plan["milestones"]]
        milestones[number - 1].update(status=status, due_date=due_date)
        self.plan = {**self.plan, "milestones": milestones}

    def file_progress_report(
        self, month: str, values: Iterable[Mapping[str, Any]], note: str
    ) -> None:
        month = check_month("month", month)
        note = check_text("note", note, maximum=5000)
        result = self.section("result")
        checked = check_report_values(values, result["indicators"] if result else [])
        if self.status not in REPORTABLE:
            msg = (
                f"practice {self.title!r} is {self.status}; progress reports are filed only "
                f"while it is planned or implementing"
            )
            if self.status == "evaluated_stop":
                msg = f"practice {self.title!r} is stopped; a stopped practice accepts no reports"
            raise FailedPreconditionError(msg)
        if month in self.reports:
            msg = f"practice {self.title!r} already has a progress report for {month}"
            raise AlreadyExistsError(msg)
        self._progress_reported(month=month, indicators=checked, note=note)

    @event("ProgressReported")
    def _progress_reported(self, month: str, indicators: list[dict[str, str]], note: str) -> None:
        self.reports = {**self.reports, month: {"indicators": indicators, "note": note}}

    def decide(
        self,
        decision: str,
        reason: str,
        resource_sources: Iterable[Mapping[str, Any]],
        decided_by: str,
    ) -> None:
        check_choice("decision", decision, DECISIONS)
        reason = check_text("reason", reason, maximum=2000)
        if not reason:
            msg = f"a decision to {decision.replace('_', ' ')} needs a reason"
            raise invalid(msg)
        given = list(resource_sources)
        if decision == "change_resources":
            sources = check_resource_sources(given)
        elif given:
            msg = f"only a change_resources decision carries resource sources, not {decision}"
            raise invalid(msg)
        else:
            sources = []
        if self.status not in DECIDABLE:
            msg = (
                f"practice {self.title!r} is {self.status}; a decision is taken only on an "
                f"implementing practice"
            )
            raise FailedPreconditionError(msg)
        self._decided(
            decision=decision, reason=reason, resource_sources=sources, decided_by=decided_by
        )
        self._status_changed(status=f"evaluated_{decision}", reason=reason, review_id="")

    @event("Decided")
    def _decided(
        self,
        decision: str,
        reason: str,
        resource_sources: list[dict[str, str]],
        decided_by: str,
    ) -> None:
        self.decisions = [
            *self.decisions,
            {
                "decision": decision,
                "reason": reason,
                "resource_sources": resource_sources,
                "decided_by": decided_by,
            },
        ]
        if resource_sources and self.plan is not None:
            self.plan = {**self.plan, "resource_sources": resource_sources}

    # Stage 6: the act fixing the plan, regulation changes, corrections, residents

    def _require_editable_plan(self, what: str) -> Plan:
        plan = self._require_plan()
        if self.status not in MILESTONE_EDITABLE:
            msg = f"practice {self.title!r} is {self.status}; {what} can no longer change"
            raise FailedPreconditionError(msg)
        return plan

    def fix_plan_by_act(
        self, number: str, act_date: str, title: str, fixed_by: str, today: date
    ) -> None:
        number = check_text("number", number, minimum=1, maximum=100)
        act_date = check_date("date", act_date)
        title = check_text("title", title, minimum=3, maximum=500)
        plan = self._require_editable_plan("the act fixing its plan")
        if act_date > today.isoformat():
            msg = (
                f"the act is dated {act_date}, after today ({today.isoformat()}, UTC): record "
                f"it once it is issued"
            )
            raise FailedPreconditionError(msg)
        version = int(plan["plan_version"])
        if self.act is not None and self.act["plan_version"] == version:
            msg = (
                f"plan v{version} of practice {self.title!r} is already fixed by act "
                f"{self.act['number']} of {self.act['date']}"
            )
            raise FailedPreconditionError(msg)
        self._plan_fixed_by_act(
            number=number, act_date=act_date, title=title, plan_version=version, fixed_by=fixed_by
        )

    @event("PlanFixedByAct")
    def _plan_fixed_by_act(
        self, number: str, act_date: str, title: str, plan_version: int, fixed_by: str
    ) -> None:
        self.act = {
            "number": number,
            "date": act_date,
            "title": title,
            "plan_version": plan_version,
            "fixed_by": fixed_by,
        }

    def regulation_changes(self) -> list[dict[str, Any]]:
        """The plan's regulation-change proposals, each with its status (proposed at first)."""
        proposals = self.plan["regulation_proposals"] if self.plan else []
        changes = []
        for number, proposal in enumerate(proposals, start=1):
            known = self.regulation_statuses.get(normalized(proposal), {})
            changes.append(
                {
                    "number": number,
                    "proposal": proposal,
                    "status": known.get("status", "proposed"),
                    "note": known.get("note", ""),
                }
            )
        return changes

    def set_regulation_change_status(self, number: int, status: str, note: str) -> None:
        check_choice("status", status, REGULATION_STATUSES)
        note = check_text("note", note, maximum=2000)
        if status in REGULATION_FINAL and not note:
            needed = "the act that made the change" if status == "adopted" else "why"
            msg = f"a regulation change {status} needs a note: {needed}"
            raise invalid(msg)
        self._require_editable_plan("its regulation changes")
        changes = self.regulation_changes()
        if not 1 <= number <= len(changes):
            msg = (
                f"the plan has regulation-change proposals 1 to {len(changes)}, not {number}"
                if changes
                else "the plan has no regulation-change proposals"
            )
            raise invalid(msg)
        current = changes[number - 1]
        if current["status"] in REGULATION_FINAL:
            msg = f"regulation change {number} is already {current['status']}"
            raise FailedPreconditionError(msg)
        if (status, note) == (current["status"], current["note"]):
            msg = f"regulation change {number} is already {status}"
            raise FailedPreconditionError(msg)
        self._regulation_change_status_set(
            number=number, proposal=current["proposal"], status=status, note=note
        )

    @event("RegulationChangeStatusSet")
    def _regulation_change_status_set(
        self, number: int, proposal: str, status: str, note: str
    ) -> None:
        del number
        self.regulation_statuses = {
            **self.regulation_statuses,
            normalized(proposal): {"status": status, "note": note},
        }

    def correct_plan(
        self,
        milestones: Iterable[Mapping[str, Any]],
        resource_sources: Iterable[Mapping[str, Any]],
        reason: str,
        corrected_by: str,
    ) -> None:
        checked_milestones = check_milestones(milestones)
        checked_sources = check_resource_sources(resource_sources)
        reason = check_text("reason", reason, maximum=2000)
        if not reason:
            msg = "a correction of the implementation plan needs a reason"
            raise invalid(msg)
        plan = self._require_plan()
        if self.status not in STARTED:
            msg = (
                f"practice {self.title!r} is {self.status}: a correction is made after "
                f"implementation started; before it, SetImplementationPlan revises the plan"
            )
            raise FailedPreconditionError(msg)
        if (checked_milestones, checked_sources) == (
            plan["milestones"],
            plan["resource_sources"],
        ):
            msg = f"the implementation plan of practice {self.title!r} already says exactly this"
            raise FailedPreconditionError(msg)
        self._plan_corrected(
            plan_version=int(plan["plan_version"]) + 1,
            approved_by=plan["approved_by"],
            corrected_by=corrected_by,
            reason=reason,
            milestones=checked_milestones,
            resource_sources=checked_sources,
        )

    @event("PlanCorrected")
    def _plan_corrected(  # noqa: PLR0913  # the event's attributes, each named
        self,
        *,
        plan_version: int,
        approved_by: str,
        corrected_by: str,
        reason: str,
        milestones: list[dict[str, Any]],
        resource_sources: list[dict[str, str]],
    ) -> None:
        if self.plan is None:  # pragma: no cover  # only recorded after a plan
            return
        self.plan = {
            **self.plan,
            "plan_version": plan_version,
            "approved_by": approved_by,
            "milestones": milestones,
            "resource_sources": resource_sources,
        }
        self.corrections = [
            *self.corrections,
            {"plan_version": plan_version, "reason": reason, "corrected_by": corrected_by},
        ]

    def set_resident_participants(self, residents: Iterable[Mapping[str, str]]) -> None:
        checked = check_people("resident", residents)
        if not checked:
            msg = "the list of resident participants names at least one resident"
            raise invalid(msg)
        self._require_editable_plan("its list of resident participants")
        if checked == self.residents:
            msg = f"the resident participants of practice {self.title!r} are already these"
            raise FailedPreconditionError(msg)
        self._resident_participants_set(
            residents=checked, list_version=self.resident_list_version + 1
        )

    @event("ResidentParticipantsSet")
    def _resident_participants_set(
        self, residents: list[dict[str, str]], list_version: int
    ) -> None:
        self.residents = residents
        self.resident_list_version = list_version

    def set_involvement_procedure(self, text: str, set_by: str) -> None:
        text = check_text("text", text, minimum=1, maximum=20_000)
        self._require_editable_plan("its resident-involvement procedure")
        current = self.involvement_procedure
        if current is not None and current["text"] == text:
            msg = f"the involvement procedure of practice {self.title!r} already says exactly this"
            raise FailedPreconditionError(msg)
        version = 1 if current is None else int(current["version"]) + 1
        self._involvement_procedure_set(text=text, version=version, set_by=set_by)

    @event("InvolvementProcedureSet")
    def _involvement_procedure_set(self, text: str, version: int, set_by: str) -> None:
        self.involvement_procedure = {"text": text, "version": version, "set_by": set_by}
