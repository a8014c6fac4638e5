from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from lmp_contracts import registry
from lmp_kit.envelope import Envelope
from pymongo import ASCENDING, DESCENDING, InsertOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from registry.domain.checks import normalized
from registry.domain.classifier import cell_key
from registry.domain.passports import searchable_text

PRACTICES = "library_practices"
ACTIVITIES = "activities"
PROBLEMS = "problems"
CITY_PRACTICES = "city_practices"
PROGRESS_REPORTS = "progress_reports"
FACTS = "improvement_facts"
CASES = "external_resource_cases"
WORD = re.compile(r"\w+")

Document = dict[str, Any]


async def write(
    db: AsyncDatabase[Document],
    collection: str,
    updates: Sequence[UpdateOne | InsertOne[Document]],
    session: AsyncClientSession,
) -> None:
    """A batch's writes of one collection in one round trip, applied in the batch's order
    (ordered: each sees the ones before it, as one `update_one` per event did)."""
    if updates:
        await db[collection].bulk_write(list(updates), ordered=True, session=session)


async def found(
    db: AsyncDatabase[Document],
    collection: str,
    ids: Iterable[str],
    session: AsyncClientSession,
    projection: Document | None = None,
) -> dict[str, Document]:
    """The documents of `ids` as the batch begins, in one query."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    cursor = db[collection].find({"_id": {"$in": wanted}}, projection, session=session)
    return {doc["_id"]: doc async for doc in cursor}


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


class Changes:
    """What one event of an aggregate sets in its document, given the document as the
    aggregate's events so far left it.

    A field group (`status`, `plan`, ...) takes the word of the latest aggregate version that
    spoke of it (`versions`): an event the fast path missed may come after later ones (the
    catch-up fills the gap) and must not undo what they said. Sets grow by union. So any order
    and any repetition of an aggregate's events end in the same document."""

    def __init__(self, doc: Document, envelope: Envelope) -> None:
        self.doc = doc
        self.envelope = envelope
        self.fields: Document = {}
        self.versions: Document = {}

    def newer(self, name: str) -> bool:
        known = {**self.doc.get("versions", {}), **self.versions}
        return self.envelope.aggregate_version > int(known.get(name, 0))

    def latest(self, name: str, values: Document) -> None:
        if self.newer(name):
            self.fields |= values
            self.versions[name] = self.envelope.aggregate_version

    def union(self, name: str, values: Iterable[str]) -> None:
        self.fields[name] = sorted({*self.doc.get(name, []), *values})

    def result(self) -> Document:
        if self.versions:
            self.fields["versions"] = {**self.doc.get("versions", {}), **self.versions}
        return self.fields


def folded(
    envelopes: Sequence[Envelope],
    docs: dict[str, Document],
    handlers: Mapping[str, Callable[[Changes], None]],
    derived: Callable[[Document], Document],
) -> list[UpdateOne | InsertOne[Document]]:
    """One write per aggregate of the batch: each event folded into its aggregate's document
    (`docs`, as the batch began in its transaction, kept current) in the batch's order, since
    what an event sets depends on what the ones before left; with the fields `derived` from
    the merged document, and `version` and `updated_at` by `$max`.

    An aggregate without a document when the batch began (the usual case: its first events)
    gets its document inserted whole, which is what the upsert would create: on SecantusDB an
    upsert costs about twice an insert, and the slice's read side wrote one per new problem. Its
    consumer writes the collection alone, in transactions, so none can appear meanwhile."""
    before = set(docs)
    sets: dict[str, Document] = {}
    maxima: dict[str, Document] = {}
    for envelope in envelopes:
        key = str(envelope.aggregate_id)
        doc = docs.get(key, {})
        changes = Changes(doc, envelope)
        handlers[envelope.event_type](changes)
        fields = changes.result()
        fields |= derived({**doc, **fields})
        docs[key] = {**doc, **fields}
        sets[key] = {**sets.get(key, {}), **fields}
        newest = maxima.setdefault(
            key, {"version": envelope.aggregate_version, "updated_at": envelope.occurred_at}
        )
        newest["version"] = max(newest["version"], envelope.aggregate_version)
        newest["updated_at"] = max(newest["updated_at"], envelope.occurred_at)
    return [
        UpdateOne({"_id": key}, {"$set": sets[key], "$max": maxima[key]}, upsert=True)
        if key in before or any("." in name for name in sets[key])
        else InsertOne({"_id": key, **sets[key], **maxima[key]})
        for key in sets
    ]


