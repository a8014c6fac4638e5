from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from lmp_kit.auth import ALL_CITIES
from lmp_kit.domain import CityAggregate
from lmp_kit.errors import AlreadyExistsError

from kpi.domain.policy import DEFAULT_POLICY, ScoringPolicy, check_policy


class PolicyCatalogue(CityAggregate):
    """The scoring policies introduced for programme years; federation-wide (city '*')."""

    @staticmethod
    def create_id() -> UUID:
        return uuid5(NAMESPACE_URL, "lmp:kpi:policy-catalogue")

    @classmethod
    def start(cls) -> PolicyCatalogue:
        return cls(city_id=ALL_CITIES)

    @event("Started")
    def __init__(self, city_id: str) -> None:
        self.city_id = city_id
        self.policies: list[dict[str, Any]] = []

    def introduce(self, policy: ScoringPolicy) -> None:
        check_policy(policy)
        known = {p["version"] for p in self.policies} | {DEFAULT_POLICY.version}
        if policy.version in known:
            msg = f"scoring policy {policy.version!r} already exists; versions are never reused"
            raise AlreadyExistsError(msg)
        self._policy_introduced(policy=policy.as_payload())

    @event("PolicyIntroduced")
    def _policy_introduced(self, policy: dict[str, Any]) -> None:
        self.policies = [*self.policies, policy]

    def introduced(self) -> list[ScoringPolicy]:
        return [ScoringPolicy.from_payload(p) for p in self.policies]
