"""The demo's federation (cities.json), the fixed inputs of its programme cycle, and what a run
records as it goes (decision 0008: docs/decisions/0008-demo.md)."""
# ruff: noqa: RUF001  # Russian texts are Cyrillic on purpose

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from lmp.expertise.v1 import expertise_pb2 as exp
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2 as reg
from lmp.voting.v1 import voting_pb2 as vot

COUNCIL = ("chair", "expert-ivanova", "expert-petrov", "expert-sidorova")


PHOTO = reg.Photo(uri="https://photos.example/lmp-demo/1.jpg", sha256="0" * 64)


CELL = reg.Cell(function="infrastructure", method="external_interaction")


# The secondary review's scores (stage 5): effectiveness, resource intensity, time to implement,
# fit to city needs, 1-5; one row per expert, one table per practice in the vote's order.
SECONDARY_SCORES = (
    ((5, 4, 4, 5), (4, 3, 4, 4), (4, 4, 3, 4)),
    ((4, 3, 3, 4), (3, 3, 4, 3), (4, 3, 3, 3)),
)


CRITERION_WEIGHTS = exp.CriterionWeights(
    effectiveness=40, resource_intensity=20, time_to_implement=20, fit_to_city_needs=20
)


# The curator's score of each city (in the order of cities.json): the expert indicator.
CURATOR_SCORES = ("0.90", "0.85", "0.70")


# What the head of administration decides on the second practice of each city (stage 7).
SECOND_DECISIONS = ("continue", "change_resources", "stop")


EVALUATION_CHOICES = ("Продолжить", "Изменить источники ресурсов", "Прекратить")


RESULT_INDICATOR = "Жалобы жителей"


PASSPORT_TEXT = {
    "what": "Что сделано: механизм, процедура, метод управленческого решения.",
    "why": "Зачем: решение актуальной городской проблемы жителей.",
    "how": "Как: рабочая группа, открытое обсуждение, поэтапная реализация.",
    "with_what": "Чем: муниципальные ресурсы и партнёрство с Предприятием.",
    "sustainability": "Устойчивость: регламент администрации и ежегодный бюджет.",
    "scalability": "Тиражируемость: подходит любому атомграду.",
}


@dataclass(frozen=True)
class CityData:
    city_id: str
    name: str
    region: str
    kind: str
    population: int
    speakers: int

    @property
    def voter_target(self) -> int:
        """1 % of the census population (decision 0008)."""
        return max(1, self.population // 100)


@dataclass(frozen=True)
class Federation:
    source: str
    source_url: str
    cities: tuple[CityData, ...]


def load_federation() -> Federation:
    text = resources.files("lmp_cli").joinpath("data/cities.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return Federation(
        source=data["source"],
        source_url=data["source_url"],
        cities=tuple(CityData(**city) for city in data["cities"]),
    )


@dataclass(frozen=True)
class Dates:
    today: str
    yesterday: str
    month: str

    @classmethod
    def now(cls) -> Dates:
        now = datetime.now(UTC)
        return cls(
            today=now.strftime("%Y-%m-%d"),
            yesterday=(now - timedelta(days=1)).strftime("%Y-%m-%d"),
            month=now.strftime("%Y-%m"),
        )


@dataclass
class CityRun:
    city: CityData
    position: int
    problems: list[str] = field(default_factory=list)
    own: list[str] = field(default_factory=list)
    for_vote: list[str] = field(default_factory=list)
    rating: vot.Poll | None = None
    problem_vote: vot.Poll | None = None
    priorities: list[exp.Review] = field(default_factory=list)
    plans: list[reg.ImplementationPlan] = field(default_factory=list)
    evaluation_poll: vot.Poll | None = None
    curator_score: str = ""


@dataclass
class DemoResult:
    month: str
    runs: list[CityRun]
    scorecards: dict[str, kpi_pb2.Scorecard]
    leaderboard: kpi_pb2.GetLeaderboardResponse
    report: Path | None
    adopted_practice_id: str = ""
