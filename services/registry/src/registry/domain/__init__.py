from registry.domain.activities import Activity
from registry.domain.cities import City
from registry.domain.facts import ExternalResourceCase, ImprovementFact
from registry.domain.practices import Practice
from registry.domain.problems import Problem
from registry.domain.standards import CharityEventStandard

__all__ = [
    "Activity",
    "CharityEventStandard",
    "City",
    "ExternalResourceCase",
    "ImprovementFact",
    "Practice",
    "Problem",
]
