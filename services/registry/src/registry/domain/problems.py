from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.errors import FailedPreconditionError, InvalidArgumentError

TITLE_LENGTH = range(3, 201)
DESCRIPTION_MAX = 10_000
PRIORITIES = ("high", "medium", "low")


class Problem(CityAggregate):
    @staticmethod
    def create_id(city_id: str, title: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"lmp:registry:problem:{city_id}:{normalized(title)}")

    @classmethod
    def register(cls, city_id: str, title: str, description: str) -> Problem:
        check_city_id(city_id)
        check_title(title)
        check_description(description)
        return cls(city_id=city_id, title=title.strip(), description=description.strip())

    @event("Registered")
    def __init__(self, city_id: str, title: str, description: str) -> None:
        self.city_id = city_id
        self.title = title
        self.description = description
        self.priority = ""
        self.practice_ids: list[str] = []
        self.solved = False
        self.solved_with_external_resources = False

    def describe(self, description: str) -> None:
        check_description(description)
        if description.strip() == self.description:
            msg = f"problem {self.title!r} already has this description"
            raise FailedPreconditionError(msg)
        self._described(description=description.strip())

    @event("Described")
    def _described(self, description: str) -> None:
        self.description = description

    def set_priority(self, priority: str) -> None:
        if priority not in PRIORITIES:
            msg = f"priority {priority!r} is not one of: {', '.join(PRIORITIES)}"
            raise InvalidArgumentError(msg)
        if priority == self.priority:
            msg = f"problem {self.title!r} already has priority {priority}"
            raise FailedPreconditionError(msg)
        self._priority_set(priority=priority)

    @event("PrioritySet")
    def _priority_set(self, priority: str) -> None:
        self.priority = priority

    def link_practice(self, practice_id: str) -> bool:
        if practice_id in self.practice_ids:
            return False
        self._practice_linked(practice_id=practice_id)
        return True

    @event("PracticeLinked")
    def _practice_linked(self, practice_id: str) -> None:
        self.practice_ids = [*self.practice_ids, practice_id]

    def mark_solved(self, *, with_external_resources: bool) -> None:
        if self.solved:
            msg = f"problem {self.title!r} is already solved"
            raise FailedPreconditionError(msg)
        self._solved(solved_with_external_resources=with_external_resources)

    @event("Solved")
    def _solved(self, solved_with_external_resources: bool) -> None:  # noqa: FBT001  # event attribute
        self.solved = True
        self.solved_with_external_resources = solved_with_external_resources


def normalized(title: str) -> str:
    return " ".join(title.casefold().split())


def check_title(title: str) -> None:
    if len(title.strip()) not in TITLE_LENGTH:
        msg = (
            f"title must be {TITLE_LENGTH.start} to {TITLE_LENGTH.stop - 1} characters "
            f"(got {len(title.strip())})"
        )
        raise InvalidArgumentError(msg)


def check_description(description: str) -> None:
    if len(description.strip()) > DESCRIPTION_MAX:
        msg = (
            f"description must be at most {DESCRIPTION_MAX} characters "
            f"(got {len(description.strip())})"
        )
        raise InvalidArgumentError(msg)
