"""One worker's whole way in headless Chromium: the local MTurk's worker pages, crowdhr, oTree, and back.

Screenshots of each step go to test-artifacts/screenshots/. Skipped when Debian's chromium is not
installed, unless CROWDHR_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from experiments import services
from experiments.models import Participant
from hits.models import Assignment
from hits.review import review_active_hits
from workers.models import Payment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.otree, pytest.mark.browser]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def chromium_page():
    executable = shutil.which("chromium")
    if not executable:
        if os.environ.get("CROWDHR_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed (apt-get install chromium) and CROWDHR_REQUIRE_BROWSER=1")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the test still talks to the database.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"otree-worker-{name}.png"), full_page=True)


def test_a_worker_goes_from_the_marketplace_through_otree_and_back_and_is_paid(
    study, site_url, chromium_page
):
    page = chromium_page
    services.experiment_publish(experiment=study, by="ada")

    page.goto(f"{site_url}/emulator/")
    page.fill('input[name="name"]', "alice")
    page.click("text=Work as this worker")
    page.click(f"text={study.title}")
    task = page.frame_locator("iframe.task")
    task.locator(f"text={study.description}").wait_for()
    shot(page, "1-preview")

    page.click("text=Accept & work")
    task.locator("button.otree-btn-next").wait_for()  # crowdhr sent the worker on into oTree
    shot(page, "2-otree-intro")
    task.locator("button.otree-btn-next").click()
    task.locator('input[name="effort"]').fill("4")
    shot(page, "3-otree-effort")
    task.locator("button.otree-btn-next").click()
    task.locator("#crowdhr-done").click()
    task.locator("#crowdhr-code").wait_for()
    shot(page, "4-crowdhr-done")
    task.locator("#crowdhr-submit").click()
    page.wait_for_url("**/submitted/")
    shot(page, "5-submitted")

    participant = Participant.objects.get(experiment=study)
    assert participant.worker_id == "AALICE"
    visit = participant.visits.get()
    assert "Chrome" in visit.user_agent and visit.screen
    assert participant.redirected_at and participant.completed_at and participant.submitted_at
    review_active_hits()
    assert Assignment.objects.get(worker__worker_id="AALICE").decision == "approved"
    assert Payment.objects.get(kind="bonus").amount == Decimal("0.40")
