from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.errors import AlreadyExistsError, FailedPreconditionError

from registry.domain.checks import (
    check_choice,
    check_count,
    check_date,
    check_month,
    check_people,
    check_text,
    check_texts,
    invalid,
    natural_id,
    normalized,
)

CITY_KINDS = ("atom_city", "zato")
FIRST_STAGE = 1
LAST_STAGE = 7
MEMBER_ROLES = ("chair", "deputy_chair", "secretary", "member", "gsr_community_member")
GSR_MEMBER = "gsr_community_member"
# The plans the seed has the city draw up, each with the stage that produces it.
STAGE_PLANS: Mapping[str, int] = {
    "expertise_preparation": 1,
    "strategic_session": 2,
    "selection": 2,
}


class City(CityAggregate):
    class Event(CityAggregate.Event):
        pass

    class WorkingGroupApproved(Event):
        members: list[dict[str, str]]
        order_number: str
        order_date: str
        tasks: list[str]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tasks"] = []

        def apply(self, aggregate: Any) -> None:  # noqa: ANN401  # library signature
            aggregate.working_group = self.members
            aggregate.order = {"number": self.order_number, "date": self.order_date}
            aggregate.working_group_tasks = self.tasks

    @staticmethod
    def create_id(city_id: str) -> UUID:
        return natural_id("city", city_id)

    @classmethod
    def register(  # noqa: PLR0913  # the attributes of a city, each named
        cls,
        city_id: str,
        *,
        name: str,
        region: str,
        kind: str,
        population: int,
        voter_target: int,
    ) -> City:
        check_city_id(city_id)
        return cls(
            city_id=city_id,
            name=check_text("name", name, minimum=2, maximum=200),
            region=check_text("region", region, minimum=2, maximum=200),
            kind=check_choice("kind", kind, CITY_KINDS),
            population=check_count("population", population, minimum=1, maximum=50_000_000),
            voter_target=check_count("voter_target", voter_target, minimum=1, maximum=50_000_000),
        )

    @event("Registered")
    def __init__(  # noqa: PLR0913  # the attributes of a city, each named
        self,
        *,
        city_id: str,
        name: str,
        region: str,
        kind: str,
        population: int,
        voter_target: int,
    ) -> None:
        self.city_id = city_id
        self.name = name
        self.region = region
        self.kind = kind
        self.population = population
        self.voter_target = voter_target
        self.working_group: list[dict[str, str]] = []
        self.order: dict[str, str] = {}
        self.working_group_tasks: list[str] = []
        self.stage_plans: dict[str, dict[str, Any]] = {}
        self.voter_target_history: list[dict[str, Any]] = []
        self.priority_directions: list[str] = []
        self.selection_criteria: list[str] = []
        self.regional_requirements: list[dict[str, str]] = []
        self.stage = FIRST_STAGE

    def approve_working_group(
        self,
        members: Iterable[Mapping[str, str]],
        order_number: str,
        order_date: str,
        tasks: Iterable[str] = (),
    ) -> None:
        checked = check_people("working group member", members)
        if not checked:
            msg = "a working group needs at least one member"
            raise invalid(msg)
        for member, given in zip(checked, members, strict=True):
            member["role"] = check_choice(
                f"role of {member['person_id']}", given.get("role", ""), MEMBER_ROLES
            )
        number = check_text("order_number", order_number, minimum=1, maximum=100)
        dated = check_date("order_date", order_date)
        checked_tasks = check_texts("working group task", tasks)
        self.check_gsr_member(checked)
        self.trigger_event(
            self.WorkingGroupApproved,
            members=checked,
            order_number=number,
            order_date=dated,
            tasks=checked_tasks,
        )

    def check_gsr_member(self, members: list[dict[str, str]]) -> None:
        if not any(m["role"] == GSR_MEMBER for m in members):
            msg = (
                f"the working group of city {self.city_id!r} includes no member of the "
                f"«Гражданин страны Росатом» community: give at least one member the role "
                f"{GSR_MEMBER!r} (the seed: «в состав рабочей группы включены участники "
                f"сообщества ГСР»)"
            )
            raise FailedPreconditionError(msg)

    def fix_strategy(
        self, priority_directions: Iterable[str], selection_criteria: Iterable[str]
    ) -> None:
        directions = check_texts("priority direction", priority_directions)
        criteria = check_texts("selection criterion", selection_criteria)
        if not directions or not criteria:
            msg = "a strategic session fixes at least one priority direction and one criterion"
            raise invalid(msg)
        self._strategy_fixed(priority_directions=directions, selection_criteria=criteria)

    @event("StrategyFixed")
    def _strategy_fixed(
        self, priority_directions: list[str], selection_criteria: list[str]
    ) -> None:
        self.priority_directions = priority_directions
        self.selection_criteria = selection_criteria

    def add_regional_requirement(self, title: str, description: str) -> str:
        checked = check_text("requirement title", title, minimum=3, maximum=300)
        requirement_id = str(natural_id("requirement", self.city_id, normalized(checked)))
        if self.has_requirement(requirement_id):
            msg = (
                f"city {self.city_id!r} already lists the regional requirement {checked!r}: "
                f"{requirement_id}"
            )
            raise AlreadyExistsError(msg)
        self._regional_requirement_added(
            requirement_id=requirement_id,
            title=checked,
            description=check_text("requirement description", description, maximum=5000),
        )
        return requirement_id

    @event("RegionalRequirementAdded")
    def _regional_requirement_added(
        self, requirement_id: str, title: str, description: str
    ) -> None:
        self.regional_requirements.append(
            {"requirement_id": requirement_id, "title": title, "description": description}
        )

    def has_requirement(self, requirement_id: str) -> bool:
        return any(r["requirement_id"] == requirement_id for r in self.regional_requirements)

    def record_stage_plan(
        self, plan: str, items: Iterable[str], document: str, approved_on: str
    ) -> None:
        check_choice("plan", plan, STAGE_PLANS)
        checked = check_texts("plan item", items)
        if not checked:
            msg = f"the {plan} plan lists at least one item (what is done, by whom, when)"
            raise invalid(msg)
        self._stage_plan_recorded(
            plan=plan,
            items=checked,
            document=check_text("document", document, maximum=500),
            approved_on=check_date("approved_on", approved_on),
        )

    @event("StagePlanRecorded")
    def _stage_plan_recorded(
        self, plan: str, items: list[str], document: str, approved_on: str
    ) -> None:
        self.stage_plans[plan] = {
            "plan": plan,
            "stage": STAGE_PLANS[plan],
            "items": items,
            "document": document,
            "approved_on": approved_on,
        }

    def change_voter_target(self, voter_target: int, reason: str, month: str) -> None:
        target = check_count("voter_target", voter_target, minimum=1, maximum=50_000_000)
        why = check_text("reason", reason, minimum=3, maximum=1000)
        if target == self.voter_target:
            msg = f"city {self.city_id!r} already has the voter target {target}"
            raise FailedPreconditionError(msg)
        self._voter_target_changed(
            voter_target=target,
            previous=self.voter_target,
            reason=why,
            effective_month=check_month("month", month),
        )

    @event("VoterTargetChanged")
    def _voter_target_changed(
        self, voter_target: int, previous: int, reason: str, effective_month: str
    ) -> None:
        self.voter_target_history.append(
            {
                "voter_target": voter_target,
                "previous": previous,
                "reason": reason,
                "effective_month": effective_month,
            }
        )
        self.voter_target = voter_target

    def advance_stage(self, to_stage: int, missing: Iterable[str]) -> None:
        if self.stage == LAST_STAGE:
            msg = f"city {self.city_id!r} is already at the last programme stage {LAST_STAGE}"
            raise FailedPreconditionError(msg)
        if to_stage != self.stage + 1:
            msg = (
                f"city {self.city_id!r} is at programme stage {self.stage}; stages advance one "
                f"at a time, so the next is {self.stage + 1}, not {to_stage}"
            )
            raise FailedPreconditionError(msg)
        lacking = list(missing)
        if lacking:
            msg = (
                f"stage {self.stage} of city {self.city_id!r} has not produced what the "
                f"methodology asks of it; still missing: {'; '.join(lacking)}"
            )
            raise FailedPreconditionError(msg)
        self._stage_advanced(stage=to_stage)

    @event("StageAdvanced")
    def _stage_advanced(self, stage: int) -> None:
        self.stage = stage
