"""The console's programme-office, city-dashboard and library pages against real services:
registry, expertise and kpi as `lmp serve` processes, seeded through their gRPC APIs; the
console is the real Starlette app over real gRPC connections, signed in through its dev
sign-in. Every figure a page shows is checked against what the service answers, and a user of
another city gets 403 (or, for an unpublished practice, 404) without the city's data."""

from __future__ import annotations

import html
import json
import re
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from lmp.kpi.v1 import kpi_pb2
from lmp.registry.v1 import registry_pb2 as pb
from lmp_console.app import create_app
from lmp_console.settings import ConsoleSettings
from starlette.testclient import TestClient

from .conftest import Slice, council_concludes, slice_env

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

PASSPORT = {
    "what": pb.SectionContent(text="Освещённые дворы"),
    "why": pb.SectionContent(text="Тёмные дворы небезопасны"),
    "how": pb.SectionContent(text="Жители выбирают светильники"),
    "with_what": pb.SectionContent(text="Светодиодные светильники и волонтёры"),
    "cost": pb.SectionContent(cost=pb.Cost(amount="150000.00", currency="RUB")),
    "result": pb.SectionContent(
        indicators=[pb.Indicator(name="Освещённые дворы", unit="дворов", baseline="3", target="20")]
    ),
    "effects": pb.SectionContent(effects=pb.Effects(social="Безопасные вечера")),
    "sustainability": pb.SectionContent(text="Обслуживает муниципальное предприятие"),
    "scalability": pb.SectionContent(text="Любой город с дворами"),
}
WHAT_SECOND = pb.SectionContent(text="Освещённые дворы\nИ детские площадки")
LIT = pb.Cell(function="infrastructure", method="external_resources", sub_methods=["donors"])
SCHOOL = pb.Cell(function="education", method="own_resources")
TITLE = "Светлые дворы"
DRAFT = "Школьный совет черновик"


