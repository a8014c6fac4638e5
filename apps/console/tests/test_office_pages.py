"""The programme office's pages without services: the heat map's scale and legend, the policy
tables, kpi's refusals in Russian, and the close-reporting form's checks and confirmation (no
gRPC call is made before the confirmation; these tests point the console at ports nobody
answers). The office page itself, with its cities, is tested on real services in
tests/integration/test_console_pages.py."""

import re

import pytest
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2
from lmp_console.app import create_app
from lmp_console.pages.office import (
    HEAT_BINS,
    CloseForm,
    heat_bin,
    heat_legend,
    heat_map,
    policies_by_year,
    refusal_in_russian,
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


@pytest.fixture
def office(tmp_path):
    with TestClient(create_app(settings_for(tmp_path))) as client:
        sign_in(client, role="programme_office", cities="sarov")
        yield client


@pytest.mark.parametrize("top", [1, 2, 3, 5, 7, 10, 23, 100])
def test_every_count_falls_in_the_legend_step_of_its_colour(top):
    legend = {step.level: step for step in heat_legend(top)}
    for count in range(top + 1):
        level = heat_bin(count, top)
        step = legend[level]
        assert step.low <= count <= step.high or (level == 0 and count == 0)
    assert heat_bin(top, top) == HEAT_BINS
    covered = [n for step in legend.values() if step.level for n in range(step.low, step.high + 1)]
    assert covered == list(range(1, top + 1))


def test_an_empty_matrix_is_all_the_empty_colour():
    assert heat_bin(0, 0) == 0
    assert [step.level for step in heat_legend(0)] == [0]


def test_the_heat_map_has_every_function_by_every_method():
    matrix = registry_pb2.ClassifierMatrix(
        city_id="sarov",
        cells=[
            registry_pb2.MatrixCell(function="health", method="donors_unknown", practices=9),
            registry_pb2.MatrixCell(function="safety", method="own_resources", practices=4),
        ],
        total=4,
    )
    made = heat_map("Саров", matrix, top=4)
    assert len(made.rows) == 9
    assert all(len(cells) == 4 for _, cells in made.rows)
    safety = dict(made.rows)["safety"]
    assert [(c.method, c.practices, c.level) for c in safety if c.practices] == [
        ("own_resources", 4, HEAT_BINS)
    ]


def test_policies_are_grouped_by_year_newest_first_with_their_weights_in_order():
    policies = [
        kpi_pb2.ScoringPolicy(
            version="2026.1",
            year=2026,
            weights={
                "expert": 20,
                "packaged": 20,
                "voting": 20,
                "improvement": 30,
                "external_resources": 10,
            },
            packaged_target=3,
            improvement_target=1,
            external_resources_target=1,
            minimum_packaged=3,
            minimum_speakers=5,
        ),
        kpi_pb2.ScoringPolicy(version="2027.1", year=2027, weights={"packaged": 100}),
    ]
    years = policies_by_year(policies)
    assert [year for year, _ in years] == [2027, 2026]
    (view,) = years[1][1]
    assert [name for name, _, _ in view.weights] == [
        "packaged",
        "voting",
        "improvement",
        "external_resources",
        "expert",
    ]
    assert view.knockouts == [
        ("K1", "Менее стольких упакованных практик — месяц не засчитан", 3),
        ("K4", "Менее стольких спикеров — месяц не засчитан", 5),
    ]


def test_the_close_form_names_each_field_a_person_must_correct():
    problems = CloseForm(city="", month="2026-13", reason=" ", confirmed=True).problems()
    assert problems == [
        "Выберите город в поле «Город».",
        "Укажите месяц в поле «Месяц» в виде ГГГГ-ММ, например 2026-12.",
        "Напишите причину в поле «Причина»: она остаётся в истории месяца.",
    ]
    assert CloseForm("sarov", "2026-12", "Праздники", confirmed=False).problems() == []


def test_closing_asks_for_a_confirmation_before_anything_is_sent(office):
    token = csrf_of(office.get("/office").text)
    asked = office.post(
        "/office/close-reporting",
        data={"csrf_token": token, "city": "sarov", "month": "2026-12", "reason": "Праздники"},
    )
    assert asked.status_code == 200
    assert "Закрыть приём отчётности?" in asked.text
    assert '<input type="hidden" name="confirm" value="yes">' in asked.text
    assert '<input type="hidden" name="reason" value="Праздники">' in asked.text


def test_a_form_without_its_csrf_token_is_refused(office):
    refused = office.post(
        "/office/close-reporting",
        data={"city": "sarov", "month": "2026-12", "reason": "x", "confirm": "yes"},
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("details", "russian"),
    [
        (
            "2027-01 has not begun; only the current month's reporting closes early",
            "2027-01 ещё не наступил: досрочно закрывается только отчётность текущего месяца.",
        ),
        (
            "sarov 2026-11 is already closed (signed by curator-1)",
            "Месяц 2026-11 города sarov уже закрыт: его подписал curator-1.",
        ),
        (
            (
                "the reporting of sarov 2026-12 is already closed (by the end of the month); "
                "the month awaits the curator"
            ),
            (
                "Приём отчётности города sarov за 2026-12 уже закрыт (по окончании месяца): "
                "месяц ожидает куратора."
            ),
        ),
        (
            (
                "the reporting of sarov 2026-12 is already closed (by office-1); "
                "the month awaits the curator"
            ),
            (
                "Приём отчётности города sarov за 2026-12 уже закрыт (закрыл office-1): "
                "месяц ожидает куратора."
            ),
        ),
        (
            "reason must be 1 to 2000 characters (got 2001)",
            "Причина должна занимать от 1 до 2000 знаков (сейчас 2001).",
        ),
        (
            "month must be YYYY-MM (e.g. 2026-11), not '2026-1'",
            "Месяц нужно указать в виде ГГГГ-ММ (например, 2026-11), а не «2026-1».",
        ),
    ],
)
def test_kpis_refusals_read_in_russian(details, russian):
    refusal = refusal_in_russian(details)
    assert (refusal.text, refusal.lang, refusal.original) == (russian, "ru", details)


def test_a_refusal_the_console_does_not_know_is_shown_as_it_came():
    refusal = refusal_in_russian("a rule of a later kpi")
    assert (refusal.text, refusal.lang) == ("a rule of a later kpi", "en")
