"""The console in a real browser: Debian's chromium driven by Playwright against one real stack
for the browser tests — Tansu, SecantusDB, the five services as `lmp serve` processes, a month
of the programme for two cities (programme.py), a real OpenID Connect provider
(node/oidc-provider.mjs, panva's oidc-provider) and the console as `lmp console` on a free port.
The stack, the console and the browser live as long as the test module (all browser tests are
in one), so a full run does not keep them idle beside the integration tests that follow.

Playwright never downloads a browser here: it launches /usr/bin/chromium (`.ci/run` installs
Debian's `chromium` and `chromium-driver`). Screenshots go to LMP_SCREENSHOTS_DIR (default: a
directory under pytest's tmp); the pages visited and the time taken are printed at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lmp_devstack import ManagedProcess, free_port

from tests.integration import conftest as integration
from tests.integration.conftest import Slice, slice_env

from .programme import Programme, first_city, seed

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from playwright.sync_api import (
        Browser,
        BrowserContext,
        Frame,
        Page,
        Playwright,
        Response,
    )

HERE = Path(__file__).parent
CHROMIUM = Path(os.environ.get("LMP_CHROMIUM", "/usr/bin/chromium"))
# The tests' Node.js tools, pinned by node/package-lock.json: oidc-provider and axe-core.
NODE_DIR = HERE / "node"
NODE_INSTALLED_FROM = NODE_DIR / "node_modules" / ".lmp-package-lock.sha256"
AXE = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SERVICES = ("registry", "expertise", "voting", "kpi", "notifications")
READY_TIMEOUT_S = 60.0
DESKTOP = {"width": 1280, "height": 900}
# What a page loads besides itself (not the server-sent events' stream, not the page itself).
ASSETS = frozenset({"script", "stylesheet", "image", "font", "fetch", "xhr"})
OIDC_CLIENT_ID = "lmp-console"
# The provider's test account: a curator of the first city, as a directory would hold one.
OIDC_LOGIN = "oidc-curator"
OIDC_STRANGER = "oidc-caretaker"


# The integration tests' real servers (Tansu, SecantusDB, or the external ones they name),
# as fixtures of this folder too.
_tansu_server = integration._tansu_server  # noqa: SLF001  # the fixture kafka_bootstrap uses
kafka_bootstrap = integration.kafka_bootstrap
mongodb_uri = integration.mongodb_uri


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


def missing(what: str) -> None:
    """CI's machine has chromium and node (.ci/run): their absence is a broken CI, not a skip."""
    if os.environ.get("CI"):
        pytest.fail(f"{what}: CI runs the console's browser tests (.ci/run installs it)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        missing(f"no {CHROMIUM} (apt-get install chromium chromium-driver)")
    return CHROMIUM


@dataclass
class Journal:
    """Every page the browser opened (the main frame's navigations), by test, and when."""

    started: float = field(default_factory=time.monotonic)
    test: str = ""
    visits: list[tuple[float, str, str]] = field(default_factory=list)
    screenshots: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def visited(self, url: str) -> None:
        self.visits.append((time.monotonic() - self.started, self.test, url))


JOURNAL = Journal()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not JOURNAL.visits and not JOURNAL.timings:
        return
    write = terminalreporter.write_line
    terminalreporter.section("console in chromium")
    for what, seconds in JOURNAL.timings.items():
        write(f"{what}: {seconds:.1f} s")
    write(f"pages visited: {len(JOURNAL.visits)}")
    test = None
    for at, name, url in JOURNAL.visits:
        if name != test:
            test = name
            write(f"  {name}")
        write(f"    {at:7.2f} s  {url}")
    if JOURNAL.screenshots is not None:
        shots = list(JOURNAL.screenshots.glob("*.png"))
        prints = list(JOURNAL.screenshots.glob("*.pdf"))
        write(f"screenshots: {len(shots)}, printed: {len(prints)}, in {JOURNAL.screenshots}")


class Timed:
    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        self.started = time.monotonic()

    def __exit__(self, *_: object) -> None:
        JOURNAL.timings[self.what] = time.monotonic() - self.started


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("LMP_SCREENSHOTS_DIR")
    directory = Path(given) if given else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    JOURNAL.screenshots = directory
    print(f"\nscreenshots of the console: {directory}")  # noqa: T201  # where to look
    return directory


@pytest.fixture(scope="module")
def browser_stack(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, mongodb_uri: str
) -> Iterator[Slice]:
    """The five services as `lmp serve` processes on the session's Tansu and SecantusDB."""
    base = tmp_path_factory.mktemp("browser-stack")
    made = Slice(slice_env(base, kafka_bootstrap, mongodb_uri), base / "logs")
    try:
        with Timed("five services healthy"):
            started = [made.service(service) for service in SERVICES]
            for process in started:  # all at once, as `lmp up` starts them
                process.start(wait=False)
            for process in started:
                process.wait_healthy()
        yield made
    finally:
        made.stop()


@pytest.fixture(scope="module")
def programme(browser_stack: Slice) -> Programme:
    with Timed("a month of the programme for two cities (gRPC)"):
        return seed(browser_stack.env)


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    login: str
    cities: tuple[str, ...]
    stranger: str = OIDC_STRANGER


@pytest.fixture(scope="module")
def node_tools() -> Path:
    """node/node_modules installed from the committed lock (once per lock)."""
    npm_ci()
    return NODE_DIR


def npm_ci() -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing("no node and npm on the PATH (the OpenID Connect provider runs on Node.js)")
    lock = hashlib.sha256((NODE_DIR / "package-lock.json").read_bytes()).hexdigest()
    if NODE_INSTALLED_FROM.exists() and NODE_INSTALLED_FROM.read_text() == lock:
        return
    # --ignore-scripts: nothing the provider needs runs at install time.
    subprocess.run(  # npm from the PATH, the committed lock
        [str(npm), "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=NODE_DIR,
        check=True,
        timeout=600,
    )
    NODE_INSTALLED_FROM.write_text(lock)


def wait_http(url: str, process: ManagedProcess, what: str, status: int = 200) -> None:
    """Until `url` answers `status` (the server is up), or the process exits, or a minute."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = ""
    while time.monotonic() < deadline:
        if not process.alive:
            msg = f"{what} exited; its log ends with:\n{process.log_tail()}"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310  # our own URL
                code = int(answer.status)
        except urllib.error.HTTPError as error:
            code = error.code
        except (urllib.error.URLError, OSError) as error:
            code, last = 0, repr(error)
        if code == status:
            return
        last = f"HTTP {code}" if code else last
        time.sleep(0.1)
    msg = f"{what} did not answer {url} in {READY_TIMEOUT_S:.0f} s ({last}); log:\n"
    raise RuntimeError(msg + process.log_tail())


@dataclass(frozen=True)
class Console:
    url: str
    oidc: OidcProvider
    programme: Programme
    log: Path


@dataclass(frozen=True)
class Started:
    url: str
    oidc: OidcProvider
    provider: ManagedProcess
    console: ManagedProcess
    log: Path


@pytest.fixture(scope="module")
def started_console(
    browser_stack: Slice,
    node_tools: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Started]:
    """The OpenID Connect provider (its client: this console) and `lmp console` on free ports,
    with the development sign-in on as on the embedded stack; started while the month is
    seeded, ready in `console`."""
    logs = tmp_path_factory.mktemp("browser-logs")
    console_port, oidc_port = free_port(), free_port()
    console_url = f"http://127.0.0.1:{console_port}"
    oidc = OidcProvider(
        issuer=f"http://127.0.0.1:{oidc_port}",
        client_id=OIDC_CLIENT_ID,
        client_secret=secrets.token_urlsafe(32),
        login=OIDC_LOGIN,
        cities=(first_city().city_id,),
    )
    client = {
        "client_id": oidc.client_id,
        "client_secret": oidc.client_secret,
        "redirect_uris": [f"{console_url}/signin/callback"],
    }
    accounts = {
        oidc.login: {"name": "Куратор из каталога", "roles": ["curator"], "cities": oidc.cities},
        # a directory's account whose role the platform does not know
        OIDC_STRANGER: {"name": "Завхоз", "roles": ["caretaker"], "cities": oidc.cities},
    }
    provider = ManagedProcess.spawn(
        [str(shutil.which("node")), str(node_tools / "oidc-provider.mjs")],
        logs / "oidc-provider.log",
        cwd=node_tools,
        env=os.environ
        | {
            "LMP_OIDC_PORT": str(oidc_port),
            "LMP_OIDC_CLIENT": json.dumps(client),
            "LMP_OIDC_ACCOUNTS": json.dumps(accounts),
        },
    )
    console = None
    try:
        env = dict(browser_stack.env) | {
            "LMP_CONSOLE_HOST": "127.0.0.1",
            "LMP_CONSOLE_PORT": str(console_port),
            "LMP_CONSOLE_DEV_SIGNIN": "true",
            "LMP_CONSOLE_SESSION_SECRET": secrets.token_urlsafe(32),
            "LMP_CONSOLE_OIDC_ISSUER": oidc.issuer,
            "LMP_CONSOLE_OIDC_CLIENT_ID": oidc.client_id,
            "LMP_CONSOLE_OIDC_CLIENT_SECRET": oidc.client_secret,
        }
        log = logs / "console.log"
        console = ManagedProcess.spawn(
            [sys.executable, "-m", "lmp_cli.main", "console"], log, env=env
        )
        yield Started(console_url, oidc, provider, console, log)
    finally:
        if console is not None:
            console.stop()
        provider.stop()


@pytest.fixture(scope="module")
def console(started_console: Started, programme: Programme) -> Console:
    started = started_console
    with Timed("console and provider ready (after the seed)"):
        wait_http(
            f"{started.oidc.issuer}/.well-known/openid-configuration",
            started.provider,
            "oidc-provider",
        )
        # The console discovers the provider at its first sign-in; it answers /readyz once
        # the five services answer.
        wait_http(f"{started.url}/readyz", started.console, "lmp console")
    return Console(started.url, started.oidc, programme, started.log)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415  # after the setting

    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright, chromium: Path) -> Iterator[Browser]:
    # --no-sandbox: CI runs as root in a container, where chromium's sandbox cannot start.
    launched = playwright.chromium.launch(
        executable_path=str(chromium), headless=True, args=["--no-sandbox"]
    )
    yield launched
    launched.close()


def journal_navigation(frame: Frame) -> None:
    if frame.parent_frame is None:
        JOURNAL.visited(frame.url)


@pytest.fixture(autouse=True)
def _journal_test(request: pytest.FixtureRequest) -> Iterator[None]:
    JOURNAL.test = request.node.name
    with Timed(request.node.name):
        yield


@pytest.fixture
def new_context(browser: Browser, console: Console) -> Iterator[Callable[..., BrowserContext]]:
    """Fresh browser profiles (no cookies), desktop-sized unless told, their pages journaled;
    closed at the end of the test."""
    made: list[BrowserContext] = []
    broken: list[str] = []

    def watch(opened: Page) -> None:
        opened.on("framenavigated", journal_navigation)
        opened.on("pageerror", lambda error: broken.append(f"{opened.url}: script error {error}"))

    def failed_asset(response: Response) -> None:
        if response.request.resource_type in ASSETS and response.status >= 400:  # HTTP errors
            broken.append(f"{response.url}: HTTP {response.status}")

    def make(**options: Any) -> BrowserContext:  # Playwright's own options
        context = browser.new_context(
            **{"base_url": console.url, "viewport": DESKTOP, "locale": "ru-RU"} | options
        )
        context.set_default_timeout(15_000)
        context.on("page", watch)
        context.on("response", failed_asset)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
    # Every page's scripts ran without an uncaught error, every script, style and image loaded.
    assert broken == []


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()