def wait_for(read: Callable[[], Any], predicate: Callable[[Any], bool], timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    value = read()
    while not predicate(value):
        assert time.monotonic() < deadline, f"not reached in {timeout} s: {value}"
        time.sleep(0.2)
        value = read()
    return value


class Seeded:
    def __init__(self, stack: Slice, ids: dict[str, str]) -> None:
        self.stack = stack
        self.ids = ids
        self.registry = stack.registry()
        self.kpi = stack.kpi()

    def md(self, role: str, *cities: str) -> tuple[tuple[str, str], ...]:
        return self.stack.metadata(role, cities=cities)


def seed(stack: Slice) -> dict[str, str]:
    registry = stack.registry()
    office = stack.metadata("programme_office", cities=("*",))
    wg = stack.metadata("working_group", cities=("sarov",))
    for city, name in (("sarov", "Саров"), ("seversk", "Северск")):
        registry.RegisterCity(
            pb.RegisterCityRequest(
                city_id=city,
                name=name,
                region="Регион",
                kind="zato",
                population=90_000,
                voter_target=100,
            ),
            metadata=office,
            timeout=10,
        )
    practice = registry.RegisterPractice(
        pb.RegisterPracticeRequest(
            city_id="sarov",
            kind="own",
            title=TITLE,
            authors=[pb.Person(person_id="p1", name="Иванова А.")],
            problem_ids=[stack.problem("sarov")],
            cells=[LIT],
            lifecycle_step=8,
        ),
        metadata=wg,
        timeout=10,
    )
    draft = registry.RegisterPractice(
        pb.RegisterPracticeRequest(
            city_id="sarov",
            kind="initiative",
            title=DRAFT,
            authors=[pb.Person(person_id="p2", name="Петров Б.")],
            problem_ids=[stack.problem("sarov")],
            cells=[SCHOOL],
            lifecycle_step=3,
        ),
        metadata=wg,
        timeout=10,
    )
    registry.ChangeStatus(
        pb.ChangeStatusRequest(practice_id=practice.practice_id, status="primary_review"),
        metadata=wg,
        timeout=10,
    )
    council_concludes(stack, practice.practice_id, "approved_for_passport")
    for section, content in [*PASSPORT.items(), ("what", WHAT_SECOND)]:
        registry.EditPassportSection(
            pb.EditPassportSectionRequest(
                practice_id=practice.practice_id, section=section, content=content
            ),
            metadata=wg,
            timeout=10,
        )
    registry.ApprovePassport(
        pb.ApprovePassportRequest(practice_id=practice.practice_id), metadata=wg, timeout=10
    )
    neighbour = stack.metadata("working_group", cities=("seversk",))
    copy = registry.AdoptPractice(
        pb.AdoptPracticeRequest(
            source_practice_id=practice.practice_id,
            city_id="seversk",
            problem_ids=[stack.problem("seversk")],
        ),
        metadata=neighbour,
        timeout=10,
    )
    today = datetime.now(UTC)
    activity = registry.RegisterActivity(
        pb.RegisterActivityRequest(
            city_id="sarov",
            kind="charity_event",
            title="Субботник во дворе",
            held_on=today.date().isoformat(),
            joint_action=True,
        ),
        metadata=wg,
        timeout=10,
    )
    published_at = pb.Activity().announcement.published_at
    published_at.FromDatetime(today)
    registry.PublishAnnouncement(
        pb.PublishRequest(
            activity_id=activity.activity_id, text="Приходите", published_at=published_at
        ),
        metadata=wg,
        timeout=10,
    )
    return {
        "practice": practice.practice_id,
        "draft": draft.practice_id,
        "copy": copy.practice_id,
        "activity": activity.activity_id,
    }


@pytest.fixture(scope="module")
def seeded(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, mongodb_uri: str
) -> Iterator[Seeded]:
    root = tmp_path_factory.mktemp("console-pages")
    stack = Slice(slice_env(root, kafka_bootstrap, mongodb_uri), root / "logs")
    try:
        stack.start("registry")
        stack.start("expertise")
        stack.start("kpi")
        made = Seeded(stack, seed(stack))
        settle(made)
        yield made
    finally:
        stack.stop()


def settle(s: Seeded) -> None:
    """Wait until the read models hold every seeded record (the pages read the same ones)."""
    wg = s.md("working_group", "sarov")
    wait_for(
        lambda: s.registry.SearchLibrary(pb.SearchLibraryRequest(), metadata=wg, timeout=10),
        lambda r: any(e.published and e.practice_id == s.ids["practice"] for e in r.entries),
    )
    wait_for(
        lambda: s.registry.GetCityDashboard(
            pb.GetCityDashboardRequest(city_id="sarov"), metadata=wg, timeout=10
        ),
        lambda b: (
            sum(c.practices for c in b.statuses) == 2
            and b.packaged_practices == 1
            and any(g.activity_id == s.ids["activity"] for g in b.activity_gaps)
        ),
    )
    wait_for(
        lambda: s.registry.GetLineage(
            pb.GetLineageRequest(practice_id=s.ids["practice"]),
            metadata=s.md("working_group", "seversk"),
            timeout=10,
        ),
        lambda r: len(r.nodes) == 2,
    )
    wait_for(
        lambda: s.registry.GetClassifierMatrix(
            pb.GetClassifierMatrixRequest(city_id="seversk"),
            metadata=s.md("working_group", "seversk"),
            timeout=10,
        ),
        lambda m: m.total == 1,
    )
    wait_for(
        lambda: s.kpi.GetLeaderboard(
            kpi_pb2.GetLeaderboardRequest(month=datetime.now(UTC).strftime("%Y-%m")),
            metadata=s.md("programme_office", "*"),
            timeout=10,
        ),
        lambda r: {"sarov", "seversk"} <= {e.scorecard.city_id for e in r.entries},
    )


@pytest.fixture
def console(seeded: Seeded) -> Iterator[Callable[[str, str], TestClient]]:
    env = dict(seeded.stack.env)
    env["LMP_CONSOLE_SESSION_SECRET"] = "a-console-session-secret-for-the-page-tests"  # noqa: S105  # a test's own
    settings = ConsoleSettings.from_env(env, dev_signin_default=True)
    clients: list[TestClient] = []

    def signed_in(role: str, cities: str) -> TestClient:
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        form = client.get("/signin").text
        response = client.post(
            "/signin/dev",
            data={"role": role, "cities": cities, "csrf_token": csrf_of(form), "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return client

    yield signed_in
    for client in clients:
        client.__exit__(None, None, None)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def cells_of(page: str, marker: str) -> dict[str, int]:
    """`<tr data-{marker}="key">…<td class="num">N</td></tr>` rows of a page as {key: N}."""
    rows = re.findall(rf'<tr data-{marker}="([^"]+)">(.*?)</tr>', page, re.DOTALL)
    found = {}
    for key, row in rows:
        numbers = re.findall(r'<td class="num">\s*(\d+)\s*</td>', row)
        found[key] = int(numbers[-1])
    return found


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def month_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def test_the_city_dashboard_shows_the_registrys_gaps_and_counts(seeded, console):
    wg = seeded.md("working_group", "sarov")
    board = seeded.registry.GetCityDashboard(
        pb.GetCityDashboardRequest(city_id="sarov", month=month_now()), metadata=wg, timeout=10
    )
    listed = seeded.registry.ListPractices(
        pb.ListPracticesRequest(city_id="sarov"), metadata=wg, timeout=10
    ).practices

    page = console("working_group", "sarov").get("/cities/sarov")

    assert page.status_code == 200
    body = page.text
    assert "Саров: панель города" in body
    assert f'id="packaged">{board.packaged_practices}<' in body
    assert board.packaged_practices == 1
    for gap in board.stage_gaps:
        item = re.search(
            rf'data-stage="{gap.stage}".*?</li>\s*(?=<li class="stage-gap|</ol>)', body, re.DOTALL
        )
        assert item, f"stage {gap.stage} is not on the page"
        shown = re.findall(r'<li lang="(\w+)">', item.group(0))
        assert len(shown) == len(gap.missing)
        assert set(shown) <= {"ru"}, f"a sentence of stage {gap.stage} is not in Russian"
        if not gap.missing:
            assert "всё готово" in item.group(0) or "условий перехода нет" in item.group(0)
    row = re.search(rf'<tr data-activity="{seeded.ids["activity"]}">(.*?)</tr>', body, re.DOTALL)
    assert row, "the activity without its release and report is not listed"
    (activity_gap,) = [g for g in board.activity_gaps if g.activity_id == seeded.ids["activity"]]
    assert re.findall(r'data-missing="(\w+)"', row.group(1)) == list(activity_gap.missing)
    assert list(activity_gap.missing) == ["press_release", "report"]
    assert "опубликовать пресс-релиз (PublishPressRelease)" in row.group(1)
    by_step = Counter(p.lifecycle_step for p in listed)
    assert cells_of(body, "step") == {str(step): by_step.get(step, 0) for step in range(1, 13)}
    assert cells_of(body, "status") == {s.status: s.practices for s in board.statuses}
    assert cells_of(body, "step")["8"] == 1
    assert "data-chart=" in body
    for practice in listed:
        assert f'href="/cities/sarov/practices/{practice.practice_id}"' in body


def test_another_citys_user_gets_403_without_the_dashboards_data(seeded, console):
    neighbour = console("working_group", "seversk")

    page = neighbour.get("/cities/sarov")

    assert page.status_code == 403
    for secret in (TITLE, DRAFT, "Субботник", seeded.ids["draft"], "Саров: панель"):
        assert secret not in page.text
    assert neighbour.get("/cities/seversk").status_code == 200


def test_the_library_finds_approved_passports_by_text_cell_and_result(seeded, console):
    kazan = console("curator", "kazan")
    reader = seeded.md("curator", "kazan")
    answer = seeded.registry.SearchLibrary(
        pb.SearchLibraryRequest(text="волонтёры", cell="infrastructure:external_resources"),
        metadata=reader,
        timeout=10,
    )
    expected = [e.practice_id for e in answer.entries if e.published]
    assert expected == [seeded.ids["practice"]]

    found = kazan.get(
        "/library",
        params={"q": "волонтёры", "cell": "infrastructure:external_resources", "result": "дворов"},
    )

    assert found.status_code == 200
    shown = re.findall(r'<li class="card" data-practice="([^"]+)">', found.text)
    assert shown == expected
    assert f'href="/cities/sarov/practices/{seeded.ids["practice"]}"' in found.text
    assert "Освещённые дворы: 3 → 20 дворов" in text_of(found.text)
    assert DRAFT not in found.text
    other_result = kazan.get("/library", params={"q": "волонтёры", "result": "километров"})
    assert re.findall(r'data-practice="([^"]+)"', other_result.text) == []
    other_cell = kazan.get("/library", params={"cell": "education:own_resources"})
    assert re.findall(r'data-practice="([^"]+)"', other_cell.text) == []
    bad = kazan.get("/library", params={"cell": "nowhere:nothing"})
    assert bad.status_code == 400
    assert "Ячейка классификатора" in bad.text


def test_a_practice_shows_its_passport_history_and_diff(seeded, console):
    kazan = console("curator", "kazan")
    reader = seeded.md("curator", "kazan")
    practice_id = seeded.ids["practice"]
    practice = seeded.registry.GetPractice(
        pb.GetPracticeRequest(practice_id=practice_id), metadata=reader, timeout=10
    )
    passport = seeded.registry.GetPassport(
        pb.GetPassportRequest(practice_id=practice_id), metadata=reader, timeout=10
    )
    base = f"/cities/sarov/practices/{practice_id}"

    page = kazan.get(base)

    assert page.status_code == 200
    body = text_of(page.text)
    assert TITLE in body
    assert "паспорт утверждён" in body
    assert f"утверждена версия {passport.approved_passport_version}" in body
    assert 'aria-current="step">Воплощение идеи, решение проблемы' in page.text
    for section in passport.sections:
        assert f'data-section="{section.section}"' in page.text
    assert "150000.00 RUB" in body
    assert practice.lifecycle_step == 8

    history = seeded.registry.GetSectionHistory(
        pb.GetSectionHistoryRequest(practice_id=practice_id, section="what"),
        metadata=reader,
        timeout=10,
    )
    shown = kazan.get(f"{base}/sections/what/history")
    assert shown.status_code == 200
    assert re.findall(r'data-version="(\d+)"', shown.text) == [
        str(v.version) for v in reversed(history.versions)
    ]
    assert [v.version for v in history.versions] == [1, 2]

    diff = seeded.registry.DiffSection(
        pb.DiffSectionRequest(
            practice_id=practice_id, section="what", from_version=1, to_version=2
        ),
        metadata=reader,
        timeout=10,
    ).diff
    added = [
        line[1:]
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    removed = [
        line[1:]
        for line in diff.splitlines()
        if line.startswith("-") and not line.startswith("---")
    ]
    page = kazan.get(f"{base}/sections/what/diff", params={"from": "1", "to": "2"})
    assert page.status_code == 200
    ins = [
        text_of(m).removeprefix("добавлено: +") for m in re.findall(r"<ins>(.*?)</ins>", page.text)
    ]
    dels = [
        text_of(m).removeprefix("удалено: −") for m in re.findall(r"<del>(.*?)</del>", page.text)
    ]
    assert ins == added
    assert dels == removed
    assert "И детские площадки" in added
    assert f"Добавлено строк: {len(added)}, удалено строк: {len(removed)}." in page.text
    assert (
        kazan.get(f"{base}/sections/what/diff", params={"from": "x", "to": "2"}).status_code == 400
    )
    assert kazan.get(f"{base}/sections/nowhere/history").status_code == 400


def test_an_unpublished_practice_of_another_city_is_not_found_without_data(seeded, console):
    kazan = console("curator", "kazan")

    page = kazan.get(f"/cities/sarov/practices/{seeded.ids['draft']}")

    assert page.status_code == 404
    assert DRAFT not in page.text
    for part in ("/lineage", "/sections/what/history", "/sections/what/diff?from=0&to=1"):
        refused = kazan.get(f"/cities/sarov/practices/{seeded.ids['draft']}{part}")
        assert refused.status_code == 404, part
        assert DRAFT not in refused.text
    moved = kazan.get(
        f"/cities/kazan/practices/{seeded.ids['practice']}/lineage", follow_redirects=False
    )
    assert moved.status_code == 307
    assert moved.headers["location"] == f"/cities/sarov/practices/{seeded.ids['practice']}/lineage"
    assert (
        'id="practice-problems"'
        not in kazan.get(f"/cities/sarov/practices/{seeded.ids['practice']}").text
    )  # the library's reader sees the practice, not the city's problems
    own = console("working_group", "sarov").get(f"/cities/sarov/practices/{seeded.ids['draft']}")
    assert own.status_code == 200
    assert DRAFT in own.text
    draft = seeded.registry.GetPractice(
        pb.GetPracticeRequest(practice_id=seeded.ids["draft"]),
        metadata=seeded.md("working_group", "sarov"),
        timeout=10,
    )
    shown = re.findall(r'<li data-problem="([^"]+)">', own.text)
    assert shown == list(draft.problem_ids)
    assert "A problem a practice solves" in own.text


def test_the_lineage_is_a_graph_and_a_nested_list_of_what_the_user_may_see(seeded, console):
    practice_id = seeded.ids["practice"]
    neighbour_view = seeded.registry.GetLineage(
        pb.GetLineageRequest(practice_id=practice_id),
        metadata=seeded.md("working_group", "seversk"),
        timeout=10,
    )
    assert [(n.city_id, n.depth) for n in neighbour_view.nodes] == [("sarov", 0), ("seversk", 1)]

    page = console("working_group", "seversk").get(f"/cities/sarov/practices/{practice_id}/lineage")

    assert page.status_code == 200
    graph = re.search(r"data-graph='([^']*)'", page.text)
    assert graph, "no graph on the page"
    elements = json.loads(html.unescape(graph.group(1)))
    nodes = {e["data"]["id"] for e in elements if "source" not in e["data"]}
    edges = {(e["data"]["source"], e["data"]["target"]) for e in elements if "source" in e["data"]}
    assert nodes == {n.practice_id for n in neighbour_view.nodes}
    assert edges == {(practice_id, seeded.ids["copy"])}
    nested = re.search(
        rf'data-practice="{practice_id}" data-depth="0".*?<ul>\s*'
        rf'<li data-practice="{seeded.ids["copy"]}" data-depth="1"',
        page.text,
        re.DOTALL,
    )
    assert nested, "the copy is not nested under its source in the list"
    assert "/static/vendor/cytoscape.min.js" in page.text

    outsider = console("curator", "kazan").get(f"/cities/sarov/practices/{practice_id}/lineage")
    assert re.findall(r'<li data-practice="([^"]+)"', outsider.text) == [practice_id]


def test_policies_by_year_are_those_kpi_lists(seeded, console):
    policies = seeded.kpi.ListPolicies(
        kpi_pb2.ListPoliciesRequest(), metadata=seeded.md("programme_office", "*"), timeout=10
    ).policies

    page = console("programme_office", "*").get("/office/policies")

    assert page.status_code == 200
    for policy in policies:
        assert f"Версия {policy.version}" in page.text
        assert f'id="year-{policy.year}"' in page.text
    (default,) = [p for p in policies if p.version == "2026.1"]
    assert cells_of(page.text, "indicator") == dict(default.weights)
    assert cells_of(page.text, "knockout") == {
        "K1": default.minimum_packaged,
        "K4": default.minimum_speakers,
    }


def heat_cells(page: str, city: str) -> dict[str, int]:
    section = re.search(rf'<section [^>]*data-city="{city}">(.*?)</section>', page, re.DOTALL)
    assert section, f"no heat map of {city or 'the federation'}"
    return {
        key: int(text_of(value).strip())
        for key, value in re.findall(r'data-cell="([^"]+)">(.*?)</td>', section.group(1), re.DOTALL)
    }


def test_the_classifier_heat_map_counts_what_the_registry_counts(seeded, console):
    everyone = seeded.md("programme_office", "*")

    def matrix(city: str) -> dict[str, int]:
        found = seeded.registry.GetClassifierMatrix(
            pb.GetClassifierMatrixRequest(city_id=city), metadata=everyone, timeout=10
        )
        return {f"{c.function}:{c.method}": c.practices for c in found.cells}

    page = console("programme_office", "*").get("/office/classifier").text

    assert heat_cells(page, "") == matrix("")
    assert heat_cells(page, "sarov") == matrix("sarov")
    assert heat_cells(page, "seversk") == matrix("seversk")
    assert matrix("sarov")["infrastructure:external_resources"] == 1
    assert matrix("sarov")["education:own_resources"] == 1
    assert 'class="num heat heat-5" data-cell="infrastructure:external_resources"' in page
    assert "Легенда" in page

    board = seeded.kpi.GetLeaderboard(
        kpi_pb2.GetLeaderboardRequest(month=month_now()), metadata=everyone, timeout=10
    )
    known = sorted({e.scorecard.city_id for e in board.entries})
    office = console("programme_office", "*").get("/office").text
    assert re.findall(r'<li data-city="([^"]+)">', office) == known
    assert re.findall(r'<section [^>]*data-city="(\w+)">', page) == known
    curator_office = console("curator", "sarov").get("/office").text
    assert re.findall(r'<li data-city="([^"]+)">', curator_office) == ["sarov"]
    assert "seversk" not in curator_office.split('id="office-cities"')[1].split("</ul>")[0]

    own = console("curator", "sarov").get("/office/classifier").text
    assert heat_cells(own, "sarov") == matrix("sarov")
    assert 'data-city="seversk"' not in own


def test_closing_reporting_early_asks_first_then_shows_the_scorecard_or_the_refusal(
    seeded, console
):
    office = console("programme_office", "*")
    month = month_now()
    form = {"city": "sarov", "month": month, "reason": "Демонстрация программы"}
    token = csrf_of(office.get("/office").text)

    page = office.get("/office").text
    for field in ("close-city", "close-month", "close-reason"):
        assert f'<label for="{field}">' in page
    assert re.findall(r'<option value="(\w+)"', page) == ["sarov", "seversk"]
    assert '<option value="sarov" >Саров (sarov)</option>' in page
    mistaken = office.post(
        "/office/close-reporting",
        data={**form, "month": "декабрь", "reason": " ", "confirm": "yes", "csrf_token": token},
    )
    assert mistaken.status_code == 400
    assert "в виде ГГГГ-ММ" in mistaken.text
    assert "в поле «Причина»" in mistaken.text

    asked = office.post("/office/close-reporting", data={**form, "csrf_token": token})
    assert asked.status_code == 200
    assert "Да, закрыть приём отчётности" in asked.text
    card = seeded.kpi.GetScorecard(
        kpi_pb2.GetScorecardRequest(city_id="sarov", month=month),
        metadata=seeded.md("programme_office", "*"),
        timeout=10,
    )
    assert card.status == "open"  # nothing happened before the confirmation

    done = office.post(
        "/office/close-reporting", data={**form, "confirm": "yes", "csrf_token": token}
    )

    assert done.status_code == 200, done.text
    assert 'id="card-status">ожидает куратора<' in done.text
    shown = re.search(r'id="card-total">([^<]*)<', done.text)
    assert shown, "the closed month's total is not shown"
    # The page shows the card CloseReporting answered; kpi's read model reaches the same one.
    card = wait_for(
        lambda: seeded.kpi.GetScorecard(
            kpi_pb2.GetScorecardRequest(city_id="sarov", month=month),
            metadata=seeded.md("programme_office", "*"),
            timeout=10,
        ),
        lambda c: c.status == "awaiting_curator" and c.total == shown.group(1),
    )
    assert card.total == shown.group(1)

    again = office.post(
        "/office/close-reporting", data={**form, "confirm": "yes", "csrf_token": token}
    )
    assert again.status_code == 400
    refusal = re.search(r'<span lang="ru" class="refusal">(.*?)</span>', again.text, re.DOTALL)
    assert refusal, "the service's refusal is not shown in Russian"
    assert html.unescape(refusal.group(1)) == (
        f"Приём отчётности города sarov за {month} уже закрыт (закрыл dev-programme_office): "
        "месяц ожидает куратора."
    )

    curator = console("curator", "seversk")
    forbidden = curator.post(
        "/office/close-reporting",
        data={
            **form,
            "city": "seversk",
            "confirm": "yes",
            "csrf_token": csrf_of(curator.get("/office").text),
        },
    )
    assert forbidden.status_code == 403
