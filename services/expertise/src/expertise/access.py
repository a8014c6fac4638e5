"""Who may call what in expertise: the service's access table (lmp_kit.access), enforced by
the gRPC guard before any handler (docs/decisions/0004-expertise.md, "Who may do what").

The Expert Council is one for the federation: managing it is a federation-wide command (a
`programme_office` token for all cities); anyone may read it. A review, a session and a
practice each belong to one city: a call naming one is admitted only for that city, and a
record of another city answers NOT_FOUND like one that does not exist. What the table cannot
say stays with the domain: membership of the council and the cities a member reviews,
recusal of authors and participants, quorum, a held session with the practice on its agenda,
and the chair alone concluding reviews and closing lists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from uuid import UUID

from lmp.expertise.v1 import expertise_pb2
from lmp_kit.access import (
    ANY_ROLE,
    AccessPolicy,
    Federation,
    Filtered,
    InRequest,
    OfRecord,
    Rule,
    rule,
)
from lmp_kit.errors import NotFoundError
from lmp_kit.registry_client import RegistryClient
from lmp_kit.rpc import parse_id

from expertise import views
from expertise.application import ExpertiseApplication
from expertise.domain import CouncilSession, Review
from expertise.projections import Database

SERVICE_NAME = expertise_pb2.DESCRIPTOR.services_by_name["ExpertiseService"].full_name

OFFICE = "programme_office"
EXPERT = "expert"
REVIEW = "review"
SESSION = "session"
PRACTICE = "practice"

COUNCIL = Federation(all_cities=True)
CHAIR_OR_OFFICE = "the chair of the council, or `programme_office` (the chair is checked)"

RULES: Mapping[str, Rule] = {
    "FormCouncil": rule({OFFICE}, COUNCIL),
    "GetCouncil": rule(ANY_ROLE, Federation(all_cities=False)),
    "AdmitMember": rule({OFFICE}, COUNCIL),
    "ChangeMemberCities": rule({OFFICE}, COUNCIL),
    "RemoveMember": rule({OFFICE}, COUNCIL),
    "AppointChair": rule({OFFICE}, COUNCIL),
    "SetQuorum": rule({OFFICE}, COUNCIL),
    "SetCriterionWeights": rule({OFFICE}, COUNCIL),
    "OpenReview": rule(
        {"working_group", "administration", OFFICE},
        OfRecord(PRACTICE, "practice_id"),
        note="a practice expertise knows from the registry's events; authors and participants "
        "on the council are recused",
    ),
    "ScorePractice": rule(
        {EXPERT},
        OfRecord(REVIEW, "review_id"),
        note="a council member for the review's city, not recused, once per round",
    ),
    "AssessPractice": rule(
        {"working_group"},
        OfRecord(REVIEW, "review_id"),
        note="the working group of the review's city, on a secondary review until it is "
        "concluded; sent again it amends the assessment",
    ),
    "ConcludeReview": rule(
        {EXPERT},
        OfRecord(SESSION, "session_id"),
        OfRecord(REVIEW, "review_id"),
        note="the chair only, at a held session of the review's city with quorum that had the "
        "practice on its agenda; a secondary review after the working group's assessment",
    ),
    "GetReview": rule(ANY_ROLE, OfRecord(REVIEW, "review_id")),
    "ListPendingReviews": rule(
        {EXPERT, OFFICE},
        Filtered(
            "the open reviews of the member's cities that are also the caller's cities, "
            "not recused and not yet scored by them"
        ),
        note="an expert reads their own queue; `programme_office` any member's",
    ),
    "ListReviews": rule(
        ANY_ROLE,
        InRequest("city_id"),
        note="the city's reviews with their scores and decisions, as GetReview shows each",
    ),
    "ScheduleSession": rule(
        {EXPERT, OFFICE},
        InRequest("city_id"),
        note=f"{CHAIR_OR_OFFICE}; every agenda practice is of the session's city",
    ),
    "HoldSession": rule({EXPERT, OFFICE}, OfRecord(SESSION, "session_id"), note=CHAIR_OR_OFFICE),
    "ListSessions": rule(ANY_ROLE, InRequest("city_id")),
    "GetApprovedList": rule(ANY_ROLE, InRequest("city_id")),
    "CloseApprovedList": rule({EXPERT}, InRequest("city_id"), note="the chair only"),
}


def policy(
    app: ExpertiseApplication, db: Database, registry: RegistryClient | None = None
) -> AccessPolicy:
    """Reviews and sessions are found in the event store (current right after a write);
    practices are the registry's, known to expertise from its events (the `practices` read
    model). A practice not there yet (a review opened right after RegisterPractice) is asked
    of the registry itself, so that the caller learns "not yet" (UNAVAILABLE) from the handler
    instead of "no such practice" (NOT_FOUND)."""

    async def locate(kind: str, record_id: str) -> str | None:
        found = parse_id(f"{kind}_id", record_id)
        if kind == PRACTICE:
            city = await views.practice_city(db, str(found))
            if city is None and registry is not None:
                item = await asyncio.to_thread(registry.practice, str(found))
                city = item.city_id if item is not None else None
            return city
        if kind == REVIEW:
            return await asyncio.to_thread(city_of, app.get_review, found)
        if kind == SESSION:
            return await asyncio.to_thread(city_of, app.get_session, found)
        msg = f"expertise locates no {kind} records"
        raise RuntimeError(msg)

    return AccessPolicy(SERVICE_NAME, RULES, locate)


def city_of(get: Callable[[UUID], Review | CouncilSession], record_id: UUID) -> str | None:
    try:
        return get(record_id).city_id
    except NotFoundError:
        return None
