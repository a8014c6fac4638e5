from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from lmp_kit.errors import InvalidArgumentError

INDICATORS = ("packaged", "voting", "improvement", "external_resources", "expert")
TOTAL_WEIGHT = 100
FIRST_YEAR = 2000
LAST_YEAR = 2100


@dataclass(frozen=True)
class ScoringPolicy:
    version: str
    year: int
    weights: Mapping[str, int]
    packaged_target: int = 3
    improvement_target: int = 1
    external_resources_target: int = 1
    minimum_packaged: int = 3
    minimum_speakers: int = 5

    def as_payload(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "year": self.year,
            "weights": dict(self.weights),
            "packaged_target": self.packaged_target,
            "improvement_target": self.improvement_target,
            "external_resources_target": self.external_resources_target,
            "minimum_packaged": self.minimum_packaged,
            "minimum_speakers": self.minimum_speakers,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ScoringPolicy:
        return cls(
            version=str(payload["version"]),
            year=int(payload["year"]),
            weights=MappingProxyType({k: int(v) for k, v in payload["weights"].items()}),
            packaged_target=int(payload["packaged_target"]),
            improvement_target=int(payload["improvement_target"]),
            external_resources_target=int(payload["external_resources_target"]),
            minimum_packaged=int(payload["minimum_packaged"]),
            minimum_speakers=int(payload["minimum_speakers"]),
        )


DEFAULT_POLICY = ScoringPolicy(
    version="2026.1",
    year=2026,
    weights=MappingProxyType(
        {"packaged": 20, "voting": 20, "improvement": 30, "external_resources": 10, "expert": 20}
    ),
)


def check_policy(policy: ScoringPolicy) -> ScoringPolicy:
    problems = []
    if not policy.version.strip() or len(policy.version) > 40:  # noqa: PLR2004  # version length
        problems.append("version must be 1-40 characters (e.g. '2027.1')")
    if not FIRST_YEAR <= policy.year <= LAST_YEAR:
        problems.append(f"year must lie in {FIRST_YEAR}..{LAST_YEAR}, not {policy.year}")
    if set(policy.weights) != set(INDICATORS):
        problems.append(f"weights must name exactly the indicators {', '.join(INDICATORS)}")
    elif any(w < 0 for w in policy.weights.values()):
        problems.append("weights must not be negative")
    elif sum(policy.weights.values()) != TOTAL_WEIGHT:
        problems.append(
            f"weights must add up to {TOTAL_WEIGHT}, not {sum(policy.weights.values())}"
        )
    targets = {
        "packaged_target": policy.packaged_target,
        "improvement_target": policy.improvement_target,
        "external_resources_target": policy.external_resources_target,
        "minimum_packaged": policy.minimum_packaged,
        "minimum_speakers": policy.minimum_speakers,
    }
    problems.extend(f"{name} must be at least 1, not {v}" for name, v in targets.items() if v < 1)
    if problems:
        raise InvalidArgumentError("invalid scoring policy: " + "; ".join(problems))
    return policy


def policy_for(month: str, introduced: list[ScoringPolicy]) -> ScoringPolicy:
    """The newest policy introduced for the month's programme year, else the default."""
    year = int(month[:4])
    for_year = [p for p in introduced if p.year == year]
    return for_year[-1] if for_year else DEFAULT_POLICY
