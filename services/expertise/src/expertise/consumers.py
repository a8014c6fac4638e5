from __future__ import annotations

from lmp_kit.runtime import Subscription

from expertise.projections import PracticesProjection, ReviewsProjection, SessionsProjection

SUBSCRIPTIONS = (
    Subscription(upstream="registry", projections=(PracticesProjection(),)),
    Subscription(upstream="expertise", projections=(ReviewsProjection(), SessionsProjection())),
)
