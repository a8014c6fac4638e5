"""Queries of a practice's history: a passport section's versions and their differences, the
practice as it was at a moment, its replication tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from lmp_kit.auth import Principal
from lmp_kit.errors import FailedPreconditionError, InvalidArgumentError

from registry.application.practices import PracticeUseCases
from registry.domain import Practice
from registry.domain.checks import check_moment
from registry.domain.passports import SECTIONS, Content, diff


@dataclass(frozen=True)
class SectionVersion:
    version: int
    content: Content
    edited_at: datetime
    passport_version: int


class HistoryQueries(PracticeUseCases):
    def section_history(
        self, actor: Principal, practice_id: UUID, section: str
    ) -> list[SectionVersion]:
        if section not in SECTIONS:
            msg = f"passport section {section!r} is not one of: {', '.join(SECTIONS)}"
            raise InvalidArgumentError(msg)
        self.readable_practice(actor, practice_id)
        return [
            SectionVersion(
                version=e.section_version,
                content=e.content,
                edited_at=e.timestamp,
                passport_version=e.passport_version,
            )
            for e in self._events_of(practice_id)
            if type(e).__qualname__ == "Practice.PassportSectionEdited" and e.section == section
        ]

    def _events_of(self, aggregate_id: UUID) -> list[Any]:
        return list(self.repository.event_store.get(aggregate_id))

    def section_diff(
        self, actor: Principal, practice_id: UUID, section: str, versions: tuple[int, int]
    ) -> str:
        history = self.section_history(actor, practice_id, section)
        contents = {v.version: v.content for v in history}
        for version in versions:
            if version != 0 and version not in contents:
                msg = (
                    f"passport section {section} has versions 1 to {len(history)} "
                    f"(0 means empty), not {version}"
                )
                raise InvalidArgumentError(msg)
        return diff(section, contents.get(versions[0]), contents.get(versions[1]), versions)

    def practice_as_of(self, actor: Principal, practice_id: UUID, moment: datetime) -> Practice:
        check_moment("as_of", moment)
        current = self.readable_practice(actor, practice_id)
        version = 0
        for stored in self._events_of(practice_id):
            if stored.timestamp > moment:
                break
            version = stored.originator_version
        if not version:
            msg = f"practice {current.title!r} was not yet registered at {moment.isoformat()}"
            raise FailedPreconditionError(msg)
        past: Practice = self.repository.get(practice_id, version=version)
        return past

    def lineage(self, actor: Principal, practice_id: UUID) -> list[tuple[Practice, int]]:
        """The replication tree the practice belongs to, from its root, depth first: only the
        copies the caller may see (published ones and its cities'), so another city's
        unpublished copy is not listed. A copy is made only of a published practice, so the
        sources up to the root are all published."""
        practice = self.readable_practice(actor, practice_id)
        root = practice
        while root.source_practice_id is not None:
            root = self.get_practice(UUID(root.source_practice_id))
        tree: list[tuple[Practice, int]] = []
        pending = [(root, 0)]
        while pending:
            node, depth = pending.pop()
            tree.append((node, depth))
            children = [self.get_practice(UUID(r["practice_id"])) for r in node.replications]
            pending.extend(
                (child, depth + 1) for child in reversed(children) if self.shown_to(actor, child)
            )
        return tree
