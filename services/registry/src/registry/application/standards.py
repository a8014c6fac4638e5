"""The use cases of a city's charity-event standard (stage 6)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from lmp_kit.auth import Principal
from lmp_kit.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError

from registry.application.activities import ActivityUseCases
from registry.domain import CharityEventStandard
from registry.domain.checks import utc_today
from registry.domain.standards import check_standard


class StandardUseCases(ActivityUseCases):
    def adopt_charity_event_standard(  # noqa: PLR0913  # the standard's attributes, each named
        self,
        actor: Principal,
        city_id: str,
        *,
        title: str,
        text: str,
        act_number: str,
        act_date: str,
        piloted_activity_ids: Iterable[str],
    ) -> CharityEventStandard:
        standard = check_standard(
            title=title,
            text=text,
            act_number=act_number,
            act_date=act_date,
            piloted_activity_ids=piloted_activity_ids,
            today=utc_today(),
        )
        self._check_pilots(city_id, standard["piloted_activity_ids"])
        try:
            found = self.get_charity_event_standard(city_id)
        except NotFoundError:
            adopted = CharityEventStandard.adopt(city_id, standard, actor.subject)
            self._create(
                adopted,
                conflict=f"city {city_id!r} adopted its charity-event standard just now: "
                f"read it (GetCharityEventStandard) and revise it",
            )
            return adopted
        found.revise(standard, actor.subject)
        self.save(found)
        return found

    def _check_pilots(self, city_id: str, activity_ids: list[str]) -> None:
        for activity_id in activity_ids:
            try:
                activity = self.get_activity(UUID(activity_id))
            except NotFoundError:
                activity = None
            if activity is None or activity.city_id != city_id:
                msg = f"piloted_activity_ids: {activity_id} is not an activity of city {city_id!r}"
                raise InvalidArgumentError(msg)
            if activity.kind != "charity_event":
                msg = (
                    f"piloted_activity_ids: activity {activity.title!r} is a {activity.kind}, "
                    f"not a charity_event"
                )
                raise InvalidArgumentError(msg)
            if activity.report is None:
                msg = (
                    f"the charity event {activity.title!r} has no report yet: a technology is "
                    f"tried when its event is held and reported (FileActivityReport first)"
                )
                raise FailedPreconditionError(msg)

    def has_charity_event_standard(self, city_id: str) -> bool:
        """Whether the city adopted its charity-event standard (the stage-6 gate)."""
        try:
            self.get_charity_event_standard(city_id)
        except NotFoundError:
            return False
        return True

    def get_charity_event_standard(self, city_id: str) -> CharityEventStandard:
        standard_id = CharityEventStandard.create_id(city_id)
        try:
            return self._get(CharityEventStandard, standard_id, "charity-event standard")
        except NotFoundError:
            msg = (
                f"city {city_id!r} has not adopted a charity-event standard yet "
                f"(AdoptCharityEventStandard)"
            )
            raise NotFoundError(msg) from None
