"""One worker's whole way in headless Chromium: the local MTurk's worker pages, crowdhr, oTree, and back.

Screenshots of each step go to test-artifacts/screenshots/. Skipped when Debian's chromium is not
installed, unless CROWDHR_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from experiments import services
from experiments.models import Participant
from hits.models import Assignment, Payment
from hits.review.cycle import review_active_hits

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.otree, pytest.mark.browser]


def test_a_worker_goes_from_the_marketplace_through_otree_and_back_and_is_paid(
    study,
    site_url,
    page,
    screenshot,
):
    services.experiment_publish(experiment=study, by=None)

    page.goto(f"{site_url}/emulator/")
    page.fill('input[name="name"]', "alice")
    page.click("text=Work as this worker")
    page.click(f"text={study.title}")
    task = page.frame_locator("iframe.task")
    task.locator(f"text={study.description}").wait_for()
    screenshot(page, "otree-worker-1-preview")

    page.click("text=Accept & work")
    task.locator("button.otree-btn-next").wait_for()  # crowdhr sent the worker on into oTree
    screenshot(page, "otree-worker-2-otree-intro")
    task.locator("button.otree-btn-next").click()
    task.locator('input[name="effort"]').fill("4")
    screenshot(page, "otree-worker-3-otree-effort")
    task.locator("button.otree-btn-next").click()
    task.locator("#crowdhr-done").click()
    task.locator("#crowdhr-code").wait_for()
    screenshot(page, "otree-worker-4-crowdhr-done")
    task.locator("#crowdhr-submit").click()
    page.wait_for_url("**/submitted/")
    screenshot(page, "otree-worker-5-submitted")

    participant = Participant.objects.get(experiment=study)
    assert participant.worker_id == "AALICE"
    visit = participant.visits.get()
    assert "Chrome" in visit.user_agent and visit.screen
    assert participant.redirected_at and participant.completed_at and participant.submitted_at
    review_active_hits()
    assert Assignment.objects.get(worker__worker_id="AALICE").decision == "approved"
    assert Payment.objects.get(kind="bonus").amount == Decimal("0.40")
