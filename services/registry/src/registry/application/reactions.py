"""The registry's reactions to other services' events (see docs/events.md): each returns the
aggregates to save with the reaction's tracking record."""

from __future__ import annotations

from uuid import UUID

from lmp_contracts import expertise, voting
from lmp_kit.envelope import Envelope
from lmp_kit.errors import NotFoundError

from registry.application.activities import ActivityUseCases
from registry.application.practices import PracticeUseCases
from registry.domain import Activity, Practice
from registry.domain.checks import check_ids


class Reactions(PracticeUseCases, ActivityUseCases):
    def react_to_review(self, envelope: Envelope) -> list[Practice]:
        """Expertise's `Review.Concluded` advances the practice (see docs/events.md)."""
        review = envelope.parse(expertise.ReviewConcluded)
        practice = self.get_practice(UUID(check_ids("practice_id", [review.practice_id])[0]))
        outcome = practice.react_to_review(
            str(envelope.aggregate_id), review.verdict, review.priority_rank
        )
        return [practice] if outcome == "applied" else []

    def react_to_session(self, envelope: Envelope) -> list[Activity]:
        """A held council session is a programme activity of its city (a council sitting),
        recorded with what the session knows, its date; it counts in K2 and K8 like any
        activity, and the dashboard tells the working group what it lacks (decision 0002)."""
        held_on = envelope.parse(expertise.CouncilSessionHeld).held_on.isoformat()
        activity = Activity.register(
            envelope.city_id,
            "council_sitting",
            f"Заседание Экспертного совета {held_on}",
            held_on,
        )
        if self._exists(activity.id):
            return []
        return [activity]

    def react_to_poll(self, envelope: Envelope) -> list[Practice]:
        """Voting's `Poll.Closed` of a practice rating gives each practice its rank."""
        poll = envelope.parse(voting.PollClosed)
        if poll.kind != "practice_rating":
            return []
        ranked = []
        for result in poll.results:
            if result.ref_kind != "practice":
                continue
            try:
                practice = self.get_practice(UUID(check_ids("ref_id", [result.ref_id])[0]))
            except NotFoundError:
                continue
            if practice.react_to_vote(str(envelope.aggregate_id), result.rank) == "applied":
                ranked.append(practice)
        return ranked
