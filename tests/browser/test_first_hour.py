"""A researcher's first hour, in real Chromium, from an empty installation and only through the UI.

The researcher logs in through the login page, adds a platform account and an oTree site in the
admin, adds an experiment, previews and publishes it, watches its progress, downloads its results
and sees every worker paid as the policy says. Workers act on the local platforms' own worker pages
(the local Prolific's participant pages, the local MTurk's marketplace) in their own browser tabs;
review runs in-process between steps, as Celery beat would run it every minute. Every response the
pages get is collected; none may be a 4xx or 5xx. Screenshots: test-artifacts/screenshots/first-hour-*.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from experiments.models import Experiment
from hits.models import Assignment, Payment
from hits.review.cycle import review_active_hits
from prolific_emulator.accounts import ensure_workspace

pytestmark = [pytest.mark.browser, pytest.mark.otree, pytest.mark.django_db(transaction=True)]

PROLIFIC_TOKEN = "first-hour-prolific-token"
MTURK_KEY, MTURK_SECRET = "AKIAFIRSTHOUR", "first-hour-secret"


class Responses:
    """Every response a tab received: (status, url), checked for 4xx and 5xx at each step."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, str]] = []

    def watch(self, page) -> None:
        page.on("response", lambda response: self.seen.append((response.status, response.url)))

    def failures(self) -> list[tuple[int, str]]:
        return [(status, url) for status, url in self.seen if status >= 400]


@pytest.fixture
def world(live_server, settings, researcher, otree_server):
    """An empty installation with one researcher; the local platforms answer on the live server."""
    settings.SITE_URL = live_server.url
    settings.PROLIFIC_EMULATOR_URL = f"{live_server.url}/emulator/prolific/api/v1/"
    settings.MTURK_EMULATOR_URL = f"{live_server.url}/emulator/mturk/"
    ensure_workspace(PROLIFIC_TOKEN, balance=Decimal("1000.00"))  # the researcher's Prolific workspace
    assert not Experiment.objects.exists()
    return otree_server


@pytest.fixture
def responses() -> Responses:
    return Responses()


@pytest.fixture
def tab(chromium, live_server, responses):
    """Another browser (its own cookies): a worker's."""
    contexts = []

    def open_tab():
        context = chromium.new_context(base_url=live_server.url, viewport={"width": 1200, "height": 900})
        contexts.append(context)
        new = context.new_page()
        new.set_default_timeout(15_000)
        responses.watch(new)
        return new

    yield open_tab
    for context in contexts:
        context.close()


def log_in(page) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "ada-password-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def message(page) -> str:
    """The admin's message after a step, or the form's errors when there is none (a clear failure)."""
    page.wait_for_selector("ul.messagelist, .errornote, ul.errorlist")
    if page.locator("ul.messagelist").count():
        return page.inner_text("ul.messagelist")
    errors = page.locator(".form-row.errors, fieldset .errors, .errornote")
    return "form errors: " + " | ".join(errors.all_inner_texts())


def add_prolific_account(page, screenshot) -> None:
    page.goto("/admin/platforms/platformaccount/add/")
    page.fill("#id_name", "Ada on Prolific")
    page.select_option("#id_platform", "prolific")
    page.select_option("#id_environment", "emulator")
    page.fill("#id_secret_access_key", PROLIFIC_TOKEN)
    screenshot(page, "first-hour-01-add-prolific-account")
    page.click("input[name=_save]")
    assert "was added successfully" in message(page)


def add_otree_site(page, otree_server, screenshot) -> None:
    page.goto("/admin/experiments/otreesite/add/")
    page.fill("#id_name", "Lab oTree")
    page.fill("#id_url", otree_server.url)
    page.fill("#id_rest_key", otree_server.rest_key)
    screenshot(page, "first-hour-02-add-otree-site")
    page.click("input[name=_save]")
    assert "was added successfully" in message(page)