def _registered(c: Changes) -> None:
    registered = c.envelope.parse(registry.PracticeRegistered)
    c.fields |= {
        "city_id": c.envelope.city_id,
        "kind": registered.kind,
        "title": registered.title,
        "keywords": keywords(registered.title),
        "source_practice_id": registered.source_practice_id or "",
        "registered_at": c.envelope.occurred_at,
        "seq": c.envelope.notification_id,
    }
    c.union("problem_ids", registered.problem_ids)
    c.latest("status", {"status": "submitted", "status_reason": ""})
    c.latest("lifecycle", {"lifecycle_step": registered.lifecycle_step})
    c.latest("cells", cell_fields(registered.cells))


def _classified(c: Changes) -> None:
    c.latest("cells", cell_fields(c.envelope.parse(registry.PracticeClassified).cells))


def _problem_linked(c: Changes) -> None:
    c.union("problem_ids", [c.envelope.parse(registry.PracticeProblemLinked).problem_id])


def _lifecycle_moved(c: Changes) -> None:
    moved = c.envelope.parse(registry.PracticeLifecycleMoved)
    c.latest("lifecycle", {"lifecycle_step": moved.step})


def _status_changed(c: Changes) -> None:
    changed = c.envelope.parse(registry.PracticeStatusChanged)
    c.latest("status", {"status": changed.status, "status_reason": changed.reason})


def _passport_approved(c: Changes) -> None:
    approved = c.envelope.parse(registry.PracticePassportApproved)
    c.latest("passport", {"approved_passport_version": approved.version})


def _ranked(c: Changes) -> None:
    c.latest("rank", {"rank": c.envelope.parse(registry.PracticeRanked).rank})


def _priority_ranked(c: Changes) -> None:
    ranked = c.envelope.parse(registry.PracticePriorityRanked)
    c.latest("priority_rank", {"priority_rank": ranked.priority_rank})


def _plan_set(c: Changes) -> None:
    plan = c.envelope.parse(registry.PracticePlanSet)
    c.latest(
        "plan",
        {
            "plan": {
                "plan_version": plan.plan_version,
                "approved_by": plan.approved_by,
                "milestones": [m.model_dump(mode="json") for m in plan.milestones],
            }
        },
    )
    c.latest("resources", {"resource_sources": [s.model_dump() for s in plan.resource_sources]})
    c.latest("regulation", {"regulation_proposals": plan.regulation_proposals})
    first = c.doc.get("plan_seq")
    if first is None or c.envelope.notification_id < first:
        c.fields |= {"plan_seq": c.envelope.notification_id, "planned_at": c.envelope.occurred_at}


def _milestone_updated(c: Changes) -> None:
    updated = c.envelope.parse(registry.PracticeMilestoneUpdated)
    number = str(updated.number)
    if c.newer(f"milestone_{number}"):
        c.fields["milestone_updates"] = {
            **c.doc.get("milestone_updates", {}),
            number: {
                "status": updated.status,
                "due_date": updated.due_date.isoformat(),
                "version": c.envelope.aggregate_version,
            },
        }
        c.versions[f"milestone_{number}"] = c.envelope.aggregate_version


def _progress_reported(c: Changes) -> None:
    c.union("report_months", [c.envelope.parse(registry.PracticeProgressReported).month])


def _decided(c: Changes) -> None:
    decided = c.envelope.parse(registry.PracticeDecided)
    c.latest(
        "decision", {"last_decision": decided.decision, "last_decision_reason": decided.reason}
    )
    if decided.resource_sources:
        sources = [s.model_dump() for s in decided.resource_sources]
        c.latest("resources", {"resource_sources": sources})


def _plan_fixed_by_act(c: Changes) -> None:
    act = c.envelope.parse(registry.PracticePlanFixedByAct)
    c.latest(
        "act",
        {"act": {"number": act.number, "date": act.act_date.isoformat(), "title": act.title}},
    )


