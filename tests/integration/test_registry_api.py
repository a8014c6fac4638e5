"""The registry's gRPC API on real servers: commands, refusals and its own read models."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import grpc
import pytest
from lmp.registry.v1 import registry_pb2 as pb

from .conftest import council_concludes

PASSPORT = {
    "what": pb.SectionContent(text="Lit courtyards"),
    "why": pb.SectionContent(text="Dark yards are unsafe"),
    "how": pb.SectionContent(text="Residents choose lamps"),
    "with_what": pb.SectionContent(text="LED lamps and volunteers"),
    "cost": pb.SectionContent(cost=pb.Cost(amount="150000", currency="RUB")),
    "result": pb.SectionContent(
        indicators=[pb.Indicator(name="Lit yards", unit="yards", baseline="3", target="20")]
    ),
    "effects": pb.SectionContent(effects=pb.Effects(social="Safer evenings")),
    "sustainability": pb.SectionContent(text="Maintained by the municipal enterprise"),
    "scalability": pb.SectionContent(text="Any city with courtyards"),
}
CELL = pb.Cell(function="infrastructure", method="external_resources", sub_methods=["donors"])


@pytest.fixture
def registry(slice_factory):
    made = slice_factory()
    made.start("registry")
    return made


def refused(call, request, metadata) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call(request, metadata=metadata, timeout=10)
    return raised.value


def wait_for(read, predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    value = read()
    while not predicate(value) and time.monotonic() < deadline:
        time.sleep(0.2)
        value = read()
    return value


def test_a_practice_goes_from_registration_to_the_federation_library(registry):
    stub = registry.registry()
    wg = registry.metadata("working_group", cities=("sarov",))
    expert = registry.metadata("expert", cities=("sarov",))
    neighbour = registry.metadata("working_group", cities=("seversk",))

    city = stub.RegisterCity(
        pb.RegisterCityRequest(
            city_id="sarov",
            name="Саров",
            region="Нижегородская область",
            kind="zato",
            population=92000,
            voter_target=5000,
        ),
        metadata=registry.metadata("programme_office", cities=("*",)),
    )
    assert (city.city_id, city.stage) == ("sarov", 1)
    problem = stub.RegisterProblem(
        pb.RegisterProblemRequest(city_id="sarov", title="Dark yards"), metadata=wg
    ).problem
    practice = stub.RegisterPractice(
        pb.RegisterPracticeRequest(
            city_id="sarov",
            kind="own",
            title="Lit courtyards",
            authors=[pb.Person(person_id="p1", name="Ivanova A.")],
            problem_ids=[problem.problem_id],
            cells=[CELL],
        ),
        metadata=wg,
    )
    stub.ChangeStatus(
        pb.ChangeStatusRequest(practice_id=practice.practice_id, status="primary_review"),
        metadata=wg,
    )
    bypass = refused(
        stub.ChangeStatus,
        pb.ChangeStatusRequest(practice_id=practice.practice_id, status="approved_for_passport"),
        expert,
    )
    assert bypass.code() == grpc.StatusCode.PERMISSION_DENIED
    by_hand = refused(
        stub.ChangeStatus,
        pb.ChangeStatusRequest(practice_id=practice.practice_id, status="approved_for_passport"),
        wg,
    )
    assert by_hand.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "Expert Council's conclusion" in (by_hand.details() or "")
    registry.start("expertise")
    council_concludes(registry, practice.practice_id, "approved_for_passport")
    for section, content in PASSPORT.items():
        stub.EditPassportSection(
            pb.EditPassportSectionRequest(
                practice_id=practice.practice_id, section=section, content=content
            ),
            metadata=wg,
        )
    by_expert = refused(
        stub.ApprovePassport, pb.ApprovePassportRequest(practice_id=practice.practice_id), expert
    )
    assert by_expert.code() == grpc.StatusCode.PERMISSION_DENIED
    passport = stub.ApprovePassport(
        pb.ApprovePassportRequest(practice_id=practice.practice_id), metadata=wg
    )
    assert passport.approved_passport_version == 9

    found = wait_for(
        lambda: stub.SearchLibrary(
            pb.SearchLibraryRequest(
                text="volunteers LED", cell="infrastructure:external_resources"
            ),
            metadata=neighbour,
        ),
        lambda response: len(response.entries) == 1 and response.entries[0].published,
    )
    (entry,) = found.entries
    assert (entry.practice_id, entry.city_id, entry.status) == (
        practice.practice_id,
        "sarov",
        "passport_approved",
    )
    assert not stub.SearchLibrary(
        pb.SearchLibraryRequest(text="nonexistentword"), metadata=neighbour
    ).entries
    matrix = stub.GetClassifierMatrix(pb.GetClassifierMatrixRequest(city_id="sarov"), metadata=wg)
    counts = {(c.function, c.method): c.practices for c in matrix.cells if c.practices}
    assert counts == {("infrastructure", "external_resources"): 1}
    board = stub.GetCityDashboard(pb.GetCityDashboardRequest(city_id="sarov"), metadata=wg)
    assert board.packaged_practices == 1
    assert {s.status: s.practices for s in board.statuses} == {"passport_approved": 1}
    others_see_only_the_library(registry, practice)


def others_see_only_the_library(registry, practice: pb.Practice) -> None:
    """The library is federation-wide; another city's unpublished copy is not (issue 15)."""
    stub = registry.registry()
    wg = registry.metadata("working_group", cities=("sarov",))
    neighbour = registry.metadata("working_group", cities=("seversk",))
    copy = stub.AdoptPractice(
        pb.AdoptPracticeRequest(
            source_practice_id=practice.practice_id,
            city_id="seversk",
            problem_ids=[registry.problem("seversk")],
        ),
        metadata=neighbour,
    )
    stub.RegisterPractice(
        pb.RegisterPracticeRequest(
            city_id="sarov",
            kind="own",
            title="Quiet courtyards",
            authors=[pb.Person(person_id="p1", name="Ivanova A.")],
            problem_ids=[registry.problem()],
            cells=[CELL],
        ),
        metadata=wg,
    )
    kazan = registry.metadata("working_group", cities=("kazan",))

    def lineage(metadata):
        nodes = stub.GetLineage(
            pb.GetLineageRequest(practice_id=practice.practice_id), metadata=metadata
        ).nodes
        return [(n.city_id, n.depth) for n in nodes]

    wait_for(
        lambda: stub.GetClassifierMatrix(
            pb.GetClassifierMatrixRequest(city_id="sarov"), metadata=wg
        ),
        lambda m: m.total == 2,
    )
    wait_for(
        lambda: stub.SearchLibrary(pb.SearchLibraryRequest(city_id="seversk"), metadata=neighbour),
        lambda r: [e.practice_id for e in r.entries] == [copy.practice_id],
    )
    kazan_curator = registry.metadata("curator", cities=("kazan",))
    federation = stub.GetClassifierMatrix(pb.GetClassifierMatrixRequest(), metadata=kazan_curator)
    assert federation.total == 1  # the published practice, not the drafts of sarov and seversk
    assert stub.GetClassifierMatrix(pb.GetClassifierMatrixRequest(), metadata=kazan).total == 1
    library = stub.SearchLibrary(pb.SearchLibraryRequest(text="courtyards"), metadata=kazan)
    assert [(e.title, e.published) for e in library.entries] == [("Lit courtyards", True)]
    foreign_matrix = refused(
        stub.GetClassifierMatrix, pb.GetClassifierMatrixRequest(city_id="sarov"), kazan
    )
    assert foreign_matrix.code() == grpc.StatusCode.PERMISSION_DENIED
    assert lineage(neighbour) == [("sarov", 0), ("seversk", 1)]
    assert lineage(kazan) == [("sarov", 0)]
    assert lineage(wg) == [("sarov", 0)]
    seen = stub.GetPractice(pb.GetPracticeRequest(practice_id=practice.practice_id), metadata=kazan)
    assert (seen.title, list(seen.replications)) == ("Lit courtyards", [])