def test_an_otree_study_on_prolific_from_an_empty_installation(page, tab, responses, screenshot, world):
    responses.watch(page)
    log_in(page)
    add_prolific_account(page, screenshot)
    add_otree_site(page, world, screenshot)
    page.goto("/admin/")
    assert "Ada on Prolific" in page.inner_text("#platform-balances")
    screenshot(page, "first-hour-03-index-with-accounts")

    # the experiment, through the kind chooser
    page.goto("/admin/experiments/experiment/add/")
    screenshot(page, "first-hour-04-choose-kind")
    page.get_by_role("link", name="oTree study").first.click()
    page.fill("#id_name", "Effort study")
    page.select_option("#id_account", label="Ada on Prolific (Local Prolific (development))")
    page.select_option("#id_otree_site", label="Lab oTree")
    page.select_option("#id_session_config_name", "effort")
    page.fill("#id_num_participants", "3")
    page.fill("#id_title", "A short decision study")
    page.fill("#id_description", "Choose how much effort to give; about 2 minutes.")
    page.fill("#id_reward", "1.00")
    for field, amount, unit in (
        ("duration", "5", "minutes"),
        ("lifetime", "2", "days"),
        ("auto_approval_delay", "3", "days"),
    ):
        page.fill(f"#id_{field}_seconds_0", amount)
        page.select_option(f"#id_{field}_seconds_1", unit)
    screenshot(page, "first-hour-05-add-otree-study")
    page.click("input[name=_continue]")
    assert "was added successfully" in message(page)
    experiment = Experiment.objects.get()

    page.click("#button-preview_button")
    screenshot(page, "first-hour-06-preview")
    page.go_back()
    page.click("#button-publish_button")
    screenshot(page, "first-hour-07-confirm-publish")
    page.click("#confirm-button")
    assert "published" in message(page).lower(), message(page)
    screenshot(page, "first-hour-08-published")

    # two participants take part on the local Prolific, in their own browsers
    workers = []
    for number, effort in enumerate((3, 7), start=1):
        worker = tab()
        workers.append(worker)
        worker.goto("/emulator/prolific/")
        worker.get_by_role("button", name="Be this participant").click()  # blank: a new participant
        worker.get_by_role("button", name="Take part").first.click()
        worker.get_by_text("Each unit earns you $0.10").wait_for()  # crowdhr's landing sent them into oTree
        screenshot(worker, f"first-hour-09-otree-intro-{number}")
        worker.get_by_role("button", name="Next").click()
        worker.fill("input[name=effort]", str(effort))
        worker.get_by_role("button", name="Next").click()
        assert f"earned ${effort / 10:.2f}" in worker.content()
        screenshot(worker, f"first-hour-10-otree-done-{number}")
        worker.click("#crowdhr-done")
        worker.click("#crowdhr-complete")
        worker.wait_for_load_state()
        screenshot(worker, f"first-hour-11-prolific-completed-{number}")

    # progress while the submissions await review, then review as beat would
    page.goto(f"/admin/experiments/experiment/{experiment.pk}/change/")
    page.click("#button-progress_button")
    screenshot(page, "first-hour-12-progress-submitted")
    review_active_hits()
    page.reload()
    screenshot(page, "first-hour-13-progress-approved")
    assert page.inner_text("#p-approved").strip().startswith("2")
    assert page.inner_text("#p-bonuses").strip().startswith("2")

    # the participant sees the approval, the bonus and what they earned
    workers[1].goto("/emulator/prolific/me/")
    screenshot(workers[1], "first-hour-14-participant-earnings")
    assert "Approved by the researcher." in workers[1].content()
    assert workers[1].inner_text("#earned-total") == "1.70"  # reward $1.00 + bonus $0.70

    # results
    page.goto(f"/admin/experiments/experiment/{experiment.pk}/change/")
    with page.expect_download() as download:
        page.click("#button-results_button")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 2

    # every participant paid as the policy says: approved, the oTree payoff as a bonus, once
    approved = Assignment.objects.filter(decision=Assignment.Decision.APPROVED)
    assert approved.count() == 2
    bonuses = sorted(
        Payment.objects.filter(kind=Payment.Kind.BONUS, status="done").values_list("amount", flat=True)
    )
    assert bonuses == [Decimal("0.30"), Decimal("0.70")]
    assert responses.failures() == []


