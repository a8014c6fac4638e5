from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lmp_contracts import registry
from lmp_kit.envelope import Envelope
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from registry.domain.classifier import cell_key
from registry.domain.passports import searchable_text

PRACTICES = "library_practices"
ACTIVITIES = "activities"
PROBLEMS = "problems"
WORD = re.compile(r"\w+")

Document = dict[str, Any]


def keywords(*texts: str) -> list[str]:
    return sorted({word for text in texts for word in WORD.findall(text.casefold())})


def cell_fields(cells: Iterable[registry.Cell]) -> Document:
    listed = list(cells)
    return {
        "cells": [c.model_dump() for c in listed],
        "functions": sorted({c.function for c in listed}),
        "methods": sorted({c.method for c in listed}),
        "cell_keys": sorted({cell_key(c.function, c.method) for c in listed}),
    }


class PracticeLibraryProjection:
    """The federation library: one document per practice, searchable by words of its title
    and passport (a keyword field: SecantusDB has no $text index) and by classifier cell."""

    event_types: frozenset[str] = frozenset(
        {
            "Practice.Registered",
            "Practice.Classified",
            "Practice.StatusChanged",
            "Practice.PassportSectionEdited",
            "Practice.PassportApproved",
            "Practice.ProblemLinked",
            "Practice.Replicated",
        }
    )
    collections: tuple[str, ...] = (PRACTICES,)

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> None:
        kind = envelope.event_type.partition(".")[2]
        practices = db[PRACTICES]
        key = {"_id": str(envelope.aggregate_id)}
        changes: Document = {
            "updated_at": envelope.occurred_at,
            "version": envelope.aggregate_version,
        }
        update: Document = {"$set": changes}
        if kind == "Registered":
            registered = envelope.parse(registry.PracticeRegistered)
            changes |= {
                "city_id": envelope.city_id,
                "kind": registered.kind,
                "title": registered.title,
                "status": "submitted",
                "problem_ids": list(registered.problem_ids),
                "source_practice_id": registered.source_practice_id,
                "published": False,
                "approved_passport_version": 0,
                "replications": 0,
                "passport": {},
                "keywords": keywords(registered.title),
                "registered_at": envelope.occurred_at,
                **cell_fields(registered.cells),
            }
        elif kind == "Classified":
            changes |= cell_fields(envelope.parse(registry.PracticeClassified).cells)
        elif kind == "StatusChanged":
            changes["status"] = envelope.parse(registry.PracticeStatusChanged).status
        elif kind == "PassportSectionEdited":
            edited = envelope.parse(registry.PracticePassportSectionEdited)
            found = await practices.find_one(key, session=session) or {}
            passport = dict(found.get("passport", {}))
            passport[edited.section] = searchable_text(edited.section, edited.content)
            changes |= {
                "passport": passport,
                "keywords": keywords(found.get("title", ""), *passport.values()),
            }
        elif kind == "PassportApproved":
            approved = envelope.parse(registry.PracticePassportApproved)
            changes |= {"published": True, "approved_passport_version": approved.version}
        elif kind == "ProblemLinked":
            linked = envelope.parse(registry.PracticeProblemLinked)
            update["$addToSet"] = {"problem_ids": linked.problem_id}
        elif kind == "Replicated":
            update["$inc"] = {"replications": 1}
        await practices.update_one(key, update, upsert=True, session=session)


class ProblemProjection:
    """A city's problems as a portal lists them: priority, solved, linked practices, and the
    words of title and description. `seq` (the registration's notification id) orders them
    newest first."""

    event_types: frozenset[str] = frozenset(
        {
            "Problem.Registered",
            "Problem.Described",
            "Problem.PrioritySet",
            "Problem.PracticeLinked",
            "Problem.Solved",
        }
    )
    collections: tuple[str, ...] = (PROBLEMS,)

    async def prepare(self, db: AsyncDatabase[Document]) -> None:
        await db[PROBLEMS].create_index([("city_id", ASCENDING), ("seq", DESCENDING)])

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> None:
        problems = db[PROBLEMS]
        key = {"_id": str(envelope.aggregate_id)}
        update: Document = {"$set": {"updated_at": envelope.occurred_at}}
        match envelope.event_type:
            case "Problem.Registered":
                registered = envelope.parse(registry.ProblemRegistered)
                update["$set"] |= {
                    "city_id": envelope.city_id,
                    "title": registered.title,
                    "description": registered.description,
                    "keywords": keywords(registered.title, registered.description),
                    "registered_at": envelope.occurred_at,
                    "seq": envelope.notification_id,
                }
                update["$setOnInsert"] = {"priority": "", "solved": False, "practice_ids": []}
            case "Problem.Described":
                described = envelope.parse(registry.ProblemDescribed)
                found = await problems.find_one(key, {"title": 1}, session=session) or {}
                update["$set"] |= {
                    "description": described.description,
                    "keywords": keywords(found.get("title", ""), described.description),
                }
            case "Problem.PrioritySet":
                update["$set"]["priority"] = envelope.parse(registry.ProblemPrioritySet).priority
            case "Problem.PracticeLinked":
                linked = envelope.parse(registry.ProblemPracticeLinked)
                update["$addToSet"] = {"practice_ids": linked.practice_id}
            case _:
                envelope.parse(registry.ProblemSolved)
                update["$set"]["solved"] = True
        await problems.update_one(key, update, upsert=True, session=session)


class ActivityProjection:
    """Activities of a city with what they still lack (announcement, press release, report)."""

    event_types: frozenset[str] = frozenset(
        {
            "Activity.Registered",
            "Activity.AnnouncementPublished",
            "Activity.PressReleasePublished",
            "Activity.ReportFiled",
        }
    )
    collections: tuple[str, ...] = (ACTIVITIES,)

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> None:
        changes: Document = {"updated_at": envelope.occurred_at}
        match envelope.event_type:
            case "Activity.Registered":
                activity = envelope.parse(registry.ActivityRegistered)
                changes |= {
                    "city_id": envelope.city_id,
                    "kind": activity.kind,
                    "title": activity.title,
                    "held_on": activity.held_on.isoformat(),
                    "month": f"{activity.held_on:%Y-%m}",
                    "participant_categories": activity.participant_categories,
                    "joint_action": activity.joint_action,
                }
            case "Activity.AnnouncementPublished":
                announced = envelope.parse(registry.ActivityAnnouncementPublished)
                changes["announcement_at"] = announced.published_at.isoformat()
            case "Activity.PressReleasePublished":
                released = envelope.parse(registry.ActivityPressReleasePublished)
                changes["press_release_at"] = released.published_at.isoformat()
            case _:
                changes["report_filed"] = True
        await db[ACTIVITIES].update_one(
            {"_id": str(envelope.aggregate_id)}, {"$set": changes}, upsert=True, session=session
        )
