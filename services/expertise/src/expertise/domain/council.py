from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from lmp_kit.auth import ALL_CITIES
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)

FEDERATION = ALL_CITIES
PERSON_ID_LENGTH = range(1, 201)
NAME_LENGTH = range(1, 201)
REASON_MAX = 2_000
CRITERIA = ("effectiveness", "resource_intensity", "time_to_implement", "fit_to_city_needs")
DEFAULT_WEIGHTS = dict.fromkeys(CRITERIA, 1)
WEIGHT_RANGE = range(101)
QUORUM_MAX = 1_000


class Council(CityAggregate):
    """The Expert Council of the «Гражданин страны Росатом» community: one for the federation."""

    members: dict[str, dict[str, Any]]
    chair_id: str | None
    quorum: int
    weights: dict[str, int]

    @staticmethod
    def create_id() -> UUID:
        return uuid5(NAMESPACE_URL, "lmp:expertise:council")

    @classmethod
    def form(cls, quorum: int = 0) -> Council:
        check_quorum(quorum)
        return cls(city_id=FEDERATION, quorum=quorum, weights=dict(DEFAULT_WEIGHTS))

    @event("Formed")
    def __init__(self, city_id: str, quorum: int, weights: dict[str, int]) -> None:
        self.city_id = city_id
        self.quorum = quorum
        self.weights = dict(weights)
        self.members = {}
        self.chair_id = None

    def admit(self, person_id: str, name: str, cities: list[str]) -> None:
        person_id = check_person_id(person_id)
        if person_id in self.members:
            msg = f"{person_id} is already a member of the council"
            raise AlreadyExistsError(msg)
        self._admit_member(person_id, check_name(name), check_cities(cities))

    @event("MemberAdmitted")
    def _admit_member(self, person_id: str, name: str, cities: list[str]) -> None:
        self.members[person_id] = {"person_id": person_id, "name": name, "cities": list(cities)}

    def change_cities(self, person_id: str, cities: list[str]) -> None:
        self.check_member(person_id)
        self._change_member_cities(person_id, check_cities(cities))

    @event("MemberCitiesChanged")
    def _change_member_cities(self, person_id: str, cities: list[str]) -> None:
        self.members[person_id]["cities"] = list(cities)

    def remove(self, person_id: str, reason: str) -> None:
        self.check_member(person_id)
        if person_id == self.chair_id:
            msg = f"{person_id} chairs the council: appoint another chair before removing them"
            raise FailedPreconditionError(msg)
        self._remove_member(person_id, check_reason(reason))

    @event("MemberRemoved")
    def _remove_member(self, person_id: str, reason: str) -> None:
        del reason
        del self.members[person_id]

    def appoint_chair(self, person_id: str) -> None:
        self.check_member(person_id)
        self._appoint_chair(person_id)

    @event("ChairAppointed")
    def _appoint_chair(self, person_id: str) -> None:
        self.chair_id = person_id

    def set_quorum(self, quorum: int) -> None:
        self._set_quorum(check_quorum(quorum))

    @event("QuorumSet")
    def _set_quorum(self, quorum: int) -> None:
        self.quorum = quorum

    def set_weights(self, weights: dict[str, int]) -> None:
        self._set_weights(check_weights(weights))

    @event("CriterionWeightsSet")
    def _set_weights(self, weights: dict[str, int]) -> None:
        self.weights = dict(weights)

    def check_member(self, person_id: str) -> None:
        if person_id not in self.members:
            msg = f"{person_id} is not a member of the council"
            raise NotFoundError(msg)

    def check_chair(self, person_id: str, action: str) -> None:
        if person_id != self.chair_id:
            msg = f"only the chair of the council {action}; {person_id} is not the chair"
            raise PermissionDeniedError(msg)

    def is_member(self, person_id: str) -> bool:
        return person_id in self.members

    def may_review(self, person_id: str, city_id: str) -> bool:
        member = self.members.get(person_id)
        return member is not None and (
            city_id in member["cities"] or FEDERATION in member["cities"]
        )

    def quorum_required(self) -> int:
        return self.quorum or len(self.members) // 2 + 1


def check_person_id(person_id: str) -> str:
    person_id = person_id.strip()
    if len(person_id) not in PERSON_ID_LENGTH:
        msg = f"person_id must be 1 to {PERSON_ID_LENGTH.stop - 1} characters"
        raise InvalidArgumentError(msg)
    return person_id


def check_name(name: str) -> str:
    name = name.strip()
    if len(name) not in NAME_LENGTH:
        msg = f"name must be 1 to {NAME_LENGTH.stop - 1} characters (got {len(name)})"
        raise InvalidArgumentError(msg)
    return name


def check_cities(cities: list[str]) -> list[str]:
    if not cities:
        msg = "a council member needs at least one city to review ('*' for every city)"
        raise InvalidArgumentError(msg)
    return sorted({c if c == FEDERATION else check_city_id(c) for c in cities})


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        msg = f"a reason of 1 to {REASON_MAX} characters is required"
        raise InvalidArgumentError(msg)
    return reason


def check_quorum(quorum: int) -> int:
    if not 0 <= quorum <= QUORUM_MAX:
        msg = f"quorum must be 0 (a majority of members) to {QUORUM_MAX}, not {quorum}"
        raise InvalidArgumentError(msg)
    return quorum


def check_weights(weights: dict[str, int]) -> dict[str, int]:
    unknown = sorted(set(weights) - set(CRITERIA))
    if unknown:
        msg = f"unknown criteria {unknown}; the criteria are {', '.join(CRITERIA)}"
        raise InvalidArgumentError(msg)
    complete = {c: weights.get(c, 0) for c in CRITERIA}
    for criterion, weight in complete.items():
        if weight not in WEIGHT_RANGE:
            msg = (
                f"the weight of {criterion} must be {WEIGHT_RANGE.start} to "
                f"{WEIGHT_RANGE.stop - 1}, not {weight}"
            )
            raise InvalidArgumentError(msg)
    if not sum(complete.values()):
        msg = "at least one criterion needs a positive weight"
        raise InvalidArgumentError(msg)
    return complete
