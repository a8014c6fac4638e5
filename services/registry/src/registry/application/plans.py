"""The use cases of a practice's implementation plan: milestones, monthly progress reports,
decisions; in stage 6 the act fixing it, regulation changes, corrections after the start, the
resident participants and the involvement procedure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from lmp_kit.auth import Principal

from registry.application.practices import PracticeUseCases
from registry.domain import Practice
from registry.domain.checks import utc_today


class PlanUseCases(PracticeUseCases):
    def set_implementation_plan(
        self,
        actor: Principal,
        practice_id: UUID,
        milestones: Iterable[Mapping[str, Any]],
        resource_sources: Iterable[Mapping[str, Any]],
        regulation_proposals: Iterable[str],
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.set_plan(milestones, resource_sources, regulation_proposals, actor.subject)
        self.save(practice)
        return practice

    def update_milestone(
        self, practice_id: UUID, number: int, status: str, due_date: str
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.update_milestone(number, status, due_date)
        self.save(practice)
        return practice

    def file_progress_report(
        self,
        practice_id: UUID,
        month: str,
        values: Iterable[Mapping[str, Any]],
        note: str,
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.file_progress_report(month, values, note)
        self.save(practice)
        return practice

    def decide_on_practice(
        self,
        actor: Principal,
        practice_id: UUID,
        decision: str,
        reason: str,
        resource_sources: Iterable[Mapping[str, Any]],
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.decide(decision, reason, resource_sources, actor.subject)
        self.save(practice)
        return practice

    def fix_plan_by_act(
        self, actor: Principal, practice_id: UUID, number: str, act_date: str, title: str
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.fix_plan_by_act(number, act_date, title, actor.subject, utc_today())
        self.save(practice)
        return practice

    def set_regulation_change_status(
        self, practice_id: UUID, number: int, status: str, note: str
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.set_regulation_change_status(number, status, note)
        self.save(practice)
        return practice

    def correct_implementation_plan(
        self,
        actor: Principal,
        practice_id: UUID,
        milestones: Iterable[Mapping[str, Any]],
        resource_sources: Iterable[Mapping[str, Any]],
        reason: str,
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.correct_plan(milestones, resource_sources, reason, actor.subject)
        self.save(practice)
        return practice

    def set_resident_participants(
        self, practice_id: UUID, residents: Iterable[Mapping[str, str]]
    ) -> Practice:
        practice = self.get_practice(practice_id)
        practice.set_resident_participants(residents)
        self.save(practice)
        return practice

    def set_involvement_procedure(self, actor: Principal, practice_id: UUID, text: str) -> Practice:
        practice = self.get_practice(practice_id)
        practice.set_involvement_procedure(text, actor.subject)
        self.save(practice)
        return practice
