"""Journeys in a real browser: Debian's Chromium driven by Playwright, against the app served by
gunicorn (bin/web), a Celery worker process (bin/worker) and the tests' SMTP server.

- Database: the test database of the run (tests/conftest.py: a SQLite file, or PostgreSQL with
  TEST_DATABASE_URL). The journeys of this package build on each other (a practice registered in
  the first is found by the visitor in the last), so the tables are emptied when the package
  ends, not after each test.
- Broker: Redis with TEST_BROKER_URL; otherwise the app's own development broker, kombu's
  SQLAlchemy transport on a SQLite file, which the web processes and the worker share. Either
  way the tasks travel on a queue of their own, so that no other worker of the run takes them.
- E-mail: the run's SMTP server (tests/mailserver.py); the journeys open the links they receive.
- Screenshots of each step at desktop (1280×800) and phone (390×844) widths go to
  artifacts/screenshots/<journey>/<nn>-<step>-<width>.png; the servers' logs to artifacts/logs/.
- axe-core runs on every page shot; a serious or critical violation fails the step, and so
  does a page wider than the phone's screen (something sticking out makes it scroll sideways).

Chromium must be at /usr/bin/chromium (Debian's `chromium` package; CHROMIUM names another
path): without it these tests fail, they are never skipped.
"""

import contextlib
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from babel.support import Translations
from playwright.sync_api import Browser, Page, expect, sync_playwright

from exchange.extensions import db
from tests.conftest import ROOT, _empty_tables, _free_port, worker_environment

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
LOGS = ARTIFACTS / "logs"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
QUEUE = "browser-journeys"
# What fails a page: axe-core's two highest impacts.
BLOCKING_IMPACTS = ("serious", "critical")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "browser: a journey in Chromium against gunicorn, a Celery worker process and an SMTP "
        "server (tests/browser/)",
    )


# The servers ------------------------------------------------------------------------------------


class Service:
    """A process of the deployment (bin/web, bin/worker) in a process group of its own, its
    output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]):
        self.name = name
        self.log_path = LOGS / f"{name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def check(self) -> None:
        if not self.running:
            raise AssertionError(
                f"{self.name} stopped (exit {self.process.returncode}); its log ends with:\n"
                f"{self.log()}"
            )

    def stop(self) -> None:
        """A warm shutdown: SIGTERM to the main process, which stops its own workers (a signal
        to the whole group would leave the Celery main process waiting for the pool it lost);
        whatever lingers is killed."""
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


class LiveServer:
    def __init__(self, url: str, web: Service, worker: Service):
        self.url = url
        self.web = web
        self.worker = worker

    def check(self) -> None:
        self.web.check()
        self.worker.check()


def _wait(predicate, timeout: float, what: str, services: list[Service]) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        for service in services:
            service.check()
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {s.name}\n{s.log()}" for s in services)
            raise AssertionError(f"{what} did not happen within {timeout:g} s\n{logs}")
        time.sleep(0.1)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own server)
            return response.status == 200
    except urllib.error.HTTPError as error:  # 503 while the broker is not ready
        error.close()
        return False
    except OSError:
        return False


@pytest.fixture(scope="package")
def live_server(app, settings, mail_server, tmp_path_factory):
    """gunicorn and a Celery worker, started by the deployment's own scripts (bin/web,
    bin/worker) on the test database, for the whole package; the tables are emptied after."""
    work = tmp_path_factory.mktemp("browser")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    broker = os.environ.get("TEST_BROKER_URL")
    celery = {"task_default_queue": QUEUE}
    if broker:
        celery["broker_url"] = broker
    else:
        # Polled once a second (kombu's SQLAlchemy transport hands any transport option to
        # create_engine, so the interval cannot be shortened).
        celery["broker_url"] = f"sqla+sqlite:///{work / 'broker.sqlite'}"
    env = worker_environment(settings, {"CELERY": celery})
    env.update(
        BASE_URL=url,
        INSTANCE_PATH=str(work / "instance"),
        ATTACHMENT_DIR=settings["ATTACHMENT_DIR"],
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        WORKER_CONCURRENCY="2",
        LOG_LEVEL="INFO",  # the worker says "ready" at this level
    )
    mail_server.reset()
    web = Service("web", ["sh", str(ROOT / "bin" / "web")], env)
    worker = Service("worker", ["sh", str(ROOT / "bin" / "worker")], env)
    try:
        _wait(lambda: _answers(f"{url}/healthz"), 60, "gunicorn answering /healthz", [web])
        _wait(lambda: " ready." in worker.log_path.read_text(), 60, "the worker", [worker])
        yield LiveServer(url, web, worker)
    finally:
        web.stop()
        worker.stop()
        with app.app_context():
            db.session.remove()
            _empty_tables()


@pytest.fixture(autouse=True)
def _context(app):
    """In the app context, as every test; the tables are kept between the journeys (emptied by
    `live_server` at the end of the package)."""
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()


# The browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser():
    expect.set_options(timeout=10_000)  # a shared 2-core machine, two web processes
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Chromium at {CHROMIUM}: install Debian's package "
            "(apt-get install chromium), or set CHROMIUM to its path"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def shots():
    """The screenshot folder, emptied once per run."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    recorder = Shots(SCREENSHOTS)
    TAKEN.append(recorder)
    return recorder


