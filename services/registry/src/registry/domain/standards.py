"""A city's standard of the charity-event technology (stage 6): tried at charity events of the
city, then adopted as a standard by an act (docs/decisions/0002-registry.md)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.errors import FailedPreconditionError

from registry.domain.checks import check_date, check_ids, check_text, natural_id


def check_standard(  # noqa: PLR0913  # the standard's attributes, each named
    *,
    title: str,
    text: str,
    act_number: str,
    act_date: str,
    piloted_activity_ids: Iterable[str],
    today: date,
) -> dict[str, Any]:
    adopted_on = check_date("act_date", act_date)
    pilots = check_ids("piloted_activity_ids", piloted_activity_ids)
    checked: dict[str, Any] = {
        "title": check_text("title", title, minimum=3, maximum=300),
        "text": check_text("text", text, minimum=1, maximum=20_000),
        "act_number": check_text("act_number", act_number, minimum=1, maximum=100),
        "act_date": adopted_on,
        "piloted_activity_ids": pilots,
    }
    if adopted_on > today.isoformat():
        msg = (
            f"the act is dated {adopted_on}, after today ({today.isoformat()}, UTC): "
            f"record the standard once the act is issued"
        )
        raise FailedPreconditionError(msg)
    if not pilots:
        msg = (
            "a standard is adopted after the technology was tried (апробирована): name in "
            "piloted_activity_ids the charity_event activities, each with its report, that tried it"
        )
        raise FailedPreconditionError(msg)
    return checked


class CharityEventStandard(CityAggregate):
    @staticmethod
    def create_id(city_id: str) -> UUID:
        return natural_id("standard", city_id, "charity_event")

    @classmethod
    def adopt(cls, city_id: str, standard: dict[str, Any], adopted_by: str) -> CharityEventStandard:
        check_city_id(city_id)
        return cls(city_id=city_id, standard_version=1, adopted_by=adopted_by, **standard)

    @event("Adopted")
    def __init__(  # noqa: PLR0913  # the standard's attributes, each named
        self,
        *,
        city_id: str,
        title: str,
        text: str,
        act_number: str,
        act_date: str,
        piloted_activity_ids: list[str],
        standard_version: int,
        adopted_by: str,
    ) -> None:
        self.city_id = city_id
        self._apply(
            title=title,
            text=text,
            act_number=act_number,
            act_date=act_date,
            piloted_activity_ids=piloted_activity_ids,
            standard_version=standard_version,
            adopted_by=adopted_by,
        )

    def _apply(self, **standard: Any) -> None:  # noqa: ANN401  # the standard's attributes
        self.title: str = standard["title"]
        self.text: str = standard["text"]
        self.act_number: str = standard["act_number"]
        self.act_date: str = standard["act_date"]
        self.piloted_activity_ids: list[str] = standard["piloted_activity_ids"]
        self.standard_version: int = standard["standard_version"]
        self.adopted_by: str = standard["adopted_by"]

    def revise(self, standard: dict[str, Any], adopted_by: str) -> None:
        current = {
            "title": self.title,
            "text": self.text,
            "act_number": self.act_number,
            "act_date": self.act_date,
            "piloted_activity_ids": self.piloted_activity_ids,
        }
        if standard == current:
            msg = f"the charity-event standard of city {self.city_id!r} already says exactly this"
            raise FailedPreconditionError(msg)
        self._revised(standard_version=self.standard_version + 1, adopted_by=adopted_by, **standard)

    @event("Revised")
    def _revised(  # noqa: PLR0913  # the standard's attributes, each named
        self,
        *,
        title: str,
        text: str,
        act_number: str,
        act_date: str,
        piloted_activity_ids: list[str],
        standard_version: int,
        adopted_by: str,
    ) -> None:
        self._apply(
            title=title,
            text=text,
            act_number=act_number,
            act_date=act_date,
            piloted_activity_ids=piloted_activity_ids,
            standard_version=standard_version,
            adopted_by=adopted_by,
        )