def test_a_city_is_registered_by_the_federations_programme_office_only(registry):
    local_office = registry.metadata("programme_office", cities=("sarov",))
    request = pb.RegisterCityRequest(
        city_id="sarov", name="Саров", region="Region", kind="zato", population=1, voter_target=1
    )

    city_by_city = refused(registry.registry().RegisterCity, request, local_office)

    assert city_by_city.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "federation-wide" in str(city_by_city.details())
    assert registry.head() == 0


def test_a_citys_programme_is_read_by_that_city(registry):
    stub = registry.registry()
    wg = registry.metadata("working_group", cities=("sarov",))
    registry.register_city("sarov")
    stub.ApproveWorkingGroup(
        pb.ApproveWorkingGroupRequest(
            city_id="sarov",
            members=[
                pb.WorkingGroupMember(person_id="p9", name="Secret", role="chair"),
                pb.WorkingGroupMember(person_id="p8", name="GSR", role="gsr_community_member"),
            ],
            order_number="1",
            order_date="2026-02-01",
        ),
        metadata=wg,
    )
    resident = registry.metadata("resident", cities=("seversk",))
    other_city = refused(stub.GetCity, pb.GetCityRequest(city_id="sarov"), resident)
    assert other_city.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "Secret" not in str(other_city.details())
    own = stub.GetCity(
        pb.GetCityRequest(city_id="sarov"),
        metadata=registry.metadata("resident", cities=("sarov",)),
    )
    assert [m.name for m in own.working_group] == ["Secret", "GSR"]