def _regulation_change_status_set(c: Changes) -> None:
    changed = c.envelope.parse(registry.PracticeRegulationChangeStatusSet)
    key = normalized(changed.proposal)
    known = {s["proposal"]: s for s in c.doc.get("regulation_statuses", [])}
    if key not in known or known[key]["version"] < c.envelope.aggregate_version:
        known[key] = {
            "proposal": key,
            "status": changed.status,
            "version": c.envelope.aggregate_version,
        }
    c.fields["regulation_statuses"] = sorted(known.values(), key=lambda s: s["proposal"])


def _plan_corrected(c: Changes) -> None:
    corrected = c.envelope.parse(registry.PracticePlanCorrected)
    c.latest(
        "plan",
        {
            "plan": {
                "plan_version": corrected.plan_version,
                "approved_by": corrected.approved_by,
                "milestones": [m.model_dump(mode="json") for m in corrected.milestones],
            }
        },
    )
    sources = [s.model_dump() for s in corrected.resource_sources]
    c.latest("resources", {"resource_sources": sources})
    c.fields["correction_versions"] = sorted(
        {*c.doc.get("correction_versions", []), corrected.plan_version}
    )


def _resident_participants_set(c: Changes) -> None:
    residents = c.envelope.parse(registry.PracticeResidentParticipantsSet).residents
    c.latest("residents", {"resident_participants": len(residents)})


def _involvement_procedure_set(c: Changes) -> None:
    c.envelope.parse(registry.PracticeInvolvementProcedureSet)
    c.fields["involvement_procedure"] = True


PRACTICE_CHANGES: Mapping[str, Callable[[Changes], None]] = {
    "Practice.Registered": _registered,
    "Practice.Classified": _classified,
    "Practice.ProblemLinked": _problem_linked,
    "Practice.LifecycleMoved": _lifecycle_moved,
    "Practice.StatusChanged": _status_changed,
    "Practice.PassportApproved": _passport_approved,
    "Practice.Ranked": _ranked,
    "Practice.PriorityRanked": _priority_ranked,
    "Practice.PlanSet": _plan_set,
    "Practice.MilestoneUpdated": _milestone_updated,
    "Practice.ProgressReported": _progress_reported,
    "Practice.Decided": _decided,
    "Practice.PlanFixedByAct": _plan_fixed_by_act,
    "Practice.RegulationChangeStatusSet": _regulation_change_status_set,
    "Practice.PlanCorrected": _plan_corrected,
    "Practice.ResidentParticipantsSet": _resident_participants_set,
    "Practice.InvolvementProcedureSet": _involvement_procedure_set,
}


def effective_milestones(doc: Document) -> list[Document]:
    """The plan's milestones with the updates made since that plan version was set."""
    plan = doc.get("plan") or {}
    updates = doc.get("milestone_updates", {})
    milestones = []
    for planned in plan.get("milestones", []):
        update = updates.get(str(planned["number"]))
        if update and update["version"] > doc["versions"]["plan"]:
            milestones.append(
                {**planned, "status": update["status"], "due_date": update["due_date"]}
            )
        else:
            milestones.append(planned)
    return milestones


def plan_progress(doc: Document) -> Document:
    """What ListImplementationPlans shows of a plan's progress, from the merged document."""
    milestones = effective_milestones(doc)
    statuses = [m["status"] for m in milestones]
    open_dates = [m["due_date"] for m in milestones if m["status"] in ("planned", "in_progress")]
    months = sorted(doc.get("report_months", []))
    proposals = [normalized(p) for p in doc.get("regulation_proposals", [])]
    adopted = {
        s["proposal"] for s in doc.get("regulation_statuses", []) if s["status"] == "adopted"
    }
    return {
        "regulation_changes": len(proposals),
        "regulation_changes_adopted": sum(p in adopted for p in proposals),
        "milestones": milestones,
        "milestones_total": len(milestones),
        "milestones_done": statuses.count("done"),
        "milestones_in_progress": statuses.count("in_progress"),
        "milestones_missed": statuses.count("missed"),
        "next_due_date": min(open_dates, default=""),
        "reports": len(months),
        "last_report_month": months[-1] if months else "",
    }


