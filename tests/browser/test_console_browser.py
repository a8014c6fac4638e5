"""The console in Debian's chromium against a real stack (conftest.py): a curator of the first
city evaluates and signs its month, following K4 to the activity and its speakers on the way;
a curator of the second city sees nothing of the first; sign-in by keyboard alone, a label on
every input, a phone's screen without horizontal scrolling; and sign-in through a real OpenID
Connect provider (authorization code with PKCE) that lands as the directory's user."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from lmp.kpi.v1 import kpi_pb2
from playwright.sync_api import expect

from lmp_cli.demo.clients import TIMEOUT_S, Portals

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import BrowserContext, Page

    from tests.integration.conftest import Slice

    from .conftest import Console

HEALTHCHECK = Path(__file__).resolve().parents[2] / "deploy" / "docker" / "healthcheck.py"
# The form controls a person fills in (hidden fields and buttons need no label).
UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(e => !['hidden', 'submit', 'button', 'reset', 'image'].includes(e.type))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML)"""


def shot(page: Page, screenshots: Path, name: str) -> None:
    page.screenshot(path=screenshots / f"{name}.png", full_page=True)


def assert_labelled(page: Page) -> None:
    assert page.evaluate(UNLABELLED) == [], f"inputs without a label on {page.url}"


def sign_in(page: Page, role: str, cities: str) -> None:
    """The development sign-in form: «Роль», «Города», «Войти»."""
    page.goto("/signin")
    assert_labelled(page)
    page.get_by_label("Роль").select_option(role)
    page.get_by_label("Города").fill(cities)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()


def scorecard_url(city: str, month: str) -> str:
    return f"/cities/{city}/scorecards/{month}"


def shown(points: str) -> str:
    """A scorecard's points as the console shows them: one decimal, a decimal comma."""
    return f"{float(points):.1f}".replace(".", ",")


def test_a_curator_follows_k4_to_its_speakers_evaluates_and_signs_the_month(
    page: Page, console: Console, screenshots: Path
):
    programme = console.programme
    city, other, month = programme.city_a, programme.city_b, programme.month
    sign_in(page, "curator", city.city_id)
    shot(page, screenshots, "01-home")

    page.goto("/curator")
    shot(page, screenshots, "02-curator")
    assert_labelled(page)
    ours = page.locator(f'a[href="{scorecard_url(city.city_id, month)}"]')
    expect(ours.first).to_be_visible()
    assert page.locator(f'a[href^="/cities/{other.city_id}/"]').count() == 0
    ours.first.click()

    expect(page).to_have_url(re.compile(re.escape(scorecard_url(city.city_id, month)) + "$"))
    expect(page.get_by_text("Показатель").first).to_be_visible()
    card = programme.card(city.city_id)
    expect(page.locator("#status")).to_have_text("ждёт куратора")
    expect(page.locator("#total")).to_have_text(shown(card.total))
    for indicator in card.indicators:
        expect(page.locator(f"#indicator-{indicator.name}")).to_contain_text(
            shown(indicator.points)
        )
    shot(page, screenshots, "03-scorecard")
    assert_labelled(page)

    k4 = page.locator("#knockout-K4")
    expect(k4).to_be_visible()
    k4.locator(f'a[href^="/cities/{city.city_id}/activities/"]').first.click()
    expect(page).to_have_url(re.compile(f"/cities/{city.city_id}/activities/"))
    speakers = page.locator("#speakers li")
    expect(speakers).to_have_text([f"Спикер {n}" for n in range(1, city.speakers + 1)])
    shot(page, screenshots, "04-activity")
    page.go_back()
    expect(page).to_have_url(re.compile(re.escape(scorecard_url(city.city_id, month)) + "$"))

    evaluate = page.locator('form[action$="/evaluate"]')
    evaluate.get_by_label("Оценка куратора").fill("0,80")  # as a person types it
    evaluate.locator('[name="branding_used"]').check()
    evaluate.locator('[name="methodology_followed"]').check()
    evaluate.locator('[name="conclusion"]').fill(
        f"{city.name}: методология соблюдается, атрибутика ГСР использована."
    )
    assert_labelled(page)
    evaluate.locator('[type="submit"]').click()
    expect(page.locator("#indicator-expert")).to_contain_text("16,0")  # 20 points x 0.80
    expect(page.locator("#verdict")).to_have_text("зачтён")

    page.locator('form[action$="/sign"]').get_by_role("button", name="Подписать").click()
    expect(page.locator("#status")).to_have_text("подписан")
    expect(page.locator('form[action$="/evaluate"], form[action$="/sign"]')).to_have_count(0)
    shot(page, screenshots, "05-signed")

    page.goto(f"/leaderboard?month={month}")
    row = page.locator(f"#city-{city.city_id}")
    expect(row).to_have_attribute("data-status", "closed")
    expect(row).to_contain_text("подписан")
    expect(page.locator(f"#city-{other.city_id}")).to_have_attribute(
        "data-status", "awaiting_curator"
    )
    expect(page.locator("canvas[data-chart]").first).to_be_attached()
    shot(page, screenshots, "06-leaderboard")