def test_another_citys_records_answer_as_none_at_all(registry):
    """Ids are uuid5 of (city, title): a refusal must not confirm that a guessed title exists,
    nor quote it (issue 15)."""
    stub = registry.registry()
    wg = registry.metadata("working_group", cities=("sarov",))
    neighbour = registry.metadata("working_group", cities=("seversk",))
    practice_id = stub.RegisterPractice(
        pb.RegisterPracticeRequest(
            city_id="sarov",
            kind="own",
            title="Secret courtyards",
            authors=[pb.Person(person_id="p1", name="Ivanova A.")],
            problem_ids=[registry.problem()],
        ),
        metadata=wg,
    ).practice_id
    missing_id = str(uuid.uuid4())
    before = registry.head()
    calls = {
        "GetPractice": lambda i: (stub.GetPractice, pb.GetPracticeRequest(practice_id=i)),
        "GetPassport": lambda i: (stub.GetPassport, pb.GetPassportRequest(practice_id=i)),
        "GetLineage": lambda i: (stub.GetLineage, pb.GetLineageRequest(practice_id=i)),
        "ClassifyPractice": lambda i: (
            stub.ClassifyPractice,
            pb.ClassifyPracticeRequest(practice_id=i, cells=[CELL]),
        ),
        "AdoptPractice": lambda i: (
            stub.AdoptPractice,
            pb.AdoptPracticeRequest(source_practice_id=i, city_id="seversk"),
        ),
    }
    for name, call in calls.items():
        hidden = refused(*call(practice_id), neighbour)
        absent = refused(*call(missing_id), neighbour)
        assert (name, hidden.code()) == (name, grpc.StatusCode.NOT_FOUND)
        assert "Secret" not in str(hidden.details()), name
        assert str(hidden.details()).replace(practice_id, "?") == str(absent.details()).replace(
            missing_id, "?"
        ), name
    assert registry.head() == before


def test_bad_input_and_foreign_cities_are_refused_and_record_nothing(registry):
    stub = registry.registry()
    wg = registry.metadata("working_group", cities=("sarov",))
    stub.RegisterProblem(
        pb.RegisterProblemRequest(city_id="sarov", title="Dark yards"), metadata=wg
    )
    before = registry.head()

    unknown_cell = refused(
        stub.RegisterPractice,
        pb.RegisterPracticeRequest(
            city_id="sarov",
            kind="own",
            title="Lit courtyards",
            authors=[pb.Person(person_id="p1", name="A")],
            cells=[pb.Cell(function="roads", method="own_resources")],
        ),
        wg,
    )
    empty_title = refused(
        stub.RegisterPractice,
        pb.RegisterPracticeRequest(
            city_id="sarov",
            kind="initiative",
            title=" ",
            authors=[pb.Person(person_id="p1", name="A")],
        ),
        wg,
    )
    bad_date = refused(
        stub.RegisterActivity,
        pb.RegisterActivityRequest(
            city_id="sarov", kind="other", title="Meeting", held_on="2026-02-30"
        ),
        wg,
    )
    negative = refused(
        stub.RecordExternalResourceCase,
        pb.RecordExternalResourceCaseRequest(
            city_id="sarov",
            month="2026-11",
            title="Playground",
            source_kind="donors",
            amount="-5",
            currency="RUB",
            partner="Fund",
        ),
        wg,
    )
    foreign = refused(
        stub.RegisterActivity,
        pb.RegisterActivityRequest(
            city_id="sarov", kind="other", title="Meeting", held_on="2026-11-10"
        ),
        registry.metadata("working_group", cities=("seversk",)),
    )

    assert unknown_cell.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "unknown function 'roads'" in str(unknown_cell.details())
    assert empty_title.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert str(empty_title.details()) == "title must not be empty"
    assert bad_date.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert negative.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert foreign.code() == grpc.StatusCode.PERMISSION_DENIED
    assert registry.head() == before