def practice_progress(doc: Document) -> Document:
    return plan_progress(doc) if doc.get("plan") else {}


class CityPracticeProjection:
    """A working group's view of its city's practices (ListPractices: every status, with
    lifecycle step, classifier cells, ranks) and of their implementation plans
    (ListImplementationPlans: status, milestones, reports, the latest decision), with each
    monthly progress report a document of its own (ListProgressReports).

    Replay-safe and idempotent (Changes): each document depends only on its own
    practice's events, whatever their order or repetition; the progress fields are derived
    from the document itself. `seq` (the registration's notification id) orders practices
    newest first, `plan_seq` (the first plan's) plans."""

    event_types: frozenset[str] = frozenset(PRACTICE_CHANGES)
    collections: tuple[str, ...] = (CITY_PRACTICES, PROGRESS_REPORTS)

    async def prepare(self, db: AsyncDatabase[Document]) -> None:
        await db[CITY_PRACTICES].create_index([("city_id", ASCENDING), ("seq", DESCENDING)])
        await db[CITY_PRACTICES].create_index([("city_id", ASCENDING), ("plan_seq", DESCENDING)])
        await db[PROGRESS_REPORTS].create_index(
            [("city_id", ASCENDING), ("month", DESCENDING), ("_id", DESCENDING)]
        )

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> None:
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None:
        """The batch's practices read in one query and folded (`folded`), one update per
        practice and one per report written in a bulk write each."""
        docs = await found(db, CITY_PRACTICES, [str(e.aggregate_id) for e in envelopes], session)
        updates = folded(envelopes, docs, PRACTICE_CHANGES, practice_progress)
        reports = [self.report(e) for e in envelopes if e.event_type == "Practice.ProgressReported"]
        await write(db, CITY_PRACTICES, updates, session)
        await write(db, PROGRESS_REPORTS, reports, session)

    @staticmethod
    def report(envelope: Envelope) -> UpdateOne:
        """A practice has one report per month, never changed: keyed by both, set whole."""
        report = envelope.parse(registry.PracticeProgressReported)
        practice_id = str(envelope.aggregate_id)
        return UpdateOne(
            {"_id": f"{practice_id}:{report.month}"},
            {
                "$set": {
                    "city_id": envelope.city_id,
                    "practice_id": practice_id,
                    "month": report.month,
                    "indicators": [v.model_dump() for v in report.indicators],
                    "note": report.note,
                    "reported_at": envelope.occurred_at,
                    "seq": envelope.notification_id,
                }
            },
            upsert=True,
        )


class PracticeLibraryProjection:
    """The federation library: one document per practice, searchable by words of its title
    and passport (a keyword field: SecantusDB has no $text index) and by classifier cell.

    Replay-safe and idempotent (Changes): status, cells, the approval and each passport
    section keep the word of the latest aggregate version that spoke of them, problems grow by
    union, `replications` counts the distinct versions of `Practice.Replicated`, and the
    keywords come from the title and the sections as the document holds them."""

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
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None:
        docs = await found(db, PRACTICES, [str(e.aggregate_id) for e in envelopes], session)
        await write(
            db, PRACTICES, folded(envelopes, docs, LIBRARY_CHANGES, library_fields), session
        )


def _library_registered(c: Changes) -> None:
    registered = c.envelope.parse(registry.PracticeRegistered)
    c.fields |= {
        "city_id": c.envelope.city_id,
        "kind": registered.kind,
        "title": registered.title,
        "source_practice_id": registered.source_practice_id,
        "registered_at": c.envelope.occurred_at,
    }
    c.union("problem_ids", registered.problem_ids)
    c.latest("status", {"status": "submitted"})
    c.latest("cells", cell_fields(registered.cells))


def _library_status_changed(c: Changes) -> None:
    c.latest("status", {"status": c.envelope.parse(registry.PracticeStatusChanged).status})


