"""The console over real HTTP against the five real services: a month of the programme for two
cities (the demo's own stages, tests/browser/programme.py), the console served by uvicorn on a
free port, and its pages read as a curator would: the scorecard's figures and their records,
the forms (a refused score records nothing), signing, the leaderboard, the live stream, and
another city's curator seeing none of it."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx2 as httpx
import pytest
import uvicorn
from lmp.kpi.v1 import kpi_pb2
from lmp_console.app import create_app
from lmp_console.settings import ConsoleSettings
from lmp_devstack import free_port

from lmp_cli.demo.clients import eventually
from tests.browser.programme import Programme, seed
from tests.integration.conftest import Slice, slice_env

SERVICES = ("registry", "expertise", "voting", "kpi", "notifications")


@pytest.fixture(scope="module")
def services_stack(tmp_path_factory, kafka_bootstrap, mongodb_uri) -> Iterator[Slice]:
    base = tmp_path_factory.mktemp("console-stack")
    made = Slice(slice_env(base, kafka_bootstrap, mongodb_uri), base / "logs")
    try:
        for service in SERVICES:
            made.start(service)
        yield made
    finally:
        made.stop()


@pytest.fixture(scope="module")
def programme(services_stack: Slice) -> Programme:
    return seed(services_stack.env)


@dataclass(frozen=True)
class Console:
    url: str


@pytest.fixture(scope="module")
def console(services_stack: Slice) -> Iterator[Console]:
    port = free_port()
    env = services_stack.env | {"LMP_CONSOLE_PORT": str(port)}
    settings = ConsoleSettings.from_env(env, dev_signin_default=True)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the console did not start"
        assert thread.is_alive(), "the console's server stopped"
        time.sleep(0.05)
    yield Console(f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


@contextmanager
def signed_in(console: Console, role: str, cities: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=console.url, follow_redirects=True, timeout=60) as client:
        token = csrf(client.get("/signin").text)
        answer = client.post(
            "/signin/dev", data={"role": role, "cities": cities, "csrf_token": token}
        )
        assert answer.status_code == 200, answer.text
        yield client


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no form with a CSRF token on the page"
    return found.group(1)


def text_of(html: str) -> str:
    html = re.sub(r"<(script|head)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_readyz_is_200_when_all_five_services_answer(console):
    answer = httpx.get(f"{console.url}/readyz", timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"ready": True}


def test_the_curator_sees_the_month_awaiting_evaluation(console, programme):
    city = programme.city_a.city_id
    with signed_in(console, "curator", city) as client:
        page = client.get("/curator")
    assert page.status_code == 200
    section = page.text.split('id="to_evaluate"', 1)[1].split("</section>", 1)[0]
    assert f'href="/cities/{city}/scorecards/{programme.month}"' in section
    assert programme.city_b.city_id not in page.text
    # a city the registry does not know is named, not a broken page
    with signed_in(console, "curator", f"{city},atlantis") as client:
        page = client.get("/curator")
    assert page.status_code == 200
    assert "В реестре нет городов: atlantis" in page.text
    assert f'href="/cities/{city}/scorecards/{programme.month}"' in page.text


def test_every_figure_of_the_scorecard_leads_to_its_records(console, programme, services_stack):
    city = programme.city_a.city_id
    card = services_stack.kpi().GetScorecard(
        kpi_pb2.GetScorecardRequest(city_id=city, month=programme.month),
        metadata=services_stack.metadata("curator", cities=(city,)),
        timeout=10,
    )
    with signed_in(console, "curator", city) as client:
        page = client.get(f"/cities/{city}/scorecards/{programme.month}")
        assert page.status_code == 200
        html = page.text
        for indicator in ("packaged", "voting", "improvement", "external_resources", "expert"):
            assert f'id="indicator-{indicator}"' in html
        for knockout in card.knockouts:
            assert f'id="knockout-{knockout.code}"' in html
        # the total as kpi computed it, in Russian notation
        assert f">{float(card.total):.1f}".replace(".", ",") in html
        links = set(re.findall(rf'href="(/cities/{city}/[a-z]+/[0-9a-f-]{{36}})"', html))
        kinds = {link.split("/")[3] for link in links}
        assert {"activities", "facts", "polls", "practices"} <= kinds
        # K4: its activities, each with its speakers
        k4 = html.split('id="knockout-K4"', 1)[1].split("</tr>", 1)[0]
        k4_activities = re.findall(rf'href="(/cities/{city}/activities/[^"]+)"', k4)
        assert k4_activities
        activity = client.get(k4_activities[0])
        assert activity.status_code == 200
        speakers = activity.text.split('id="speakers"', 1)[1].split("</ul>", 1)[0]
        assert speakers.count("<li>") >= 1
        poll_link = next(link for link in links if "/polls/" in link)
        poll = client.get(poll_link)
        assert poll.status_code == 200
        assert "Проголосовали" in poll.text
        fact_link = next(link for link in links if "/facts/" in link)
        assert "признан" in text_of(client.get(fact_link).text)
        # the services' refusals become pages: no such record is 404
        missing = client.get(f"/cities/{city}/activities/{uuid.uuid4()}")
        assert missing.status_code == 404
        assert "Не найдено" in missing.text


def test_a_refused_score_records_nothing_and_says_why(console, programme, services_stack):
    city = programme.city_b.city_id
    url = f"/cities/{city}/scorecards/{programme.month}"
    with signed_in(console, "curator", city) as client:
        page = client.get(url).text
        answer = client.post(
            f"{url}/evaluate",
            data={"csrf_token": csrf(page), "score": "1,5", "conclusion": "слишком щедро"},
        )
    assert answer.status_code == 400
    assert "Оценка куратора должна быть от 0 до 1" in answer.text
    # a working group may read the card, not evaluate it: kpi refuses, the page says so
    with signed_in(console, "working_group", city) as client:
        page = client.get(url).text
        assert 'id="evaluate-form"' not in page
        refused = client.post(
            f"{url}/evaluate",
            data={"csrf_token": csrf(page), "score": "0.5", "conclusion": "не моя роль"},
        )
    assert refused.status_code == 403
    assert "Нет доступа" in refused.text
    card = services_stack.kpi().GetScorecard(
        kpi_pb2.GetScorecardRequest(city_id=city, month=programme.month),
        metadata=services_stack.metadata("curator", cities=(city,)),
        timeout=10,
    )
    assert card.curator == ""
    assert card.verdict == "pending"


def test_evaluate_sign_and_amend_a_month(console, programme, services_stack):
    city = programme.city_a.city_id
    url = f"/cities/{city}/scorecards/{programme.month}"
    with signed_in(console, "curator", city) as client:
        page = client.get(url).text
        evaluated = client.post(
            f"{url}/evaluate",
            data={
                "csrf_token": csrf(page),
                "score": "0,8",
                "branding_used": "on",
                "methodology_followed": "on",
                "conclusion": "Методология соблюдается.",
            },
        )
        assert evaluated.status_code == 200, text_of(evaluated.text)[:500]
        assert "Оценка записана" in evaluated.text
        assert 'id="sign-form"' in evaluated.text
        signed = client.post(f"{url}/sign", data={"csrf_token": csrf(evaluated.text)})
        assert signed.status_code == 200, text_of(signed.text)[:500]
        assert "Месяц подписан" in signed.text
        board = client.get(f"/leaderboard?month={programme.month}")
    row = board.text.split(f'id="city-{city}"', 1)[1].split("</tr>", 1)[0]
    assert row.startswith(' data-status="closed"')
    assert "подписан" in row
    assert "<canvas data-chart=" in board.text
    # a signed month is corrected only by an amendment with its reason
    with signed_in(console, "curator", city) as client:
        page = client.get(url).text
        assert 'id="amend-form"' in page
        refused = client.post(f"{url}/amend", data={"csrf_token": csrf(page), "reason": " "})
        assert refused.status_code == 400
        assert "Напишите причину поправки" in refused.text
        amended = client.post(
            f"{url}/amend", data={"csrf_token": csrf(page), "reason": "Факт признан ошибочно"}
        )
        assert amended.status_code == 200, text_of(amended.text)[:500]
        assert "Поправка записана" in amended.text
    # read without the console's consistency token: kpi's read model follows a moment later
    card = eventually(
        lambda: services_stack.kpi().GetScorecard(
            kpi_pb2.GetScorecardRequest(city_id=city, month=programme.month),
            metadata=services_stack.metadata("curator", cities=(city,)),
            timeout=10,
        ),
        lambda card: bool(card.amendments),
        "the amendment in kpi's read model",
    )
    assert card.amendments[-1].reason == "Факт признан ошибочно"
    assert card.status != "closed"


def test_another_citys_curator_sees_nothing_of_the_first(console, programme):
    first = programme.city_a.city_id
    with signed_in(console, "curator", programme.city_b.city_id) as client:
        card = client.get(f"/cities/{first}/scorecards/{programme.month}")
        assert card.status_code == 403
        assert "Нет доступа к городу" in card.text
        assert 'id="indicators"' not in card.text
        assert first not in client.get("/curator").text.split("<main", 1)[1]
        events = client.get(f"/cities/{first}/scorecards/{programme.month}/events")
        assert events.status_code == 403


def test_the_live_stream_sends_the_cards_figures(console, programme):
    city = programme.city_b.city_id
    with (
        signed_in(console, "curator", city) as client,
        client.stream("GET", f"/cities/{city}/scorecards/{programme.month}/events") as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        event, data = "", []
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "update":
                data.append(line.removeprefix("data: "))
            elif not line and event == "update" and data:
                break
    html = "\n".join(data)
    assert 'id="indicators"' in html
    assert 'id="knockout-K4"' in html
