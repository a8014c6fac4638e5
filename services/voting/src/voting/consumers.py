"""Voting follows its own topic for its read models.

The live tally takes each consumer batch at once (one read of the ballots, one bulk write, one
``$inc`` per poll) instead of one round trip per ballot, as every projection does
(lmp_kit.consumer.Projection).
"""

from __future__ import annotations

from lmp_kit.runtime import Subscription

from voting.projections import PollProjection, TallyProjection


def subscriptions() -> tuple[Subscription, ...]:
    return (Subscription(upstream="voting", projections=(PollProjection(), TallyProjection())),)
