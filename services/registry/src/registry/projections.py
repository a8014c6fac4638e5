from __future__ import annotations

import re
from typing import Any

from lmp_kit.envelope import Envelope
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from registry.domain.classifier import cell_key
from registry.domain.passports import searchable_text

PRACTICES = "library_practices"
ACTIVITIES = "activities"
WORD = re.compile(r"\w+")

Document = dict[str, Any]


def keywords(*texts: str) -> list[str]:
    return sorted({word for text in texts for word in WORD.findall(text.casefold())})


def cell_fields(cells: list[dict[str, Any]]) -> Document:
    return {
        "cells": cells,
        "functions": sorted({c["function"] for c in cells}),
        "methods": sorted({c["method"] for c in cells}),
        "cell_keys": sorted({cell_key(c["function"], c["method"]) for c in cells}),
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
        payload = envelope.payload
        kind = envelope.event_type.partition(".")[2]
        practices = db[PRACTICES]
        key = {"_id": str(envelope.aggregate_id)}
        changes: Document = {
            "updated_at": envelope.occurred_at,
            "version": envelope.aggregate_version,
        }
        update: Document = {"$set": changes}
        if kind == "Registered":
            changes |= {
                "city_id": envelope.city_id,
                "kind": payload["kind"],
                "title": payload["title"],
                "status": "submitted",
                "problem_ids": payload["problem_ids"],
                "source_practice_id": payload.get("source_practice_id"),
                "published": False,
                "approved_passport_version": 0,
                "replications": 0,
                "passport": {},
                "keywords": keywords(payload["title"]),
                "registered_at": envelope.occurred_at,
                **cell_fields(payload.get("cells", [])),
            }
        elif kind == "Classified":
            changes |= cell_fields(payload["cells"])
        elif kind == "StatusChanged":
            changes["status"] = payload["status"]
        elif kind == "PassportSectionEdited":
            found = await practices.find_one(key, session=session) or {}
            passport = dict(found.get("passport", {}))
            passport[payload["section"]] = searchable_text(payload["section"], payload["content"])
            changes |= {
                "passport": passport,
                "keywords": keywords(found.get("title", ""), *passport.values()),
            }
        elif kind == "PassportApproved":
            changes |= {"published": True, "approved_passport_version": payload["version"]}
        elif kind == "ProblemLinked":
            update["$addToSet"] = {"problem_ids": payload["problem_id"]}
        elif kind == "Replicated":
            update["$inc"] = {"replications": 1}
        await practices.update_one(key, update, upsert=True, session=session)


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
        payload = envelope.payload
        changes: Document = {"updated_at": envelope.occurred_at}
        match envelope.event_type:
            case "Activity.Registered":
                changes |= {
                    "city_id": envelope.city_id,
                    "kind": payload["kind"],
                    "title": payload["title"],
                    "held_on": payload["held_on"],
                    "month": payload["held_on"][:7],
                    "joint_action": payload["joint_action"],
                }
            case "Activity.AnnouncementPublished":
                changes["announcement_at"] = payload["published_at"]
            case "Activity.PressReleasePublished":
                changes["press_release_at"] = payload["published_at"]
            case _:
                changes["report_filed"] = True
        await db[ACTIVITIES].update_one(
            {"_id": str(envelope.aggregate_id)}, {"$set": changes}, upsert=True, session=session
        )
