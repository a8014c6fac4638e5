"""The use cases of a city's programme activities: registration, publications, report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from uuid import UUID

from lmp_kit.idempotency import Claim, Retry

from registry.application.base import RegistryBase
from registry.domain import Activity
from registry.domain.checks import utc_today


class ActivityUseCases(RegistryBase):
    def register_activity(  # noqa: PLR0913  # the attributes of an activity, each named
        self,
        city_id: str,
        kind: str,
        title: str,
        held_on: str,
        *,
        speakers: Iterable[Mapping[str, str]] = (),
        participant_categories: Iterable[str] = (),
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
                participant_categories=participant_categories,
                joint_action=joint_action,
                branding_used=branding_used,
                today=utc_today(),
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