def _library_section_edited(c: Changes) -> None:
    edited = c.envelope.parse(registry.PracticePassportSectionEdited)
    if c.newer(f"section_{edited.section}"):
        c.fields["passport"] = {
            **c.doc.get("passport", {}),
            edited.section: searchable_text(edited.section, edited.content),
        }
        c.versions[f"section_{edited.section}"] = c.envelope.aggregate_version


def _library_passport_approved(c: Changes) -> None:
    approved = c.envelope.parse(registry.PracticePassportApproved)
    c.latest("approval", {"approved_passport_version": approved.version})
    c.fields["published"] = True


def _library_replicated(c: Changes) -> None:
    c.envelope.parse(registry.PracticeReplicated)
    versions = {*c.doc.get("replicated_versions", []), c.envelope.aggregate_version}
    c.fields["replicated_versions"] = sorted(versions)


LIBRARY_CHANGES: Mapping[str, Callable[[Changes], None]] = {
    "Practice.Registered": _library_registered,
    "Practice.Classified": _classified,
    "Practice.StatusChanged": _library_status_changed,
    "Practice.PassportSectionEdited": _library_section_edited,
    "Practice.PassportApproved": _library_passport_approved,
    "Practice.ProblemLinked": _problem_linked,
    "Practice.Replicated": _library_replicated,
}


def library_fields(doc: Document) -> Document:
    """What a library entry shows from its practice's document, whatever events it has seen."""
    passport: Document = doc.get("passport", {})
    return {
        "passport": passport,
        "keywords": keywords(doc.get("title", ""), *passport.values()),
        "published": bool(doc.get("published")),
        "approved_passport_version": doc.get("approved_passport_version", 0),
        "problem_ids": doc.get("problem_ids", []),
        "replications": len(doc.get("replicated_versions", [])),
    }


class ProblemProjection:
    """A city's problems as a portal lists them: priority, solved, linked practices, and the
    words of title and description. `seq` (the registration's notification id) orders them
    newest first.

    Replay-safe and idempotent (Changes): the description and the priority keep the word of
    the latest aggregate version that spoke of them, practices grow by union, and the keywords
    come from the title and the description as the document holds them."""

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
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None:
        docs = await found(db, PROBLEMS, [str(e.aggregate_id) for e in envelopes], session)
        await write(db, PROBLEMS, folded(envelopes, docs, PROBLEM_CHANGES, problem_fields), session)


def _problem_registered(c: Changes) -> None:
    registered = c.envelope.parse(registry.ProblemRegistered)
    c.fields |= {
        "city_id": c.envelope.city_id,
        "title": registered.title,
        "registered_at": c.envelope.occurred_at,
        "seq": c.envelope.notification_id,
    }
    c.latest("description", {"description": registered.description})


def _problem_described(c: Changes) -> None:
    described = c.envelope.parse(registry.ProblemDescribed)
    c.latest("description", {"description": described.description})


def _problem_priority_set(c: Changes) -> None:
    c.latest("priority", {"priority": c.envelope.parse(registry.ProblemPrioritySet).priority})


def _problem_practice_linked(c: Changes) -> None:
    c.union("practice_ids", [c.envelope.parse(registry.ProblemPracticeLinked).practice_id])


def _problem_solved(c: Changes) -> None:
    c.envelope.parse(registry.ProblemSolved)
    c.fields["solved"] = True


PROBLEM_CHANGES: Mapping[str, Callable[[Changes], None]] = {
    "Problem.Registered": _problem_registered,
    "Problem.Described": _problem_described,
    "Problem.PrioritySet": _problem_priority_set,
    "Problem.PracticeLinked": _problem_practice_linked,
    "Problem.Solved": _problem_solved,
}


def problem_fields(doc: Document) -> Document:
    """What a problem's entry shows from its document, whatever events it has seen."""
    return {
        "keywords": keywords(doc.get("title", ""), doc.get("description", "")),
        "priority": doc.get("priority", ""),
        "solved": bool(doc.get("solved")),
        "practice_ids": doc.get("practice_ids", []),
    }