TAKEN: list["Shots"] = []


def pytest_terminal_summary(terminalreporter):
    """Where the screenshots and the servers' logs are, at the end of the run."""
    for recorder in TAKEN:
        terminalreporter.write_line(
            f"browser journeys: {recorder.count} screenshots in {recorder.folder}; "
            f"server logs in {LOGS}"
        )


class Shots:
    def __init__(self, folder: Path):
        self.folder = folder
        self.steps: dict[str, int] = {}
        self.count = 0
        self.axe = Axe()

    def take(self, page: Page, journey: str, step: str, *, check: bool = True) -> None:
        """Screenshots of the page at both widths; nothing may stick out at the phone's; then
        axe-core on it (unless `check` is false: e-mails are not pages of the app)."""
        number = self.steps.get(journey, 0) + 1
        self.steps[journey] = number
        folder = self.folder / journey
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        where = f"{journey}/{number:02d}-{slug}"
        viewport = page.viewport_size
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=folder / f"{number:02d}-{slug}-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        if page.locator(".table-responsive").count():
            # Headless Chromium paints a box that scrolls sideways a moment after a resize;
            # shot at once, its first rows would be missing from the picture.
            page.wait_for_timeout(700)
        page.screenshot(path=folder / f"{number:02d}-{slug}-phone.png", full_page=True)
        overflowing = page.evaluate(OVERFLOWING)
        page.set_viewport_size(viewport)
        self.count += 2
        assert not overflowing, (
            f"wider than a phone's screen ({PHONE['width']} px) on {page.url} ({where}):\n  "
            + "\n  ".join(overflowing)
        )
        if check:
            assert_accessible(self.axe, page, where)


# Whether the page scrolls sideways, and the elements that stick out on the right: those in no
# box that scrolls or clips them (like a .table-responsive), and absolutely positioned ones (such
# as visually hidden text), which escape a box that is not their containing block.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const total = document.documentElement.scrollWidth;
  if (total <= width) return [];
  const inside = (element) => {
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") {
        return box.getBoundingClientRect().right <= width + 1;
      }
    }
    return false;
  };
  const found = [`the page is ${total} px wide`];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    const positioned = ["absolute", "fixed"].includes(getComputedStyle(element).position);
    if (box.width > 0 && box.right > width + 1 && (positioned || !inside(element))) {
      const classes = typeof element.className === "string" ? element.className.trim() : "";
      const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") +
        (classes ? "." + classes.split(/\\s+/).join(".") : "");
      const text = (element.textContent || "").trim().slice(0, 60);
      found.push(`${name} reaches ${Math.round(box.right)} px: ${text}`);
    }
  }
  return found.slice(0, 12);
}"""


def assert_accessible(axe: Axe, page: Page, where: str) -> None:
    results = axe.run(page)
    problems = [
        f"  {violation['id']} ({violation['impact']}) at {node['target']}: "
        f"{violation['help']} — {violation['helpUrl']}"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
        for node in violation["nodes"]
    ]
    assert not problems, (
        f"axe-core: serious or critical violations on {page.url} ({where}):\n" + "\n".join(problems)
    )


# People -----------------------------------------------------------------------------------------


@functools.cache
def _translations(language: str) -> Translations:
    return Translations.load(str(ROOT / "exchange" / "translations"), [language])


def translate(language: str, text: str) -> str:
    """The interface's text in `language`, as the app shows it (English without a catalogue)."""
    return _translations(language).gettext(text)


