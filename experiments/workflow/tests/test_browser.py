"""Hosted tasks in real Chromium: qualification, training, tasks, closing the browser and resuming,
failing the test once, stopping after three tasks; and a researcher uploading the demo package,
publishing it on the local MTurk and downloading the results.

Screenshots go to test-artifacts/screenshots/. Skipped when Debian's chromium is not installed,
unless CROWDHR_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal

import pytest

from experiments.workflow.models import HostedStudy, Item, PageView, Stage, Task, WorkerPlace
from experiments.workflow.tests.conftest import DEMO, RIGHT, SOLO
from hits.hosted import HOSTED_HIT_TYPE
from hits.models import HIT, Payment
from hits.review.cycle import review_active_hits
from prolific_emulator import participants as twin
from prolific_emulator.models import Submission

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def arrive(page, study: HostedStudy) -> Submission:
    hit = study.experiment.outsourcers.get(target=study.experiment.outsourcer_target).hits.get()
    submission = twin.take_part(hit.hit_id, twin.new_participant())
    page.goto(twin.study_link(submission))
    return submission


def consent(page) -> None:
    page.check("#crowdhr-consent")
    page.click("#crowdhr-begin")


def answer_question(page, *, wrong: bool = False) -> None:
    review = page.locator(".item em").inner_text()
    given = RIGHT[review]
    if wrong:
        given = "negative" if given == "positive" else "positive"
    page.check(f'input[name="answer"][value="{given}"]')
    page.click("#crowdhr-save")


def do_task(page, *, last: bool = False) -> str:
    """Answer the task on screen; returns its review once the next one (or the finish page) is loaded."""
    page.locator('#crowdhr-task[data-state="ready"]').wait_for()
    task = page.get_attribute("#crowdhr-task", "data-task")
    review = page.locator("#crowdhr-item em").inner_text()
    page.check(f'#crowdhr-item input[name="answer"][value="{RIGHT[review]}"]')
    page.click("#crowdhr-save")
    if last:
        page.locator("#crowdhr-ended").wait_for()
    else:
        page.locator(f'#crowdhr-task[data-state="ready"]:not([data-task="{task}"])').wait_for()
    return review


def qualify_and_train(page, screenshot=None) -> None:
    consent(page)
    for number in range(3):
        answer_question(page)
        if screenshot and number == 0:
            screenshot(page, "hosted-1-qualification")
    for _ in range(2):
        answer_question(page, wrong=True)
        page.locator("#crowdhr-explanation").wait_for()
        assert "Not quite" in page.inner_text("#crowdhr-verdict")
        if screenshot:
            screenshot(page, "hosted-2-training-answer")
        page.click("#crowdhr-next")
    page.locator("#crowdhr-item em").wait_for()


def test_a_worker_qualifies_trains_works_closes_the_browser_and_resumes(
    published, chromium, live_server, screenshot
):
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    submission = arrive(page, published)
    screenshot(page, "hosted-0-intro")
    qualify_and_train(page, screenshot)
    done = [do_task(page) for _ in range(2)]
    screenshot(page, "hosted-3-task")
    open_review = page.locator("#crowdhr-item em").inner_text()
    state = context.storage_state()  # the browser's profile: its cookies survive a restart
    context.close()

    again = chromium.new_context(
        base_url=live_server.url, storage_state=state, viewport={"width": 1024, "height": 700}
    )
    page = again.new_page()
    page.set_default_timeout(15_000)
    page.goto(twin.study_link(Submission.objects.get(pk=submission.id)))
    page.locator("#crowdhr-item em").wait_for()
    assert page.locator("#crowdhr-item em").inner_text() == open_review  # the next unanswered item
    assert "(2 saved)" in page.inner_text("#crowdhr-progress")
    remaining = published.tasks_per_worker - len(done)
    done += [do_task(page, last=n == remaining - 1) for n in range(remaining)]
    page.locator("#crowdhr-complete").wait_for()
    screenshot(page, "hosted-4-finished")
    assert len(done) == len(set(done)) == published.tasks_per_worker
    again.close()

    place = WorkerPlace.objects.get()
    assert place.stage == Stage.COMPLETED
    assert list(place.history.values_list("stage", flat=True)) == [
        "intro",
        "qualification",
        "training",
        "tasks",
        "completed",
    ]
    for task in place.tasks.all():
        assert [h.status for h in task.history.all()][-1] == "saved"
    views = PageView.objects.filter(place=place, completed_at__isnull=False)
    assert {v.window for v in views} == {"1280x800", "1024x700"}
    assert all("Chrome" in v.user_agent and v.screen for v in views)
    assert place.metadata.filter(name="language").exists()


def test_a_worker_who_fails_the_test_is_not_asked_again(published, page, screenshot):
    submission = arrive(page, published)
    consent(page)
    for _ in range(3):
        answer_question(page, wrong=True)
    page.locator("#crowdhr-ended").wait_for()
    assert "will not ask you to take part again" in page.inner_text("#crowdhr-ended")
    screenshot(page, "hosted-5-failed")
    page.goto(twin.study_link(Submission.objects.get(pk=submission.id)))
    assert "will not ask you to take part again" in page.inner_text("#crowdhr-ended")
    place = WorkerPlace.objects.get()
    assert place.stage == Stage.FAILED
    assert place.tasks.filter(kind=Item.Kind.QUALIFICATION).count() == 3  # asked once


@pytest.mark.parametrize("published", [SOLO], indirect=True)
def test_a_worker_who_stops_after_three_tasks_is_paid_for_three_once(published, page, screenshot):
    submission = arrive(page, published)
    qualify_and_train(page)
    for _ in range(3):
        do_task(page)
    page.click("#crowdhr-stop")
    page.locator("#crowdhr-saved").wait_for()
    assert page.inner_text("#crowdhr-saved") == "3"
    screenshot(page, "hosted-6-stopped")
    code = page.get_attribute("#crowdhr-complete", "href").split("cc=")[1]
    assert twin.complete(submission.id, code).status == Submission.AWAITING_REVIEW
    review_active_hits()
    review_active_hits()
    (bonus,) = Payment.objects.filter(kind=Payment.Kind.BONUS)
    assert (bonus.amount, bonus.status) == (Decimal("0.15"), "done")
    place = WorkerPlace.objects.get()
    assert place.stage == Stage.STOPPED
    assert place.tasks.filter(kind=Item.Kind.TASK, paid=True).count() == 3
    assert place.tasks.filter(status=Task.Status.STOPPED).count() == 1


def demo_zip(**manifest_changes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in DEMO.iterdir():
            data = path.read_bytes()
            if path.name == "manifest.json" and manifest_changes:
                manifest = json.loads(data)
                for key, value in manifest_changes.items():
                    if key == "args":
                        manifest["qualification"]["args"] = value
                    else:
                        manifest[key] = value
                data = json.dumps(manifest).encode()
            archive.writestr(f"demo/{path.name}", data)
    return buffer.getvalue()


def upload(page, data: bytes, name: str = "demo.zip") -> None:
    page.goto("/admin/workflow/hostedstudy/add/")
    page.set_input_files(
        'input[name="package"]', files=[{"name": name, "mimeType": "application/zip", "buffer": data}]
    )
    page.click('input[type="submit"]')


def test_a_researcher_uploads_the_demo_publishes_on_mturk_and_downloads_results(
    researcher, account, site_url, page, crowd, screenshot
):
    page.goto("/admin/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "ada-password-1")
    page.click('input[type="submit"]')

    upload(page, b"not a zip")
    assert "not a zip file" in page.inner_text(".errorlist")
    upload(page, demo_zip(args={"pass_mark": 2}))
    assert "pass_mark" in page.inner_text(".errorlist")
    screenshot(page, "hosted-admin-1-invalid-argument")
    upload(page, demo_zip())
    page.locator("text=Created").wait_for()
    study = HostedStudy.objects.get()

    page.fill('textarea[name="qualification_args"]', '{"pass_mark": "high"}')
    page.click('input[name="_continue"]')
    assert "pass_mark" in page.inner_text(".errorlist")

    page.goto(f"/admin/workflow/hostedstudy/{study.pk}/change/")
    page.click("text=Publish")
    body = page.inner_text("body")
    assert "Effective hourly wage" in body and "every task done" in body and "20%" in body
    screenshot(page, "hosted-admin-2-publish")
    page.click('input[type="submit"], button[type="submit"] >> nth=-1')
    page.locator("text=Published").first.wait_for()
    hits = HIT.objects.filter(outsourcer__experiment=study.experiment).exclude(hit_type_id=HOSTED_HIT_TYPE)
    assert (
        HIT.objects.filter(outsourcer__experiment=study.experiment, hit_type_id=HOSTED_HIT_TYPE).count() == 8
    )
    assert hits.count() == 4 and {h.max_assignments for h in hits} == {1}  # one HIT per worker slot

    # a worker on the local MTurk follows the HIT into the workflow and does two tasks
    hit = hits.first()
    assignment_id = crowd.accept(hit.hit_id, "AWORKER1")
    page.goto(
        f"/study/{study.experiment_id}/hosted/?assignmentId={assignment_id}&hitId={hit.hit_id}"
        f"&workerId=AWORKER1&turkSubmitTo={site_url}/emulator"
    )
    qualify_and_train(page)
    do_task(page)
    do_task(page)

    page.goto(f"/admin/workflow/hostedstudy/{study.pk}/change/")
    with page.expect_download() as download:
        page.click("text=Results CSV")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    tasks = [row for row in rows if row["kind"] == "task"]
    assert len(tasks) == 2
    assert all(row["user_agent"] and row["screen"] and row["window"] and row["seconds"] for row in tasks)
    assert {"review", "answer", "saved_at", "started_at"} <= set(rows[0])