class ActivityProjection:
    """Activities of a city with what they still lack (announcement, press release, report).

    Each event sets fields no other event sets, and the activity allows each once (its
    guards), so a `$set` per event is order- and repetition-safe without reading the
    documents; `updated_at` and `version` by `$max`."""

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
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None:
        updates = [
            UpdateOne(
                {"_id": str(e.aggregate_id)},
                {
                    "$set": self.changes(e),
                    "$max": {"updated_at": e.occurred_at, "version": e.aggregate_version},
                },
                upsert=True,
            )
            for e in envelopes
        ]
        await write(db, ACTIVITIES, updates, session)

    @staticmethod
    def changes(envelope: Envelope) -> Document:
        match envelope.event_type:
            case "Activity.Registered":
                activity = envelope.parse(registry.ActivityRegistered)
                return {
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
                return {"announcement_at": announced.published_at.isoformat()}
            case "Activity.PressReleasePublished":
                released = envelope.parse(registry.ActivityPressReleasePublished)
                return {"press_release_at": released.published_at.isoformat()}
            case _:
                return {"report_filed": True}


class FactProjection:
    """A city's improvement facts with the curator's verdict. A fact is judged once, so the
    verdict of a judgement stands whichever of its two events arrives first (the recording
    only sets the empty verdict on a document it creates)."""

    event_types: frozenset[str] = frozenset(
        {"ImprovementFact.Recorded", "ImprovementFact.Recognized", "ImprovementFact.Rejected"}
    )
    collections: tuple[str, ...] = (FACTS,)

    async def prepare(self, db: AsyncDatabase[Document]) -> None:
        await db[FACTS].create_index([("city_id", ASCENDING), ("seq", DESCENDING)])

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> None:
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None:
        updates = [
            UpdateOne({"_id": str(e.aggregate_id)}, self.update(e), upsert=True) for e in envelopes
        ]
        await write(db, FACTS, updates, session)

    @staticmethod
    def update(envelope: Envelope) -> Document:
        update: Document = {"$max": {"version": envelope.aggregate_version}}
        match envelope.event_type:
            case "ImprovementFact.Recorded":
                recorded = envelope.parse(registry.ImprovementFactRecorded)
                update["$set"] = {
                    "city_id": envelope.city_id,
                    "month": recorded.month,
                    "title": recorded.title,
                    "evidence_count": len(recorded.evidence),
                    "recorded_at": envelope.occurred_at,
                    "seq": envelope.notification_id,
                }
                update["$setOnInsert"] = {"verdict": "", "reason": ""}
            case "ImprovementFact.Recognized":
                envelope.parse(registry.ImprovementFactRecognized)
                update["$set"] = {"verdict": "recognized", "reason": ""}
            case _:
                rejected = envelope.parse(registry.ImprovementFactRejected)
                update["$set"] = {"verdict": "rejected", "reason": rejected.reason}
        return update


class CaseProjection:
    """A city's external-resource cases; a case is recorded once and never changes."""

    event_types: frozenset[str] = frozenset({"ExternalResourceCase.Recorded"})
    collections: tuple[str, ...] = (CASES,)

    async def prepare(self, db: AsyncDatabase[Document]) -> None:
        await db[CASES].create_index([("city_id", ASCENDING), ("seq", DESCENDING)])

    async def apply(
        self, envelope: Envelope, db: AsyncDatabase[Document], session: AsyncClientSession
    ) -> None:
        await self.apply_batch([envelope], db, session)

    async def apply_batch(
        self,
        envelopes: Sequence[Envelope],
        db: AsyncDatabase[Document],
        session: AsyncClientSession,
    ) -> None:
        updates = [
            UpdateOne({"_id": str(e.aggregate_id)}, {"$set": self.fields(e)}, upsert=True)
            for e in envelopes
        ]
        await write(db, CASES, updates, session)

    @staticmethod
    def fields(envelope: Envelope) -> Document:
        recorded = envelope.parse(registry.ExternalResourceCaseRecorded)
        return {
            "city_id": envelope.city_id,
            "month": recorded.month,
            "title": recorded.title,
            "source_kind": recorded.source_kind,
            "amount": recorded.amount,
            "currency": recorded.currency,
            "partner": recorded.partner,
            "problem_id": recorded.problem_id or "",
            "recorded_at": envelope.occurred_at,
            "seq": envelope.notification_id,
            "version": envelope.aggregate_version,
        }