def test_the_dashboard_lists_this_months_activities_missing_their_release_or_report(registry):
    stub = registry.registry()
    wg = registry.metadata("working_group", cities=("sarov",))
    today = datetime.now(UTC)
    activity = stub.RegisterActivity(
        pb.RegisterActivityRequest(
            city_id="sarov",
            kind="charity_event",
            title="Yard clean-up",
            held_on=today.date().isoformat(),
            joint_action=True,
        ),
        metadata=wg,
    )
    published_at = pb.Activity().announcement.published_at
    published_at.FromDatetime(today)
    stub.PublishAnnouncement(
        pb.PublishRequest(activity_id=activity.activity_id, text="Come", published_at=published_at),
        metadata=wg,
    )

    board = wait_for(
        lambda: stub.GetCityDashboard(pb.GetCityDashboardRequest(city_id="sarov"), metadata=wg),
        lambda b: (
            b.activity_gaps and list(b.activity_gaps[0].missing) == ["press_release", "report"]
        ),
    )

    (gap,) = board.activity_gaps
    assert (gap.activity_id, list(gap.missing)) == (
        activity.activity_id,
        ["press_release", "report"],
    )


def test_edits_racing_for_one_practice_all_land(registry):
    """Commands on one aggregate at the same moment: the loser of each race for the next
    version runs again on the new state instead of failing (nothing is lost, nothing INTERNAL)."""
    stub = registry.registry()
    wg = registry.metadata("working_group", cities=("sarov",))
    registry.register_city("sarov")
    practice_id = stub.RegisterPractice(
        pb.RegisterPracticeRequest(
            city_id="sarov",
            kind="own",
            title="Lit courtyards",
            authors=[pb.Person(person_id="p1", name="Ivanova A.")],
            problem_ids=[registry.problem()],
        ),
        metadata=wg,
        timeout=10,
    ).practice_id
    texts = [section for section, content in PASSPORT.items() if content.text]
    edits = [(section, round_) for round_ in range(3) for section in texts]

    def edit(item):
        section, round_ = item
        content = pb.SectionContent(text=f"{PASSPORT[section].text} (draft {round_})")
        return stub.EditPassportSection(
            pb.EditPassportSectionRequest(
                practice_id=practice_id, section=section, content=content
            ),
            metadata=wg,
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(edit, edits))
    passport = stub.GetPassport(
        pb.GetPassportRequest(practice_id=practice_id), metadata=wg, timeout=10
    )

    assert len(results) == len(edits)
    assert passport.passport_version == len(edits)
    assert {s.section for s in passport.sections if s.content.text} == set(texts)


def test_a_command_sent_again_after_a_timeout_returns_what_it_created(registry):
    """A portal that lost the answer sends the same request under its request_id again and gets
    the same record; without a key, the duplicate names the record that exists (issue 15)."""
    stub = registry.registry()
    wg = registry.metadata("working_group", cities=("sarov",))
    request = pb.RegisterProblemRequest(
        city_id="sarov", title="Dark courtyards", request_id="portal-retry-1"
    )
    first = stub.RegisterProblem(request, metadata=wg, timeout=10).problem.problem_id
    head = registry.head()
    again = stub.RegisterProblem(request, metadata=wg, timeout=10).problem.problem_id
    assert again == first
    assert registry.head() == head

    other = refused(
        stub.RegisterProblem,
        pb.RegisterProblemRequest(
            city_id="sarov", title="Broken benches", request_id="portal-retry-1"
        ),
        wg,
    )
    assert other.code() == grpc.StatusCode.ALREADY_EXISTS
    assert first in str(other.details())
    duplicate = refused(
        stub.RegisterProblem,
        pb.RegisterProblemRequest(city_id="sarov", title="Dark courtyards"),
        wg,
    )
    assert duplicate.code() == grpc.StatusCode.ALREADY_EXISTS
    assert first in str(duplicate.details())
    bad_key = refused(
        stub.RegisterProblem,
        pb.RegisterProblemRequest(city_id="sarov", title="Potholes", request_id="not a key"),
        wg,
    )
    assert bad_key.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert registry.head() == head