def add_mturk_account(page, screenshot) -> None:
    from mturk_emulator.testing import register_requester

    register_requester(MTURK_KEY, MTURK_SECRET)  # the researcher's requester account on the local MTurk
    page.goto("/admin/platforms/platformaccount/add/")
    page.fill("#id_name", "Ada on MTurk")
    page.select_option("#id_platform", "mturk")
    page.select_option("#id_environment", "emulator")
    page.fill("#id_access_key_id", MTURK_KEY)
    page.fill("#id_secret_access_key", MTURK_SECRET)
    screenshot(page, "first-hour-mturk-01-add-account")
    page.click("input[name=_save]")
    assert "was added successfully" in message(page)


def test_a_batch_of_questions_on_the_local_mturk_from_an_empty_installation(
    page, tab, responses, screenshot, world, tmp_path
):
    responses.watch(page)
    log_in(page)
    add_mturk_account(page, screenshot)

    items = tmp_path / "reviews.csv"
    items.write_text("text\nThe soup was cold but the staff were lovely.\n", encoding="utf-8")
    page.goto("/admin/experiments/experiment/add/?kind=batch")
    page.fill("#id_name", "Reviews")
    page.select_option("#id_task_type", "categorical")
    page.set_input_files("#id_items_file", str(items))
    page.fill("#id_assignments_required", "3")
    page.fill("#id_agreements_required", "2")
    page.fill("#id_title", "Is this review positive?")
    page.fill("#id_description", "Read one review and say how it feels.")
    page.fill("#id_reward", "0.10")
    for field, amount, unit in (
        ("duration", "10", "minutes"),
        ("lifetime", "2", "days"),
        ("auto_approval_delay", "3", "days"),
    ):
        page.fill(f"#id_{field}_seconds_0", amount)
        page.select_option(f"#id_{field}_seconds_1", unit)
    screenshot(page, "first-hour-mturk-02-add-batch")
    page.click("input[name=_continue]")
    assert "was added successfully" in message(page)
    experiment = Experiment.objects.get()

    page.click("#button-preview_button")
    screenshot(page, "first-hour-mturk-03-preview")
    page.go_back()
    page.click("#button-publish_button")
    screenshot(page, "first-hour-mturk-04-confirm-publish")
    page.click("#confirm-button")
    assert "published" in message(page).lower(), message(page)

    # three workers on the local MTurk's marketplace: two agree, one does not
    workers = {}
    for name, choice in (("alice", "mixed"), ("bob", "mixed"), ("carol", "positive")):
        worker = workers[name] = tab()
        worker.goto("/emulator/")
        worker.get_by_placeholder("New worker name").fill(name)
        worker.get_by_role("button", name="Work as this worker").click()
        worker.get_by_role("link", name="Is this review positive?").first.click()
        worker.get_by_role("button", name="Accept & work").click()
        worker.wait_for_load_state("load")
        task = worker.frame_locator("iframe.task")
        task.get_by_text("The soup was cold").wait_for()
        task.get_by_label(choice).click()
        assert task.get_by_label(choice).is_checked()
        screenshot(worker, f"first-hour-mturk-05-work-{name}")
        task.get_by_role("button", name="Submit").click()
        worker.get_by_role("heading", name="Thank you, your work was submitted").wait_for()

    review_active_hits()
    page.goto(f"/admin/experiments/experiment/{experiment.pk}/change/")
    page.click("#button-progress_button")
    screenshot(page, "first-hour-mturk-06-progress")
    assert page.inner_text("#p-approved").strip().startswith("2")
    assert page.inner_text("#p-rejected").strip().startswith("1")

    page.goto(f"/admin/experiments/experiment/{experiment.pk}/change/")
    with page.expect_download() as download:
        page.click("#button-results_button")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 3 and {row["agreed:answer"] for row in rows} == {"mixed"}, rows

    # paid as the policy says: the two who agree approved, the other rejected and told the answer
    decisions = {a.worker.worker_id: a.decision for a in Assignment.objects.select_related("worker")}
    assert decisions == {"AALICE": "approved", "ABOB": "approved", "ACAROL": "rejected"}
    workers["carol"].goto("/emulator/me/")
    screenshot(workers["carol"], "first-hour-mturk-07-rejected-worker")
    assert "mixed" in workers["carol"].inner_text("td.feedback")
    workers["alice"].goto("/emulator/me/")
    assert workers["alice"].inner_text("#earned-total") == "$0.10"
    assert responses.failures() == []