def test_another_citys_curator_sees_nothing_of_the_first_city(
    page: Page, console: Console, screenshots: Path
):
    programme = console.programme
    city, other, month = programme.city_a, programme.city_b, programme.month
    sign_in(page, "curator", other.city_id)

    page.goto("/curator")
    expect(page.locator(f'a[href="{scorecard_url(other.city_id, month)}"]').first).to_be_visible()
    assert page.locator(f'a[href^="/cities/{city.city_id}/"]').count() == 0
    assert city.name not in page.inner_text("main")

    answer = page.goto(scorecard_url(city.city_id, month))
    assert answer is not None
    assert answer.status == 403  # Forbidden
    text = page.inner_text("main")
    card = programme.card(city.city_id)
    assert card.total not in text
    for indicator in card.indicators:
        assert f"#indicator-{indicator.name}" not in page.content()
    assert page.locator('form[action$="/evaluate"], form[action$="/sign"]').count() == 0
    shot(page, screenshots, "07-forbidden")

    answer = page.goto(f"/cities/{city.city_id}/activities/{programme.session(city.city_id)}")
    assert answer is not None
    assert answer.status == 403  # Forbidden
    assert "Спикер" not in page.inner_text("main")


def test_sign_in_works_with_the_keyboard_alone(page: Page, console: Console):
    city = console.programme.city_a
    page.goto("/signin")
    role = page.get_by_label("Роль")
    for _ in range(20):  # the skip link, the brand, the OpenID Connect link, then the form
        if role.evaluate("e => e === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(role).to_be_focused()
    expect(role).to_have_value("curator")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Города")).to_be_focused()
    page.keyboard.type(city.city_id)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()
    expect(page.locator("header")).to_contain_text(city.city_id)


def test_a_phone_shows_the_scorecard_without_scrolling_sideways(
    new_context: Callable[..., BrowserContext], console: Console, screenshots: Path
):
    programme = console.programme
    phone = new_context(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    ).new_page()
    sign_in(phone, "curator", programme.city_a.city_id)
    phone.goto(scorecard_url(programme.city_a.city_id, programme.month))
    expect(phone.get_by_text("Показатель").first).to_be_visible()
    widths = phone.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide on a {widths[1]} px screen"
    shot(phone, screenshots, "08-phone-scorecard")


def through_the_provider(page: Page, console: Console, login: str) -> None:
    """From the console's sign-in page to the provider's login and consent pages (its
    development interactions: any password) and back to the console's callback."""
    page.goto("/signin")
    page.get_by_role("link", name="Войти через OpenID Connect").click()
    expect(page).to_have_url(re.compile("^" + re.escape(console.oidc.issuer)))
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any password: the provider's dev login")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # consent to the console's scopes


def test_sign_in_through_a_real_openid_connect_provider(
    page: Page, console: Console, screenshots: Path
):
    city, other = console.programme.city_a, console.programme.city_b
    through_the_provider(page, console, console.oidc.login)

    expect(page).to_have_url(re.compile("^" + re.escape(console.url) + "/$"))
    header = page.locator("header")
    expect(header).to_contain_text("Куратор из каталога")
    expect(header).to_contain_text("curator")
    expect(header).to_contain_text(city.city_id)
    shot(page, screenshots, "10-oidc-home")
    page.goto("/curator")
    expect(page.locator(f'a[href^="/cities/{city.city_id}/scorecards/"]').first).to_be_visible()
    assert page.locator(f'a[href^="/cities/{other.city_id}/"]').count() == 0


def test_the_provider_s_user_with_a_role_unknown_to_the_platform_is_refused(
    page: Page, console: Console, screenshots: Path
):
    through_the_provider(page, console, console.oidc.stranger)
    expect(page.get_by_role("heading", name="Вход не выполнен")).to_be_visible()
    expect(page.locator("main")).to_contain_text("caretaker")
    expect(page.get_by_role("button", name="Выйти")).to_have_count(0)
    shot(page, screenshots, "11-oidc-refused")
    page.goto("/")  # nobody is signed in
    expect(page).to_have_url(re.compile("/signin"))


def test_the_scorecard_updates_live_while_the_month_awaits_the_curator(
    page: Page, console: Console, browser_stack: Slice, screenshots: Path
):
    """The figures change in the open page (server-sent events from kpi's WatchScorecards),
    without a reload, when the curator's evaluation is recorded elsewhere (here over gRPC)."""
    other, month = console.programme.city_b, console.programme.month
    sign_in(page, "working_group", other.city_id)
    page.goto(scorecard_url(other.city_id, month))
    expect(page.locator("#verdict")).to_have_text(re.compile("^ждёт суждения куратора"))
    expect(page.locator("#live-status")).to_be_visible()
    page.evaluate("() => { window.lmpSamePage = true }")  # gone if the page reloads
    api = Portals(browser_stack.env)
    try:
        api.kpi.EvaluateMonth(
            kpi_pb2.EvaluateMonthRequest(
                city_id=other.city_id,
                month=month,
                score="0.5",
                branding_used=True,
                methodology_followed=True,
                conclusion=f"{other.name}: оценка записана другим клиентом.",
            ),
            metadata=api.curator(other.city_id),
            timeout=TIMEOUT_S,
        )
    finally:
        api.close()
    expect(page.locator("#verdict")).to_have_text("зачтён")
    expect(page.locator("#indicator-expert")).to_contain_text("10,0")  # 20 points x 0.5
    assert page.evaluate("() => window.lmpSamePage === true")
    shot(page, screenshots, "12-live-update")


def test_the_programme_office_s_and_working_group_s_pages_show_the_month(
    page: Page, console: Console, screenshots: Path
):
    """The office's pages, the city dashboard, the library, a passport and its lineage across
    the two cities (the second city adopted the first's practice in the seed)."""
    city, other = console.programme.city_a, console.programme.city_b
    sign_in(page, "programme_office", "*")
    for number, (path, heading) in enumerate(
        (
            ("/office", "Офис программы"),
            ("/office/policies", "Политики оценки по годам программы"),
            ("/office/classifier", "Классификатор практик: тепловая карта"),
            (f"/cities/{city.city_id}", f"{city.name}: панель города"),
        ),
        start=13,
    ):
        answer = page.goto(path)
        assert answer is not None
        assert answer.ok, f"{path}: HTTP {answer.status}"
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_labelled(page)
        shot(page, screenshots, f"{number}-{path.strip('/').replace('/', '-')}")

    page.goto("/library")
    assert_labelled(page)
    shot(page, screenshots, "17-library")
    page.get_by_role("link", name=f"Светлые дворы ({city.name})").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Светлые дворы ({city.name})")
    shot(page, screenshots, "18-practice")
    page.get_by_role("link", name="родословная практики").click()
    expect(page.locator("#lineage-count")).to_have_text("2")
    expect(page.locator("#lineage-tree")).to_contain_text(other.city_id)
    expect(page.locator("#lineage-graph canvas").first).to_be_attached()  # cytoscape drew it
    shot(page, screenshots, "19-lineage")


def test_the_container_health_check_answers_for_the_console(console: Console):
    """`lmp-healthcheck URL` (deploy/docker/healthcheck.py, compose's health check of the
    console) against the running console: 0 for /healthz and /readyz, 1 for a page that is not
    there and for a port nobody listens on."""

    def check(url: str) -> int:
        done = subprocess.run(  # the project's own script, this Python
            [sys.executable, str(HEALTHCHECK), url], capture_output=True, timeout=30, check=False
        )
        return done.returncode

    assert check(f"{console.url}/healthz") == 0
    assert check(f"{console.url}/readyz") == 0
    assert check(f"{console.url}/no-such-page") == 1
    assert check("http://127.0.0.1:9/healthz") == 1


def test_the_provider_refuses_an_authorization_request_without_pkce(page: Page, console: Console):
    """The provider is set to require PKCE of every client, so the sign-ins above prove the
    console sends a code challenge; without one the provider answers the console's callback
    with an error, which the console shows in Russian and signs nobody in."""
    oidc = console.oidc
    query = urlencode(
        {
            "client_id": oidc.client_id,
            "response_type": "code",
            "scope": "openid profile",
            "redirect_uri": f"{console.url}/signin/callback",
            "state": "a-state-the-console-never-issued",
        }
    )
    page.goto(f"{oidc.issuer}/auth?{query}")
    expect(page).to_have_url(re.compile("^" + re.escape(f"{console.url}/signin/callback")))
    expect(page.get_by_role("heading", name="Вход не выполнен")).to_be_visible()
    expect(page.locator("main")).to_contain_text("invalid_request")
    expect(page.locator("main")).to_contain_text("PKCE")
    expect(page.get_by_role("button", name="Выйти")).to_have_count(0)


AXE_RUN = """async () => {
  const found = await axe.run(document, {runOnly: {type: 'tag', values: AXE_TAGS}});
  return found.violations.map(v => `${v.id} (${v.impact}): ${v.help}; ` +
    v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}"""


def axe_violations(page: Page, axe: Path) -> list[str]:
    """What axe-core (Deque's rules, pinned by node/package-lock.json) finds against WCAG 2.1
    A and AA on the page as it is: contrast, labels, names, landmarks, language, ..."""
    page.add_script_tag(path=axe)
    tags = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']"
    return list(page.evaluate(AXE_RUN.replace("AXE_TAGS", tags)))


def test_the_main_pages_pass_axe_core_s_wcag_2_1_aa_rules(
    page: Page, console: Console, node_tools: Path
):
    programme = console.programme
    city, month = programme.city_a, programme.month
    axe = node_tools / "node_modules" / "axe-core" / "axe.min.js"
    found: dict[str, list[str]] = {}

    def check(path: str) -> None:
        answer = page.goto(path)
        assert answer is not None
        assert answer.ok, f"{path}: HTTP {answer.status}"
        if violations := axe_violations(page, axe):
            found[path] = violations

    check("/signin")
    sign_in(page, "programme_office", "*")
    activity = programme.session(city.city_id)
    for path in (
        "/",
        "/curator",
        scorecard_url(city.city_id, month),
        f"/cities/{city.city_id}/activities/{activity}",
        f"/leaderboard?month={month}",
        f"/leaderboard/history?to={month}",
        "/office",
        "/office/policies",
        "/office/classifier",
        f"/cities/{city.city_id}",
        "/library",
    ):
        check(path)
    assert found == {}


def test_the_scorecard_prints_its_figures_without_navigation_or_forms(
    page: Page, console: Console, screenshots: Path
):
    """Print media (the console's print CSS): the figures and knock-outs stay, the navigation,
    the forms and the print button go; chromium prints it to PDF."""
    programme = console.programme
    city = programme.city_a
    sign_in(page, "curator", city.city_id)
    page.goto(scorecard_url(city.city_id, programme.month))
    expect(page.locator("form").first).to_be_visible()
    page.emulate_media(media="print")
    for kept in ("#total", "#indicators", "#knockouts", "#knockout-K4"):
        expect(page.locator(kept)).to_be_visible()
    for gone in ("header nav", "form", "footer", ".no-print"):
        for element in page.locator(gone).all():
            expect(element).to_be_hidden()
    pdf = page.pdf(path=screenshots / "20-scorecard.pdf", format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-")
