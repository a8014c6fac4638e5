"""The registry's use cases, one module per aggregate, composed into one application.

`cities`, `problems`, `practices`, `plans` (a practice's implementation plan), `activities` and
`facts` (improvement facts, external-resource cases), `standards` (a city's charity-event
standard) hold the commands of each aggregate;
`reactions` the answers to other services' events; `queries` a practice's history.
"""

from __future__ import annotations

from registry.application.activities import ActivityUseCases
from registry.application.cities import CityUseCases
from registry.application.facts import FactUseCases
from registry.application.plans import PlanUseCases
from registry.application.practices import (
    PRACTICE_REGISTRARS,
    HiddenPracticeError,
    PracticeUseCases,
)
from registry.application.problems import (
    ProblemAlreadyRegisteredError,
    ProblemNotFoundError,
    ProblemUseCases,
)
from registry.application.queries import HistoryQueries, SectionVersion
from registry.application.reactions import Reactions
from registry.application.standards import StandardUseCases

__all__ = [
    "PRACTICE_REGISTRARS",
    "HiddenPracticeError",
    "ProblemAlreadyRegisteredError",
    "ProblemNotFoundError",
    "RegistryApplication",
    "SectionVersion",
]


class RegistryApplication(
    HistoryQueries,
    Reactions,
    PlanUseCases,
    FactUseCases,
    PracticeUseCases,
    ProblemUseCases,
    CityUseCases,
    StandardUseCases,
    ActivityUseCases,
):
    """The registry service's application: its event store holds all its aggregates."""
