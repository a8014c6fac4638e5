from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from lmp_contracts.registry import JOINT_ACTION, PARTICIPANT_CATEGORIES
from lmp_kit.domain import CityAggregate, check_city_id
from lmp_kit.errors import FailedPreconditionError

from registry.domain.checks import (
    check_choice,
    check_date,
    check_moment,
    check_month_begun,
    check_people,
    check_text,
    invalid,
    natural_id,
    normalized,
)

ACTIVITY_KINDS = (
    "working_meeting",
    "strategic_session",
    "council_sitting",
    "charity_event",
    "other",
)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
PHOTO_URI = re.compile(r"^(https?|s3|file)://\S{1,1000}$")


class Activity(CityAggregate):
    class Registered(CityAggregate.Created):
        """Version 2 names who took part (`participant_categories`) instead of version 1's
        bare `joint_action` flag (docs/decisions/0012-event-contracts.md)."""

        kind: str
        title: str
        held_on: str
        speakers: list[dict[str, str]]
        participant_categories: list[str]
        branding_used: bool
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            joint = state.pop("joint_action", False)
            state["participant_categories"] = sorted(JOINT_ACTION) if joint else []

    @staticmethod
    def create_id(city_id: str, held_on: str, title: str) -> UUID:
        return natural_id("activity", city_id, held_on, normalized(title))

    @classmethod
    def register(  # noqa: PLR0913  # the attributes of an activity, each named
        cls,
        city_id: str,
        kind: str,
        title: str,
        held_on: str,
        *,
        speakers: Iterable[Mapping[str, str]] = (),
        participant_categories: Iterable[str] = (),
        joint_action: bool = False,
        branding_used: bool = False,
        today: date | None = None,
    ) -> Activity:
        """`joint_action` is the API's older way to say that the enterprise and the
        administration took part: it adds those two categories. With `today`, an activity of a
        month that has not begun is refused (a reaction records what another service held)."""
        check_city_id(city_id)
        categories = {
            check_choice("participant_categories", c, PARTICIPANT_CATEGORIES)
            for c in participant_categories
        }
        if joint_action:
            categories |= JOINT_ACTION
        activity = cls(
            city_id=city_id,
            kind=check_choice("kind", kind, ACTIVITY_KINDS),
            title=check_text("title", title, minimum=3, maximum=200),
            held_on=check_date("held_on", held_on),
            speakers=check_people("speaker", speakers),
            participant_categories=sorted(categories),
            branding_used=branding_used,
        )
        if today is not None:
            check_month_begun("the month of held_on", activity.held_on[:7], today)
        return activity

    @event(Registered)
    def __init__(  # noqa: PLR0913  # the attributes of an activity, each named
        self,
        *,
        city_id: str,
        kind: str,
        title: str,
        held_on: str,
        speakers: list[dict[str, str]],
        participant_categories: list[str],  # event attribute
        branding_used: bool,  # event attribute
    ) -> None:
        self.city_id = city_id
        self.kind = kind
        self.title = title
        self.held_on = held_on
        self.speakers = speakers
        self.participant_categories = participant_categories
        self.branding_used = branding_used
        self.announcement: dict[str, str] | None = None
        self.press_release: dict[str, str] | None = None
        self.report: dict[str, list[dict[str, str]]] | None = None

    @property
    def joint_action(self) -> bool:
        """K5: the enterprise and the administration both took part."""
        return set(self.participant_categories) >= JOINT_ACTION

    def publish_announcement(self, text: str, published_at: datetime) -> None:
        if self.announcement is not None:
            msg = f"activity {self.title!r} already has an announcement"
            raise FailedPreconditionError(msg)
        self._announcement_published(
            text=check_text("announcement text", text, minimum=1),
            published_at=check_moment("announcement published_at", published_at).isoformat(),
        )

    @event("AnnouncementPublished")
    def _announcement_published(self, text: str, published_at: str) -> None:
        self.announcement = {"text": text, "published_at": published_at}

    def publish_press_release(self, text: str, published_at: datetime) -> None:
        if self.press_release is not None:
            msg = f"activity {self.title!r} already has a press release"
            raise FailedPreconditionError(msg)
        self._press_release_published(
            text=check_text("press release text", text, minimum=1),
            published_at=check_moment("press release published_at", published_at).isoformat(),
        )

    @event("PressReleasePublished")
    def _press_release_published(self, text: str, published_at: str) -> None:
        self.press_release = {"text": text, "published_at": published_at}

    def file_report(
        self, attendees: Iterable[Mapping[str, str]], photos: Iterable[Mapping[str, str]]
    ) -> None:
        if self.report is not None:
            msg = f"activity {self.title!r} already has a report"
            raise FailedPreconditionError(msg)
        checked_attendees = check_people("attendee", attendees)
        checked_photos = check_photos(photos)
        if not checked_attendees or not checked_photos:
            msg = "a report needs the attendee list and at least one photo"
            raise invalid(msg)
        self._report_filed(attendees=checked_attendees, photos=checked_photos)

    @event("ReportFiled")
    def _report_filed(self, attendees: list[dict[str, str]], photos: list[dict[str, str]]) -> None:
        self.report = {"attendees": attendees, "photos": photos}


def check_photos(photos: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    checked = []
    for number, photo in enumerate(photos, start=1):
        uri = photo.get("uri", "").strip()
        digest = photo.get("sha256", "").strip().lower()
        if not PHOTO_URI.fullmatch(uri):
            msg = f"photo #{number} needs a uri (http(s)://, s3:// or file://), not {uri!r}"
            raise invalid(msg)
        if not SHA256.fullmatch(digest):
            msg = f"photo #{number} needs its content hash: sha256 as 64 hex digits"
            raise invalid(msg)
        checked.append({"uri": uri, "sha256": digest})
    return checked
