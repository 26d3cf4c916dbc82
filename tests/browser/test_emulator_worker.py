"""A worker in a real browser on the local Mechanical Turk: a HIT posted with boto3 is found in the
marketplace, previewed, accepted, answered in its frame and submitted, and the answers come back
to the requester through ListAssignmentsForHIT."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hits import services
from hits.models import Payment
from hits.review.cycle import review_active_hits
from platforms import platform_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_worker_finds_accepts_answers_and_submits_a_hit_in_the_browser(page, account, screenshot):
    outsourcer = services.outsourcer_create(
        owner=account.owner,
        account=account,
        task_type="categorical",
        target="picture-7",
        inputs={"text": "A small animal that purrs."},
        task_config={"question": "Which animal is described?", "choices": ["cat", "dog", "bird"]},
        settings=services.HitSettings(
            title="Which animal is it?",
            description="Read one sentence and choose the animal.",
            reward=Decimal("0.07"),
            assignments_required=1,
            agreements_required=1,
        ),
    )
    hit_id = outsourcer.hits.get().hit_id

    page.goto("/emulator/")
    page.get_by_placeholder("New worker name").fill("alice")
    page.get_by_role("button", name="Work as this worker").click()
    page.get_by_role("link", name="Which animal is it?").click()
    screenshot(page, "emulator-preview")
    page.get_by_role("button", name="Accept & work").click()

    page.wait_for_load_state("load")  # the task's frame delays the page's load event
    task = page.frame_locator("iframe.task")
    task.get_by_text("Which animal is described?").wait_for()
    task.get_by_label("cat").check()
    task.get_by_label("Comments (optional)").fill("Clear enough.")
    screenshot(page, "emulator-work")
    task.get_by_role("button", name="Submit").click()
    submitted = page.get_by_role("heading", name="Thank you, your work was submitted")
    submitted.wait_for()
    screenshot(page, "emulator-submitted")

    (assignment,) = platform_for(account).list_assignments(hit_id)
    assert assignment.worker_id == "AALICE"
    assert assignment.status == "Submitted"
    assert assignment.answers["answer"] == "cat"
    assert assignment.answers["comments"] == "Clear enough."

    review_active_hits()
    outsourcer.refresh_from_db()
    assert outsourcer.answer == {"answer": "cat"}
    assert Payment.objects.get(assignment__assignment_id=assignment.assignment_id).status == "done"
