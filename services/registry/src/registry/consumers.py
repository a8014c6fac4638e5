from __future__ import annotations

from lmp_kit.reactions import Reaction
from lmp_kit.runtime import Subscription

from registry.application import RegistryApplication
from registry.projections import (
    ActivityProjection,
    CaseProjection,
    CityPracticeProjection,
    FactProjection,
    PracticeLibraryProjection,
    ProblemProjection,
)

SUBSCRIPTIONS = (
    Subscription(
        upstream="registry",
        projections=(
            PracticeLibraryProjection(),
            CityPracticeProjection(),
            ProblemProjection(),
            ActivityProjection(),
            FactProjection(),
            CaseProjection(),
        ),
    ),
)


def reactions(app: RegistryApplication) -> tuple[Reaction, ...]:
    return (
        Reaction(
            "expertise",
            {"Review.Concluded": app.react_to_review, "CouncilSession.Held": app.react_to_session},
        ),
        Reaction("voting", {"Poll.Closed": app.react_to_poll}),
    )
