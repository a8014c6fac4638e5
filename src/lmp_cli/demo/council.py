"""The Expert Council: formed once for the federation; it holds sessions and opens reviews."""

from __future__ import annotations

from functools import partial

from lmp.expertise.v1 import expertise_pb2 as exp
from lmp_kit.auth import ALL_CITIES

from lmp_cli.demo.clients import TIMEOUT_S, Portals, tolerate_existing
from lmp_cli.demo.programme import COUNCIL, CRITERION_WEIGHTS


def form_council(api: Portals) -> None:
    office = api.office()
    tolerate_existing(
        lambda: api.expertise.FormCouncil(
            exp.FormCouncilRequest(), metadata=office, timeout=TIMEOUT_S
        )
    )

    def admit(person_id: str) -> exp.Council:
        member = exp.Member(person_id=person_id, name=person_id, cities=[ALL_CITIES])
        return api.expertise.AdmitMember(
            exp.AdmitMemberRequest(member=member), metadata=office, timeout=TIMEOUT_S
        )

    for member in COUNCIL:
        tolerate_existing(partial(admit, member))
    api.expertise.AppointChair(
        exp.AppointChairRequest(person_id="chair"), metadata=office, timeout=TIMEOUT_S
    )
    api.expertise.SetCriterionWeights(
        exp.SetCriterionWeightsRequest(weights=CRITERION_WEIGHTS),
        metadata=office,
        timeout=TIMEOUT_S,
    )


def hold_session(
    api: Portals, schedule: exp.ScheduleSessionRequest, held_on: str, minutes: str
) -> exp.CouncilSession:
    """The chair schedules a council session and holds it with the whole council."""
    session = api.expertise.ScheduleSession(schedule, metadata=api.expert(), timeout=TIMEOUT_S)
    return api.expertise.HoldSession(
        exp.HoldSessionRequest(
            session_id=session.session_id,
            held_on=held_on,
            attendees=list(COUNCIL),
            minutes=minutes,
        ),
        metadata=api.expert(),
        timeout=TIMEOUT_S,
    )


def open_review(api: Portals, city: str, practice_id: str, round_: str) -> exp.Review:
    """The city's working group asks the council to review a practice (`primary`, `secondary`)."""
    return api.expertise.OpenReview(
        exp.OpenReviewRequest(practice_id=practice_id, round=round_),
        metadata=api.working_group(city),
        timeout=TIMEOUT_S,
    )
