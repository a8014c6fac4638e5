from __future__ import annotations

from lmp_kit.runtime import Subscription

from notifications.projections import EXPERTISE, KPI, REGISTRY, VOTING

SUBSCRIPTIONS = (
    Subscription(upstream="registry", projections=(REGISTRY,)),
    Subscription(upstream="voting", projections=(VOTING,)),
    Subscription(upstream="expertise", projections=(EXPERTISE,)),
    Subscription(upstream="kpi", projections=(KPI,)),
)
