from __future__ import annotations

from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from lmp_contracts import expertise, voting
from lmp_kit.envelope import Envelope


class Upstream:
    """The Expert Council's conclusions and the polls' results as the registry's reactions
    receive them: an envelope from expertise or voting through `react_to_review` or
    `react_to_poll`, and what the reaction changed saved (as the reactor saves it, there with
    its tracking record). Reviews and polls are named; `review_id` is the id a name stands for."""

    def __init__(self, app) -> None:
        self.app = app
        self.notification_id = 0

    @staticmethod
    def review_id(name: str) -> str:
        return str(uuid5(NAMESPACE_URL, f"review/{name}"))

    def conclude(self, practice_id: UUID, verdict: str, priority_rank=None, review="review-1"):
        payload = expertise.ReviewConcluded(
            practice_id=str(practice_id),
            round="secondary" if verdict == "prioritized" else "primary",
            verdict=verdict,
            rationale="",
            priority_rank=priority_rank,
            session_id="",
            expected_results="",
            deadlines="",
            resource_sources="",
            regulation_proposals="",
        ).model_dump(mode="json")
        envelope = self.envelope("expertise", "Review.Concluded", self.review_id(review), payload)
        return self.saved(self.app.react_to_review(envelope))

    def close_poll(self, ranks: dict[UUID, int], poll="poll-1"):
        results = [
            voting.Result(
                option_id=f"o{number}",
                ref_kind="practice",
                ref_id=str(practice_id),
                rank=rank,
                score="0",
                votes=0,
            )
            for number, (practice_id, rank) in enumerate(ranks.items(), 1)
        ]
        payload = voting.PollClosed(
            kind="practice_rating",
            closed_at=datetime.now(UTC),
            results=results,
            ballots_counted=0,
            distinct_voters=0,
            turnout="0",
            digest="",
        ).model_dump(mode="json")
        poll_id = str(uuid5(NAMESPACE_URL, f"poll/{poll}"))
        return self.saved(
            self.app.react_to_poll(self.envelope("voting", "Poll.Closed", poll_id, payload))
        )

    def envelope(self, service: str, event_type: str, aggregate_id: str, payload) -> Envelope:
        self.notification_id += 1
        return Envelope(
            event_id=uuid5(NAMESPACE_URL, f"event/{self.notification_id}"),
            event_type=event_type,
            schema_version=1,
            service=service,
            city_id="sarov",
            aggregate_id=UUID(aggregate_id),
            aggregate_version=2,
            notification_id=self.notification_id,
            occurred_at=datetime.now(UTC),
            traceparent="",
            payload=payload,
        )

    def saved(self, changed):
        self.app.save(*changed)
        return changed


@pytest.fixture
def upstream(app):
    return Upstream(app)
