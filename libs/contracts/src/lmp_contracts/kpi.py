"""The events the kpi service publishes (topic `lmp.kpi.events`).

The scoring policy catalogue belongs to the whole federation: its envelopes' `city_id` is `*`.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

from pydantic import Field

from lmp_contracts.base import EventContract, Part, Payload, Upcaster


class Policy(Part):
    version: str = Field(description="the policy's version, e.g. `2026.1`")
    year: int = Field(description="the year it applies to")
    weights: dict[str, int] = Field(description="weight of each indicator, 100 in all")
    packaged_target: int = Field(description="packaged practices a month aims for")
    improvement_target: int = Field(description="recognized improvements a month aims for")
    external_resources_target: int = Field(description="external resource cases aimed for")
    minimum_packaged: int = Field(description="packaged practices the knock-out requires")
    minimum_speakers: int = Field(description="distinct speakers the knock-out requires")


class DirectionVoters(Part):
    direction: str = Field(description="a function of the municipal classifier, or `unclassified`")
    voters: int = Field(description="distinct voters of the month's polls on that direction")


class ScoredIndicator(Part):
    name: str = Field(description="the indicator")
    weight: int = Field(description="its weight in the policy")
    achieved: int = Field(description="what the month achieved")
    target: int = Field(description="what it aimed for")
    attainment: str = Field(description="decimal share of the target reached, at most 1")
    points: str = Field(description="decimal points it contributes to the total")
    evidence: list[str] = Field(description="ids of the events it counts")
    note: str = Field(description="a note on how it was counted")
    by_direction: list[DirectionVoters] = Field(
        description="voting only: the base by project direction (voters per direction)"
    )


class KnockOutOutcome(Part):
    code: str = Field(description="the knock-out criterion, e.g. `K4`")
    title: str = Field(description="what it requires")
    outcome: str = Field(description="passed, failed, or not applicable")
    reason: str = Field(description="why")
    evidence: list[str] = Field(description="ids of the events it rests on")


class Scorecard(Part):
    city_id: str = Field(description="the city")
    month: str = Field(description="the month, YYYY-MM")
    policy_version: str = Field(description="the scoring policy it was computed by")
    total: str = Field(description="decimal total score")
    verdict: str = Field(description="the month's verdict")
    indicators: list[ScoredIndicator] = Field(description="one per indicator")
    knockouts: list[KnockOutOutcome] = Field(description="one per knock-out criterion")


class PolicyCatalogueStarted(EventContract):
    event_type: ClassVar[str] = "PolicyCatalogue.Started"


class PolicyCataloguePolicyIntroduced(EventContract):
    event_type: ClassVar[str] = "PolicyCatalogue.PolicyIntroduced"
    policy: Policy = Field(description="the scoring policy introduced")


class KpiPeriodOpened(EventContract):
    event_type: ClassVar[str] = "KpiPeriod.Opened"
    month: str = Field(description="the month, YYYY-MM")


class KpiPeriodReportingClosed(EventContract):
    event_type: ClassVar[str] = "KpiPeriod.ReportingClosed"
    month: str = Field(description="the month, YYYY-MM")
    closed_by: str = Field(description="who ended the month's reporting early (subject)")
    reason: str = Field(description="why")


class KpiPeriodEvaluated(EventContract):
    event_type: ClassVar[str] = "KpiPeriod.Evaluated"
    month: str = Field(description="the month, YYYY-MM")
    curator: str = Field(description="the curator who evaluated it (subject)")
    score: str = Field(description="decimal expert score in [0, 1]")
    branding_used: bool = Field(description="the programme's branding was used (K6)")
    methodology_followed: bool = Field(description="the methodology was followed (K7)")
    conclusion: str = Field(description="the curator's conclusion")


def _signed_v1_v2(payload: Payload) -> Payload:
    card = payload.get("scorecard") or {}
    indicators = [{"by_direction": [], **i} for i in card.get("indicators", [])]
    return {**payload, "scorecard": {**card, "indicators": indicators}}


class KpiPeriodSigned(EventContract):
    """Version 2: every indicator of the frozen card has `by_direction` (voting's base by
    project direction; empty for the other indicators and for cards signed before)."""

    event_type: ClassVar[str] = "KpiPeriod.Signed"
    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[MappingProxyType[int, Upcaster]] = MappingProxyType({1: _signed_v1_v2})
    month: str = Field(description="the month, YYYY-MM")
    curator: str = Field(description="the curator who signed it (subject)")
    scorecard: Scorecard = Field(description="the frozen scorecard")


class KpiPeriodAmended(EventContract):
    event_type: ClassVar[str] = "KpiPeriod.Amended"
    month: str = Field(description="the month, YYYY-MM")
    requested_by: str = Field(description="who reopened the signed month (subject)")
    reason: str = Field(description="why")


CONTRACTS: tuple[type[EventContract], ...] = (
    PolicyCatalogueStarted,
    PolicyCataloguePolicyIntroduced,
    KpiPeriodOpened,
    KpiPeriodReportingClosed,
    KpiPeriodEvaluated,
    KpiPeriodSigned,
    KpiPeriodAmended,
)