class Person:
    """Someone at a browser: a context of their own (cookies, language), one tab, and the
    journey their screenshots belong to."""

    def __init__(
        self,
        browser: Browser,
        server: LiveServer,
        shots: Shots,
        journey: str,
        *,
        email: str = "",
        language: str = "en",
        locale: str = "en-GB",
    ):
        self.context = browser.new_context(viewport=DESKTOP, locale=locale, base_url=server.url)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.server = server
        self.shots = shots
        self.journey = journey
        self.email = email
        self.language = language

    def _(self, text: str) -> str:
        return translate(self.language, text)

    @property
    def nav(self):
        """The main navigation in the header."""
        return self.page.get_by_role("navigation", name=self._("Main"))

    def shoot(self, step: str) -> None:
        self.server.check()
        self.shots.take(self.page, self.journey, step)

    def shoot_email(self, step: str, html: str) -> None:
        """The HTML part of an e-mail, as a mail program shows it."""
        page = self.context.new_page()
        try:
            page.set_content(html)
            self.shots.take(page, self.journey, step, check=False)
        finally:
            page.close()

    def close(self) -> None:
        self.context.close()


class People:
    """`people(journey, email=..., language=..., locale=...)` opens a browser context."""

    def __init__(self, browser: Browser, server: LiveServer, shots: Shots):
        self.browser = browser
        self.server = server
        self.shots = shots
        self.opened: list[Person] = []

    def __call__(self, journey: str, **kwargs) -> Person:
        person = Person(self.browser, self.server, self.shots, journey, **kwargs)
        self.opened.append(person)
        return person

    def keep_evidence(self, test_name: str) -> Path:
        """What each person's tab shows (a screenshot and the HTML), after a failure."""
        folder = self.shots.folder / "failures" / test_name
        folder.mkdir(parents=True, exist_ok=True)
        for number, person in enumerate(self.opened, start=1):
            name = f"{number}-{person.journey}"
            with contextlib.suppress(Exception):  # a tab that broke says nothing more
                person.page.screenshot(path=folder / f"{name}.png", full_page=True)
                (folder / f"{name}.html").write_text(person.page.content())
        return folder


@pytest.fixture(scope="package")
def people(browser, live_server, shots):
    crowd = People(browser, live_server, shots)
    yield crowd
    for person in crowd.opened:
        person.close()


@pytest.fixture(autouse=True)
def _evidence_on_failure(request, people):
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(f"\nthe browsers' pages at the failure: {people.keep_evidence(request.node.name)}")


# E-mail -----------------------------------------------------------------------------------------

LINK = re.compile(r"https?://127\.0\.0\.1:\d+/[^\s<>\"')\]]+")


class Inbox:
    def __init__(self, server, live_server: LiveServer):
        self.server = server
        self.live_server = live_server

    def wait_for(self, address: str, subject_contains: str = "", timeout: float = 30):
        """The newest message to `address` whose subject contains `subject_contains`."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.server.to(address) if subject_contains in m.subject]
            if found:
                return found[-1]
            self.live_server.check()
            if time.monotonic() > deadline:
                subjects = [m.subject for m in self.server.to(address)]
                raise AssertionError(
                    f"no e-mail to {address} with {subject_contains!r} in its subject within "
                    f"{timeout:g} s; received: {subjects}\n--- worker\n"
                    f"{self.live_server.worker.log()}"
                )
            time.sleep(0.1)

    @staticmethod
    def link(message, path_contains: str) -> str:
        links = [url for url in LINK.findall(message.text) if path_contains in url]
        assert links, f"no link with {path_contains!r} in:\n{message.text}"
        return links[0]


@pytest.fixture(scope="package")
def inbox(mail_server, live_server):
    return Inbox(mail_server, live_server)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Each test's outcome on its item (`rep_call`), for the journeys told in order."""
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
