"""Fixtures shared by every test: the local Mechanical Turk over real HTTP, and users."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from experiments.testing import otree_server_fixture


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache and empty memos: what one test's pages kept (a study by
    its id, which the next test's database reuses) must not answer for another's."""
    from django.core.cache import cache

    from crowdhr import memo

    cache.clear()
    memo.forget_all()


@pytest.fixture
def emulator_url(live_server) -> str:
    """The requester API of the local Mechanical Turk served by the live test server."""
    return f"{live_server.url}/emulator/mturk/"


@pytest.fixture(scope="session")
def otree_server():
    """A real oTree server running the shipped project (`.url`, `.rest_key`), one per test session."""
    yield from otree_server_fixture()


@pytest.fixture
def researcher(django_user_model):
    """A researcher: staff, not a superuser, in the Researchers group."""
    from crowdhr.researchers import researchers_group

    user = django_user_model.objects.create_user(
        username="ada", password="ada-password-1", email="ada@example.org", is_staff=True
    )
    user.groups.add(researchers_group())
    return user


@pytest.fixture
def mturk(emulator_url, settings) -> str:
    """crowdhr pointed at the local Mechanical Turk served by the live test server.

    The emulator, like MTurk, refuses keys it does not know: every test that gives crowdhr a platform
    account for it registers the key and secret with `mturk_emulator.testing.register_requester`.
    Platform accounts with blank keys sign with the settings' defaults; those are registered here.
    """
    from mturk_emulator.testing import DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, register_requester

    settings.MTURK_EMULATOR_URL = emulator_url
    settings.MTURK_DEFAULT_ACCESS_KEY_ID = DEFAULT_ACCESS_KEY_ID
    settings.MTURK_DEFAULT_SECRET_ACCESS_KEY = DEFAULT_SECRET_ACCESS_KEY
    register_requester(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY)
    return emulator_url


@pytest.fixture
def account(researcher, mturk):
    """The researcher's requester account on the local Mechanical Turk."""
    from mturk_emulator.testing import register_requester
    from platforms.models import PlatformAccount

    register_requester("AKIAADALAB", "ada-secret")
    return PlatformAccount.objects.create(
        owner=researcher,
        name="Ada's lab",
        environment=PlatformAccount.Environment.EMULATOR,
        access_key_id="AKIAADALAB",
        secret_access_key="ada-secret",
    )


class Crowd:
    """Simulated workers on the local Mechanical Turk (its scripted worker API, for tests)."""

    def __init__(self) -> None:
        from mturk_emulator import clock, workers

        self._workers = workers
        self._clock = clock
        self.Refused = workers.WorkRefused

    def work(self, hit_id: str, worker_id: str, answers: dict[str, str]) -> str:
        return self._workers.work(hit_id, worker_id, answers)

    def accept(self, hit_id: str, worker_id: str) -> str:
        return self._workers.accept(hit_id, worker_id)

    def submit(self, assignment_id: str, answers: dict[str, str]) -> None:
        self._workers.submit(assignment_id, answers)

    def return_assignment(self, assignment_id: str) -> None:
        self._workers.return_assignment(assignment_id)

    def age_hit(self, hit_id: str, seconds: float) -> None:
        self._clock.age_hit(hit_id, seconds)

    def age_assignment(self, assignment_id: str, seconds: float) -> None:
        self._clock.age_assignment(assignment_id, seconds)


@pytest.fixture
def crowd(mturk) -> Crowd:
    return Crowd()


# --- real headless Chromium (Debian's package), driven by Playwright ---------------------------
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def chromium():
    """The launched browser, one per test session."""
    executable = shutil.which("chromium")
    if not executable:
        reason = "Chromium is not installed (apt-get install chromium); browser tests need it"
        if os.environ.get("CROWDHR_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and CROWDHR_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test body stay
    # plain synchronous calls. (Subprocesses started by tests never inherit this.)
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser tab (its own cookies) on the live test server."""
    context = chromium.new_context(
        base_url=live_server.url, accept_downloads=True, viewport={"width": 1400, "height": 900}
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


@pytest.fixture
def screenshot():
    """Save a full-page screenshot of a key page under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
