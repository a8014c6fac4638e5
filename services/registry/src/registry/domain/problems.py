from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.errors import InvalidArgumentError

TITLE_LENGTH = range(3, 201)
DESCRIPTION_MAX = 10_000


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
