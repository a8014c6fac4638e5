from __future__ import annotations

from lmp_kit.runtime import Subscription

from kpi.projections import ProblemStatsProjection

SUBSCRIPTIONS = (Subscription(upstream="registry", projections=(ProblemStatsProjection(),)),)
