"""The servicer in process: each handler reads its request, runs the use case and answers with
the record as its message (registry.requests, registry.messages)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from lmp.registry.v1 import registry_pb2 as pb
from lmp_kit.auth import Principal, current_principal
from lmp_kit.errors import InvalidArgumentError
from registry.api import RegistryServicer
from registry.application import RegistryApplication

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
WG = Principal("wg", frozenset({"working_group"}), frozenset({"sarov"}), frozenset())
PERSON = pb.Person(person_id="p1", name="Ivanov A.")


@pytest.fixture
def servicer():
    app = RegistryApplication(env=MEMORY)
    token = current_principal.set(WG)
    yield RegistryServicer(app, None)
    current_principal.reset(token)
    app.close()


async def test_a_city_is_answered_with_its_programme(servicer):
    await servicer.RegisterCity(
        pb.RegisterCityRequest(
            city_id="sarov",
            name="Sarov",
            region="Nizhny Novgorod",
            kind="zato",
            population=9,
            voter_target=5,
        ),
        None,
    )
    await servicer.ApproveWorkingGroup(
        pb.ApproveWorkingGroupRequest(
            city_id="sarov",
            members=[
                pb.WorkingGroupMember(person_id="p1", name="Ivanov A.", role="chair"),
                pb.WorkingGroupMember(
                    person_id="p2", name="Petrova B.", role="gsr_community_member"
                ),
            ],
            order_number="12",
            order_date="2026-01-15",
        ),
        None,
    )
    added = await servicer.AddRegionalRequirement(
        pb.AddRegionalRequirementRequest(city_id="sarov", title="Parks", description="green"),
        None,
    )

    city = await servicer.GetCity(pb.GetCityRequest(city_id="sarov"), None)

    assert (city.name, city.region, city.kind, city.population) == (
        "Sarov",
        "Nizhny Novgorod",
        "zato",
        9,
    )
    assert [(m.name, m.role) for m in city.working_group] == [
        ("Ivanov A.", "chair"),
        ("Petrova B.", "gsr_community_member"),
    ]
    assert (city.order_number, city.order_date) == ("12", "2026-01-15")
    assert [r.requirement_id for r in city.regional_requirements] == [added.requirement_id]
    assert city.version == added.city.version == 3


async def test_a_problem_is_answered_with_its_fields(servicer):
    registered = await servicer.RegisterProblem(
        pb.RegisterProblemRequest(city_id="sarov", title="Dark yards", description="no lamps"),
        None,
    )
    problem_id = registered.problem.problem_id
    await servicer.SetProblemPriority(
        pb.SetProblemPriorityRequest(problem_id=problem_id, priority="high"), None
    )
    solved = await servicer.MarkProblemSolved(
        pb.MarkProblemSolvedRequest(problem_id=problem_id, solved_with_external_resources=True),
        None,
    )

    problem = await servicer.GetProblem(pb.GetProblemRequest(problem_id=problem_id), None)

    assert problem == solved
    assert (problem.city_id, problem.title, problem.description) == (
        "sarov",
        "Dark yards",
        "no lamps",
    )
    assert (problem.priority, problem.solved, problem.solved_with_external_resources) == (
        "high",
        True,
        True,
    )
    assert problem.registered_at.seconds > 0
    assert problem.version == 3


async def test_an_activity_is_answered_with_its_publications_and_report(servicer):
    registered = await servicer.RegisterActivity(
        pb.RegisterActivityRequest(
            city_id="sarov",
            kind="strategic_session",
            title="Courtyards seminar",
            held_on="2026-02-10",
            speakers=[PERSON],
            joint_action=True,
        ),
        None,
    )
    published_at = Timestamp()
    published_at.FromDatetime(datetime(2026, 2, 1, 9, tzinfo=UTC))
    await servicer.PublishPressRelease(
        pb.PublishRequest(
            activity_id=registered.activity_id, text="It was held", published_at=published_at
        ),
        None,
    )
    photo = pb.Photo(uri="https://photos.example/1.jpg", sha256="ab" * 32)
    await servicer.FileActivityReport(
        pb.FileActivityReportRequest(
            activity_id=registered.activity_id, attendees=[PERSON], photos=[photo]
        ),
        None,
    )

    activity = await servicer.GetActivity(
        pb.GetActivityRequest(activity_id=registered.activity_id), None
    )

    assert (activity.kind, activity.title, activity.held_on) == (
        "strategic_session",
        "Courtyards seminar",
        "2026-02-10",
    )
    assert (activity.joint_action, activity.branding_used) == (True, False)
    assert list(activity.speakers) == [PERSON]
    assert not activity.HasField("announcement")
    assert activity.press_release.text == "It was held"
    assert activity.press_release.published_at == published_at
    assert (list(activity.report.attendees), list(activity.report.photos)) == ([PERSON], [photo])
    assert activity.version == 3


async def test_a_publication_needs_its_moment(servicer):
    with pytest.raises(InvalidArgumentError) as refused:
        await servicer.PublishAnnouncement(pb.PublishRequest(activity_id="42", text="soon"), None)

    assert refused.value.message == "published_at is required: when the text was published"


async def test_a_fact_and_a_case_are_answered_with_their_fields(servicer):
    recorded = await servicer.RecordImprovementFact(
        pb.RecordImprovementFactRequest(
            city_id="sarov",
            month="2026-03",
            title="Lamps lit",
            description="40 lamps",
            evidence=["https://evidence.example/1"],
        ),
        None,
    )
    await servicer.JudgeImprovementFact(
        pb.JudgeImprovementFactRequest(fact_id=recorded.fact_id, recognized=False, reason="late"),
        None,
    )
    case = await servicer.RecordExternalResourceCase(
        pb.RecordExternalResourceCaseRequest(
            city_id="sarov",
            month="2026-03",
            title="Grant",
            source_kind="donors",
            amount="100000",
            currency="RUB",
            partner="Fund",
        ),
        None,
    )

    fact = await servicer.GetImprovementFact(
        pb.GetImprovementFactRequest(fact_id=recorded.fact_id), None
    )
    found = await servicer.GetExternalResourceCase(
        pb.GetExternalResourceCaseRequest(case_id=case.case_id), None
    )

    assert (fact.month, fact.title, fact.description, list(fact.evidence)) == (
        "2026-03",
        "Lamps lit",
        "40 lamps",
        ["https://evidence.example/1"],
    )
    assert (fact.verdict, fact.reason, fact.version) == ("rejected", "late", 2)
    assert found == case
    assert (found.source_kind, found.amount, found.currency, found.partner) == (
        "donors",
        "100000",
        "RUB",
        "Fund",
    )
    assert (found.problem_id, found.version) == ("", 1)


async def test_a_practice_is_answered_with_its_people_and_history(servicer):
    problem = await servicer.RegisterProblem(
        pb.RegisterProblemRequest(city_id="sarov", title="Dark yards", description=""), None
    )
    practice = await servicer.RegisterPractice(
        pb.RegisterPracticeRequest(
            city_id="sarov",
            kind="own",
            title="Lit courtyards",
            authors=[PERSON],
            problem_ids=[problem.problem.problem_id],
        ),
        None,
    )
    await servicer.SetPracticePeople(
        pb.SetPracticePeopleRequest(
            practice_id=practice.practice_id, authors=[PERSON], participants=[PERSON]
        ),
        None,
    )
    moved = await servicer.MoveLifecycle(
        pb.MoveLifecycleRequest(practice_id=practice.practice_id, step=2, reason="piloted"),
        None,
    )
    for text in ("First", "Second"):
        await servicer.EditPassportSection(
            pb.EditPassportSectionRequest(
                practice_id=practice.practice_id,
                section="what",
                content=pb.SectionContent(text=text),
            ),
            None,
        )

    history = await servicer.GetSectionHistory(
        pb.GetSectionHistoryRequest(practice_id=practice.practice_id, section="what"), None
    )
    difference = await servicer.DiffSection(
        pb.DiffSectionRequest(
            practice_id=practice.practice_id, section="what", from_version=1, to_version=2
        ),
        None,
    )

    assert (moved.lifecycle_step, list(moved.participants)) == (2, [PERSON])
    assert (moved.rank, moved.source_practice_id, moved.status_reason) == (0, "", "")
    assert [(v.version, v.content.text) for v in history.versions] == [(1, "First"), (2, "Second")]
    assert "-First" in difference.diff
    assert "+Second" in difference.diff
