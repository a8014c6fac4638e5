from __future__ import annotations

from lmp_kit.runtime import Subscription

from kpi.projections import (
    REGISTRY_FACT_INDEXES,
    REGISTRY_FACTS,
    REGISTRY_FACTS_COLLECTION,
    VOTING_FACT_INDEXES,
    VOTING_FACTS,
    VOTING_FACTS_COLLECTION,
    FactsProjection,
    PeriodsProjection,
    ProblemStatsProjection,
)

SUBSCRIPTIONS = (
    Subscription(
        upstream="registry",
        projections=(
            ProblemStatsProjection(),
            FactsProjection(REGISTRY_FACTS, REGISTRY_FACTS_COLLECTION, REGISTRY_FACT_INDEXES),
        ),
    ),
    Subscription(
        upstream="voting",
        projections=(FactsProjection(VOTING_FACTS, VOTING_FACTS_COLLECTION, VOTING_FACT_INDEXES),),
    ),
    Subscription(upstream="kpi", projections=(PeriodsProjection(),)),
)
