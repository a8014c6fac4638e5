"""Across services: the council's verdicts advance the registry's practices, and a held
session becomes the city's activity."""

from __future__ import annotations

import grpc
from lmp.expertise.v1 import expertise_pb2, expertise_pb2_grpc
from lmp.registry.v1 import registry_pb2, registry_pb2_grpc
from registry.domain import Activity

from .conftest import eventually


def person(stack, subject, *roles, cities=("sarov",)):
    return (("authorization", f"Bearer {stack.issuer.issue(subject, roles=roles, cities=cities)}"),)


def test_a_concluded_review_moves_the_practice_in_the_registry(slice_factory):
    stack = slice_factory()
    stack.start("registry")
    stack.start("expertise")
    registry = registry_pb2_grpc.RegistryServiceStub(
        grpc.insecure_channel(stack.target("registry"))
    )
    expertise = expertise_pb2_grpc.ExpertiseServiceStub(
        grpc.insecure_channel(stack.target("expertise"))
    )
    office = person(stack, "office", "programme_office", cities=("*",))
    working_group = person(stack, "wg", "working_group")
    chair = person(stack, "chair", "expert", cities=("*",))

    registry.RegisterCity(
        registry_pb2.RegisterCityRequest(
            city_id="sarov",
            name="Саров",
            region="Нижегородская область",
            kind="zato",
            population=92_073,
            voter_target=3000,
        ),
        metadata=office,
        timeout=10,
    )
    practices = [
        registry.RegisterPractice(
            registry_pb2.RegisterPracticeRequest(
                city_id="sarov",
                kind="own",
                title=title,
                summary="Realized in 2025",
                authors=[registry_pb2.Person(person_id="anna", name="Анна")],
                problem_ids=[stack.problem()],
            ),
            metadata=working_group,
            timeout=10,
        )
        for title in ("Courtyard lighting", "Open budget", "Snow map")
    ]

    expertise.FormCouncil(expertise_pb2.FormCouncilRequest(), metadata=office, timeout=10)
    for member in ("chair", "anna", "boris", "vera"):
        expertise.AdmitMember(
            expertise_pb2.AdmitMemberRequest(
                member=expertise_pb2.Member(person_id=member, name=member, cities=["*"])
            ),
            metadata=office,
            timeout=10,
        )
    expertise.AppointChair(
        expertise_pb2.AppointChairRequest(person_id="chair"), metadata=office, timeout=10
    )
    reviews = [
        eventually(
            lambda p=p: expertise.OpenReview(
                expertise_pb2.OpenReviewRequest(practice_id=p.practice_id, round="primary"),
                metadata=working_group,
                timeout=10,
            )
        )
        for p in practices
    ]
    assert [[r.person_id for r in review.recusals] for review in reviews] == [["anna"]] * 3
    session = expertise.ScheduleSession(
        expertise_pb2.ScheduleSessionRequest(
            city_id="sarov", scheduled_on="2026-12-01", agenda=[p.practice_id for p in practices]
        ),
        metadata=chair,
        timeout=10,
    )
    expertise.HoldSession(
        expertise_pb2.HoldSessionRequest(
            session_id=session.session_id,
            held_on="2026-12-01",
            attendees=["chair", "boris", "vera"],
            minutes="Own practices reviewed",
        ),
        metadata=chair,
        timeout=10,
    )
    verdicts = ["approved_for_passport", "approved_for_vote", "rejected"]
    for review, verdict in zip(reviews, verdicts, strict=True):
        expertise.ConcludeReview(
            expertise_pb2.ConcludeReviewRequest(
                review_id=review.review_id,
                session_id=session.session_id,
                verdict=verdict,
                rationale="Decided at the session",
            ),
            metadata=chair,
            timeout=10,
        )

    def statuses():
        found = [
            registry.GetPractice(
                registry_pb2.GetPracticeRequest(practice_id=p.practice_id),
                metadata=working_group,
                timeout=10,
            ).status
            for p in practices
        ]
        assert found == verdicts
        return found

    assert eventually(statuses) == verdicts

    sitting = eventually(
        lambda: registry.GetActivity(
            registry_pb2.GetActivityRequest(
                activity_id=str(
                    Activity.create_id(
                        "sarov", "2026-12-01", "Заседание Экспертного совета 2026-12-01"
                    )
                )
            ),
            metadata=working_group,
            timeout=10,
        )
    )
    assert (sitting.kind, sitting.held_on, sitting.city_id) == (
        "council_sitting",
        "2026-12-01",
        "sarov",
    )
