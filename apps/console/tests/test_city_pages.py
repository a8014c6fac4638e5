"""The city dashboard without services: the registry's sentences in Russian, the lifecycle
counts and chart, and a city outside the user's token refused before any call."""

import json
import re

import pytest
from lmp.registry.v1 import registry_pb2 as pb
from lmp_console.app import create_app
from lmp_console.pages.city import (
    in_russian,
    lifecycle_chart,
    lifecycle_rows,
    status_rows,
)
from lmp_console.settings import ConsoleSettings
from starlette.testclient import TestClient

SECRET = "a-test-jwt-secret-of-enough-length-000"  # noqa: S105  # the tests' own
NOBODY = "127.0.0.1:9"  # nothing answers here: no page of these tests may need a service


def settings_for(tmp_path):
    env = {"LMP_DATA_DIR": str(tmp_path), "LMP_JWT_SECRET": SECRET}
    for service in ("REGISTRY", "VOTING", "EXPERTISE", "KPI", "NOTIFICATIONS"):
        env[f"LMP_{service}_GRPC_TARGET"] = NOBODY
    return ConsoleSettings.from_env(env, dev_signin_default=True)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client, role, cities):
    token = csrf_of(client.get("/signin").text)
    response = client.post(
        "/signin/dev",
        data={"role": role, "cities": cities, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303


# As the registry writes them (registry/domain/stages.py, registry/messages.py).
REGISTRY_SENTENCES = [
    "the working group approved by order (ApproveWorkingGroup)",
    "a working group member of the GSR community (role 'gsr_community_member')",
    "the working group's tasks approved by order (ApproveWorkingGroup tasks)",
    "the list of regional requirements (AddRegionalRequirement)",
    "the list of current city problems (RegisterProblem)",
    "the list of initiatives with their authors (RegisterPractice)",
    "the list of own realized practices with their authors (RegisterPractice)",
    "the expertise-preparation plan (RecordStagePlan expertise_preparation)",
    "the strategic session's plan (RecordStagePlan strategic_session)",
    "the priority directions and selection criteria of the strategic session (FixStrategy)",
    "the plan of the selection (RecordStagePlan selection)",
    (
        "at least 3 own practices put on the Expert Council's list "
        "(ChangeStatus primary_review; 1 so far)"
    ),
    (
        "external practices or initiatives put on the Expert Council's list "
        "(ChangeStatus primary_review)"
    ),
    "the classifier assessment of every practice on the list (2 without a cell: ClassifyPractice)",
    "the list for the vote approved by the Expert Council (a review concluded approved_for_vote)",
    "at least 3 own practices approved by the Expert Council for a passport (0 so far)",
    "the ranked list of the rating vote (a practice_rating poll closed)",
    "approved passports of at least 3 own practices (1 so far: ApprovePassport)",
    "an approved passport of an external practice or initiative to implement (ApprovePassport)",
    "the Expert Council's priorities (a secondary review concluded with a priority rank)",
    "an implementation plan approved by the head of the administration (SetImplementationPlan)",
    "every implementation plan fixed by a normative act (FixPlanByAct): 1 of 2",
    "a monthly report of current against planned indicators (FileProgressReport)",
    "the list of resident participants of every plan (SetResidentParticipants): 0 of 2",
    "the procedure for involving residents of every plan (SetInvolvementProcedure): 2 of 2",
    "the charity-event technology adopted as the city's standard (AdoptCharityEventStandard)",
    "publish its announcement (PublishAnnouncement)",
    "publish its press release (PublishPressRelease)",
    "file its report, the attendee list and photos (FileActivityReport)",
    (
        "recorded from the Expert Council's held session with its date only: the working group "
        "completes it, or the month fails K2 and K8"
    ),
]


@pytest.mark.parametrize("sentence", REGISTRY_SENTENCES)
def test_each_registry_sentence_reads_in_russian_keeping_its_rpc_and_figures(sentence):
    shown = in_russian(sentence)
    assert shown.lang == "ru"
    assert not any("a" <= ch <= "z" for ch in shown.text.replace("(", " ").split(" ")[0])
    for token in ("ApproveWorkingGroup", "FixPlanByAct", "ClassifyPractice", "K2"):
        if token in sentence:
            assert token in shown.text
    digits = [ch for ch in sentence if ch.isdigit()]
    assert [ch for ch in shown.text if ch.isdigit()] == digits


def test_the_figures_of_a_sentence_land_in_their_places():
    shown = in_russian(
        "at least 3 own practices put on the Expert Council's list "
        "(ChangeStatus primary_review; 1 so far)"
    )
    assert shown.text == (
        "не менее 3 собственных практик в списке для Экспертного совета "
        "(ChangeStatus primary_review; сейчас 1)"
    )


def test_a_sentence_the_console_does_not_know_is_shown_as_it_came():
    shown = in_russian("a new requirement of a later registry (NewRpc)")
    assert (shown.text, shown.lang) == ("a new requirement of a later registry (NewRpc)", "en")


def test_lifecycle_rows_count_every_step_zeros_included():
    practices = [pb.PracticeEntry(lifecycle_step=s) for s in (1, 8, 8, 12)]
    rows = lifecycle_rows(practices)
    assert [(r.step, r.practices) for r in rows] == [
        (1, 1),
        (2, 0),
        (3, 0),
        (4, 0),
        (5, 0),
        (6, 0),
        (7, 0),
        (8, 2),
        (9, 0),
        (10, 0),
        (11, 0),
        (12, 1),
    ]
    config = json.loads(lifecycle_chart(rows))
    assert config["type"] == "bar"
    assert config["data"]["datasets"][0]["data"] == [r.practices for r in rows]
    assert config["data"]["labels"][7] == "8. Воплощение"
    assert rows[7].name == "Воплощение идеи, решение проблемы"


def test_statuses_follow_the_programmes_order_and_keep_unknown_ones():
    board = pb.CityDashboard(
        statuses=[
            pb.StatusCount(status="passport_approved", practices=2),
            pb.StatusCount(status="submitted", practices=1),
            pb.StatusCount(status="a_future_status", practices=4),
        ]
    )
    assert [(r.status, r.name, r.practices) for r in status_rows(board)] == [
        ("submitted", "подана", 1),
        ("passport_approved", "паспорт утверждён", 2),
        ("a_future_status", "a_future_status", 4),
    ]


def test_a_city_outside_the_users_token_is_refused_before_any_call(tmp_path):
    with TestClient(create_app(settings_for(tmp_path))) as client:
        sign_in(client, role="working_group", cities="sarov")
        page = client.get("/cities/seversk")
    assert page.status_code == 403
    assert "seversk" in page.text  # the page names the city refused, nothing of its data
    assert "панель города" not in page.text


def test_a_month_that_is_not_one_is_refused_with_the_format(tmp_path):
    with TestClient(create_app(settings_for(tmp_path))) as client:
        sign_in(client, role="working_group", cities="sarov")
        page = client.get("/cities/sarov", params={"month": "2026-1"})
    assert page.status_code == 400
    assert "ГГГГ-ММ" in page.text
