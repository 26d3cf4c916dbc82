"""Real headless Chromium (Debian's `chromium` package) driven by Playwright's Python API.

Browsers are never downloaded (`playwright install` is not used): Playwright is pointed at the
system's binary. Without it the browser tests are skipped with the reason, unless
CROWDHR_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body
# (fixtures, assertions) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


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
