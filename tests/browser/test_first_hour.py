"""A researcher's first hour, in real Chromium, from an empty installation and only through the UI.

The researcher logs in through the login page, adds a platform account and an oTree site in the
admin, adds an experiment, previews and publishes it, watches its progress, downloads its results
and sees every worker paid as the policy says. Workers act on the local platforms' own worker pages
(the local Prolific's participant pages, the local MTurk's marketplace) in their own browser tabs;
review runs in-process between steps, as Celery beat would run it every minute. Every response the
pages get is collected; none may be a 4xx or 5xx. Screenshots: test-artifacts/screenshots/first-hour-*.

Covered: an oTree study on Prolific and on the local MTurk; a batch of every built-in task type
(choice from a list, free text, number, template batch) on the local MTurk; a batch on Prolific
answered on crowdhr's hosted pages; the rejection policies "pay anyway" (the default: the rejected
worker is paid on the platform and their Quality Score drops) and "reject on the platform".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from experiments import hosted
from experiments.models import Experiment
from hits.models import Assignment, Payment
from hits.payments import PAID_ANYWAY_NOTE
from hits.review.cycle import review_active_hits
from prolific_emulator.accounts import ensure_workspace

pytestmark = [pytest.mark.browser, pytest.mark.otree, pytest.mark.django_db(transaction=True)]

PROLIFIC_TOKEN = "first-hour-prolific-token"
MTURK_KEY, MTURK_SECRET = "AKIAFIRSTHOUR", "first-hour-secret"
QUALITY_START = 36  # workers.scoring: +1 per approval, -9 per rejection


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


def fill_hit_settings(page, *, title: str, description: str, reward: str, minutes: str = "10") -> None:
    page.fill("#id_title", title)
    page.fill("#id_description", description)
    page.fill("#id_reward", reward)
    for field, amount, unit in (
        ("duration", minutes, "minutes"),
        ("lifetime", "2", "days"),
        ("auto_approval_delay", "3", "days"),
    ):
        page.fill(f"#id_{field}_seconds_0", amount)
        page.select_option(f"#id_{field}_seconds_1", unit)


def fill_otree_study(page, *, account: str) -> None:
    page.fill("#id_name", "Effort study")
    page.select_option("#id_account", label=account)
    page.select_option("#id_otree_site", label="Lab oTree")
    page.select_option("#id_session_config_name", "effort")
    page.fill("#id_num_participants", "3")
    fill_hit_settings(
        page,
        title="A short decision study",
        description="Choose how much effort to give; about 2 minutes.",
        reward="1.00",
        minutes="5",
    )


def preview_and_publish(page, screenshot, prefix: str) -> None:
    """On the experiment's change page: the preview, then publishing through its confirmation."""
    page.click("#button-preview_button")
    screenshot(page, f"{prefix}-preview")
    page.go_back()
    page.click("#button-publish_button")
    screenshot(page, f"{prefix}-confirm-publish")
    page.click("#confirm-button")
    assert "published" in message(page).lower(), message(page)


def download_results(page, experiment: Experiment) -> list[dict[str, str]]:
    page.goto(f"/admin/experiments/experiment/{experiment.pk}/change/")
    with page.expect_download() as download:
        page.click("#button-results_button")
    return list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))


def progress(page, experiment: Experiment, screenshot, name: str) -> dict[str, int]:
    """The progress page's counts of approved, rejected and bonuses."""
    page.goto(f"/admin/experiments/experiment/{experiment.pk}/change/")
    page.click("#button-progress_button")
    screenshot(page, name)
    return {
        key: int(page.inner_text(f"#p-{key}").strip().split()[0])
        for key in ("approved", "rejected", "bonuses")
    }


def quality_score(page, worker_id: str) -> int:
    """The worker's Quality Score on the researcher's account, as the worker's admin page shows it."""
    page.goto(f"/admin/workers/worker/?q={worker_id}")
    page.get_by_role("link", name=worker_id, exact=True).click()
    return int(page.locator("td.score-quality_score").first.inner_text())


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
    fill_otree_study(page, account="Ada on Prolific (Local Prolific (development))")
    screenshot(page, "first-hour-05-add-otree-study")
    page.click("input[name=_continue]")
    assert "was added successfully" in message(page)
    experiment = Experiment.objects.get()

    preview_and_publish(page, screenshot, "first-hour-06")
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
        worker.get_by_text(f"earned ${effort / 10:.2f}").wait_for()  # oTree's last page, once loaded
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


def add_batch(
    page,
    screenshot,
    shot: str,
    *,
    task_type: str,
    items: Path,
    settings: dict[str, str] | None = None,
    assignments: str = "3",
    agreements: str = "2",
    per_participant: str | None = None,
    on_rejection: str | None = None,
    title: str,
    reward: str = "0.10",
    minutes: str = "10",
) -> Experiment:
    """A batch of questions through the kind chooser; the only account is chosen already."""
    page.goto("/admin/experiments/experiment/add/")
    page.get_by_role("link", name="Batch of questions").first.click()
    page.fill("#id_name", f"{title} ({task_type})")
    page.select_option("#id_task_type", task_type)
    for name, value in (settings or {}).items():
        page.fill(f"#id_{task_type}__{name}", value)
    page.set_input_files("#id_items_file", str(items))
    page.fill("#id_assignments_required", assignments)
    page.fill("#id_agreements_required", agreements)
    if per_participant:
        page.fill("#id_items_per_participant", per_participant)
    if on_rejection:
        page.select_option("#id_on_rejection", on_rejection)
    fill_hit_settings(page, title=title, description="One quick question.", reward=reward, minutes=minutes)
    screenshot(page, f"{shot}-add-batch")
    page.click("input[name=_continue]")
    assert "was added successfully" in message(page)
    return Experiment.objects.get(name=f"{title} ({task_type})")


def mturk_worker(tab, name: str):
    """A worker's browser on the local MTurk's marketplace, signed in as `name` (worker id A<NAME>)."""
    worker = tab()
    worker.goto("/emulator/")
    worker.get_by_placeholder("New worker name").fill(name)
    worker.get_by_role("button", name="Work as this worker").click()
    return worker


def work_a_hit(worker, title: str, answer: Callable, screenshot, shot: str) -> None:
    """Find the HIT on the marketplace, accept it, answer in its frame, submit."""
    worker.get_by_role("link", name=title).first.click()
    worker.get_by_role("button", name="Accept & work").click()
    worker.wait_for_load_state("load")
    task = worker.frame_locator("iframe.task")
    answer(task)
    screenshot(worker, shot)
    task.get_by_role("button", name="Submit").click()
    worker.get_by_role("heading", name="Thank you, your work was submitted").wait_for()


def choose(choice: str) -> Callable:
    def answer(task) -> None:
        task.get_by_label(choice).click()
        assert task.get_by_label(choice).is_checked()

    return answer


def type_answer(text: str) -> Callable:
    def answer(task) -> None:
        task.get_by_label("Your answer").fill(text)

    return answer


def test_a_batch_of_questions_on_the_local_mturk_from_an_empty_installation(
    page, tab, responses, screenshot, world, tmp_path
):
    """Choice from a list, under the default policy "pay anyway"."""
    responses.watch(page)
    log_in(page)
    add_mturk_account(page, screenshot)

    items = tmp_path / "reviews.csv"
    items.write_text("text\nThe soup was cold but the staff were lovely.\n", encoding="utf-8")
    experiment = add_batch(
        page,
        screenshot,
        "first-hour-mturk-02",
        task_type="categorical",
        items=items,
        title="Is this review positive?",
    )
    assert experiment.on_rejection == "pay"  # the default
    preview_and_publish(page, screenshot, "first-hour-mturk-03")

    # three workers on the local MTurk's marketplace: two agree, one does not
    workers = {}
    for name, choice in (("alice", "mixed"), ("bob", "mixed"), ("carol", "positive")):
        workers[name] = mturk_worker(tab, name)
        work_a_hit(
            workers[name],
            "Is this review positive?",
            choose(choice),
            screenshot,
            f"first-hour-mturk-05-work-{name}",
        )

    review_active_hits()
    counts = progress(page, experiment, screenshot, "first-hour-mturk-06-progress")
    assert (counts["approved"], counts["rejected"]) == (2, 1)

    rows = download_results(page, experiment)
    assert len(rows) == 3 and {row["agreed:answer"] for row in rows} == {"mixed"}, rows

    # paid as the policy says: the two who agree approved; the other rejected by crowdhr, told the
    # answer, yet paid on the platform ("pay anyway"), their Quality Score lowered
    decisions = {a.worker.worker_id: a.decision for a in Assignment.objects.select_related("worker")}
    assert decisions == {"AALICE": "approved", "ABOB": "approved", "ACAROL": "rejected"}
    workers["carol"].goto("/emulator/me/")
    screenshot(workers["carol"], "first-hour-mturk-07-rejected-worker-paid-anyway")
    feedback = workers["carol"].inner_text("td.feedback")
    assert "mixed" in feedback and PAID_ANYWAY_NOTE in feedback
    assert workers["carol"].inner_text("#earned-total") == "$0.10"
    workers["alice"].goto("/emulator/me/")
    assert workers["alice"].inner_text("#earned-total") == "$0.10"
    assert quality_score(page, "ACAROL") == QUALITY_START - 9
    screenshot(page, "first-hour-mturk-08-rejected-worker-score")
    assert quality_score(page, "AALICE") == QUALITY_START + 1
    assert responses.failures() == []


#: task type -> (its settings, the item's CSV, the two agreeing answers, the disagreeing one, how to answer)
TASK_TYPES = {
    "free_text": (
        {"question": "Which city is the capital of France?"},
        "text\nName the capital of France.\n",
        ("Paris", "  paris "),
        "London",
        type_answer,
    ),
    "number": (
        {"question": "How many people are in the photo?", "tolerance": "0.5"},
        "text\nA photo of twelve people at a table.\n",
        ("12", "12.4"),
        "30",
        type_answer,
    ),
    "template_batch": (
        {},  # the example template: "Is ${name} a city in ${country}?" yes / no
        "name,country\nLyon,France\n",
        ("yes", "yes"),
        "no",
        choose,
    ),
}


@pytest.mark.parametrize("task_type", list(TASK_TYPES))
def test_a_batch_of_each_other_task_type_on_the_local_mturk_rejected_on_the_platform(
    page, tab, responses, screenshot, world, tmp_path, task_type
):
    """Free text, number and template batches, with the policy "reject on the platform"."""
    settings, csv_text, (agree_1, agree_2), disagree, answering = TASK_TYPES[task_type]
    shot = f"first-hour-mturk-{task_type}"
    responses.watch(page)
    log_in(page)
    add_mturk_account(page, screenshot)
    items = tmp_path / "items.csv"
    items.write_text(csv_text, encoding="utf-8")
    title = f"A quick {task_type.replace('_', ' ')} question"
    experiment = add_batch(
        page,
        screenshot,
        f"{shot}-01",
        task_type=task_type,
        items=items,
        settings=settings,
        on_rejection="reject",
        title=title,
    )
    assert experiment.on_rejection == "reject"
    preview_and_publish(page, screenshot, f"{shot}-02")

    workers = {}
    for name, value in (("alice", agree_1), ("bob", agree_2), ("carol", disagree)):
        workers[name] = mturk_worker(tab, name)
        work_a_hit(workers[name], title, answering(value), screenshot, f"{shot}-03-work-{name}")

    review_active_hits()
    counts = progress(page, experiment, screenshot, f"{shot}-04-progress")
    assert (counts["approved"], counts["rejected"]) == (2, 1)
    rows = download_results(page, experiment)
    assert len(rows) == 3 and len({row["agreed:answer"] for row in rows}) == 1, rows

    # rejected on the platform: not paid, told why; the others paid
    decisions = {a.worker.worker_id: a.decision for a in Assignment.objects.select_related("worker")}
    assert decisions == {"AALICE": "approved", "ABOB": "approved", "ACAROL": "rejected"}
    workers["carol"].goto("/emulator/me/")
    screenshot(workers["carol"], f"{shot}-05-rejected-worker")
    assert "Rejected" in workers["carol"].inner_text("body")
    assert PAID_ANYWAY_NOTE not in workers["carol"].inner_text("td.feedback")
    assert workers["carol"].inner_text("#earned-total") == "$0.00"
    workers["bob"].goto("/emulator/me/")
    assert workers["bob"].inner_text("#earned-total") == "$0.10"
    assert quality_score(page, "ACAROL") == QUALITY_START - 9
    assert responses.failures() == []


def test_an_otree_study_on_the_local_mturk_from_an_empty_installation(
    page, tab, responses, screenshot, world
):
    responses.watch(page)
    log_in(page)
    add_mturk_account(page, screenshot)
    add_otree_site(page, world, screenshot)
    page.goto("/admin/experiments/experiment/add/")
    page.get_by_role("link", name="oTree study").first.click()
    fill_otree_study(page, account="Ada on MTurk (Local Mechanical Turk (development))")
    screenshot(page, "first-hour-mturk-otree-01-add-study")
    page.click("input[name=_continue]")
    assert "was added successfully" in message(page)
    experiment = Experiment.objects.get()
    preview_and_publish(page, screenshot, "first-hour-mturk-otree-02")

    workers = {}
    for name, effort in (("alice", 4), ("bob", 6)):
        worker = workers[name] = mturk_worker(tab, name)
        worker.get_by_role("link", name="A short decision study").first.click()
        worker.get_by_role("button", name="Accept & work").click()
        task = worker.frame_locator("iframe.task")
        task.get_by_text("Each unit earns you $0.10").wait_for()  # crowdhr sent them on into oTree
        screenshot(worker, f"first-hour-mturk-otree-03-intro-{name}")
        task.get_by_role("button", name="Next").click()
        task.locator("input[name=effort]").fill(str(effort))
        task.get_by_role("button", name="Next").click()
        task.locator("#crowdhr-done").click()
        task.locator("#crowdhr-code").wait_for()
        screenshot(worker, f"first-hour-mturk-otree-04-done-{name}")
        task.locator("#crowdhr-submit").click()
        worker.wait_for_url("**/submitted/")

    review_active_hits()
    counts = progress(page, experiment, screenshot, "first-hour-mturk-otree-05-progress")
    assert (counts["approved"], counts["bonuses"]) == (2, 2)
    assert len(download_results(page, experiment)) == 2

    workers["bob"].goto("/emulator/me/")
    screenshot(workers["bob"], "first-hour-mturk-otree-06-worker-earnings")
    assert workers["bob"].inner_text("#earned-total") == "$1.60"  # reward $1.00 + bonus $0.60
    bonuses = sorted(
        Payment.objects.filter(kind=Payment.Kind.BONUS, status="done").values_list("amount", flat=True)
    )
    assert bonuses == [Decimal("0.40"), Decimal("0.60")]
    assert responses.failures() == []


def test_a_batch_on_prolific_answered_on_crowdhrs_pages(page, tab, responses, screenshot, world, tmp_path):
    """A batch on Prolific: one study; participants answer their items on crowdhr's hosted pages."""
    responses.watch(page)
    log_in(page)
    add_prolific_account(page, screenshot)
    items = tmp_path / "reviews.csv"
    items.write_text(
        "text\nThe soup was cold but the staff were lovely.\nThe worst meal of my life.\n", encoding="utf-8"
    )
    experiment = add_batch(
        page,
        screenshot,
        "first-hour-prolific-batch-01",
        task_type="categorical",
        items=items,
        per_participant="2",
        title="How do these reviews feel?",
        reward="1.00",  # Prolific wants at least $8 an hour
        minutes="5",
    )
    preview_and_publish(page, screenshot, "first-hour-prolific-batch-02")

    right = {"The soup was cold": "mixed", "The worst meal": "negative"}
    wrong = {"The soup was cold": "positive", "The worst meal": "positive"}
    workers = []
    for number, answers in enumerate((right, right, wrong), start=1):
        worker = tab()
        workers.append(worker)
        worker.goto("/emulator/prolific/")
        worker.get_by_role("button", name="Be this participant").click()  # blank: a new participant
        worker.get_by_role("button", name="Take part").first.click()
        for _ in range(2):  # crowdhr's own item pages
            worker.locator("#crowdhr-item").wait_for()
            shown = worker.inner_text("#crowdhr-item blockquote")
            choice = next(value for start, value in answers.items() if shown.startswith(start))
            worker.get_by_label(choice).click()
            screenshot(worker, f"first-hour-prolific-batch-03-item-{number}")
            worker.click("#crowdhr-save")
        worker.locator("#crowdhr-code").wait_for()
        screenshot(worker, f"first-hour-prolific-batch-04-done-{number}")
        worker.click("#crowdhr-complete")
        worker.wait_for_load_state()

    for _ in range(3):  # the items' answers decided, then each submission by its items
        review_active_hits()
    counts = progress(page, experiment, screenshot, "first-hour-prolific-batch-05-progress")
    # the two submissions that agree and their four item answers; the other submission and its two
    assert (counts["approved"], counts["rejected"]) == (2 + 4, 1 + 2), counts
    rows = download_results(page, experiment)
    assert {row.get("agreed:answer") for row in rows} >= {"mixed", "negative"}, rows

    # pay anyway (the default): the one who disagrees is paid on Prolific, told the agreed answers
    # in a message, and their Quality Score drops
    workers[2].goto("/emulator/prolific/me/")
    screenshot(workers[2], "first-hour-prolific-batch-06-rejected-participant")
    assert workers[2].inner_text("#earned-total") == "1.00"
    assert "mixed" in workers[2].inner_text("body")  # the message with the agreed answer
    workers[0].goto("/emulator/prolific/me/")
    assert workers[0].inner_text("#earned-total") == "1.00"
    study = hosted.study_hit(experiment)
    rejected = Assignment.objects.select_related("worker").get(hit=study, decision="rejected")
    assert rejected.paid_despite_rejection
    assert quality_score(page, rejected.worker.worker_id) < QUALITY_START
    assert responses.failures() == []


def demo_package(tmp_path: Path) -> Path:
    """The hosted-tasks demo package shipped with crowdhr, zipped as a researcher would upload it."""
    import zipfile

    from experiments.workflow.tests.conftest import DEMO

    package = tmp_path / "demo.zip"
    with zipfile.ZipFile(package, "w") as archive:
        for path in DEMO.iterdir():
            archive.write(path, f"demo/{path.name}")
    return package


def test_hosted_tasks_on_prolific_from_the_kind_chooser(page, tab, responses, screenshot, world, tmp_path):
    """Hosted tasks: chosen on the kind-first add page, the package uploaded, published on Prolific,
    a participant lands on crowdhr's hosted pages (the worker's whole way, qualification to pay, is
    experiments/workflow/tests/test_browser.py's)."""
    from experiments.workflow.models import HostedStudy

    responses.watch(page)
    log_in(page)
    add_prolific_account(page, screenshot)
    page.goto("/admin/experiments/experiment/add/")
    page.click("#kind-hosted")
    page.wait_for_url("**/admin/workflow/hostedstudy/add/")
    page.set_input_files('input[name="package"]', str(demo_package(tmp_path)))
    screenshot(page, "first-hour-hosted-01-upload")
    page.click('input[type="submit"]')
    page.locator("text=Created").wait_for()
    study = HostedStudy.objects.get()
    page.goto(f"/admin/workflow/hostedstudy/{study.pk}/change/")
    page.click("text=Publish")
    screenshot(page, "first-hour-hosted-02-confirm-publish")
    page.click('input[type="submit"], button[type="submit"] >> nth=-1')
    page.locator("text=Published").first.wait_for()
    screenshot(page, "first-hour-hosted-03-published")

    worker = tab()
    worker.goto("/emulator/prolific/")
    worker.get_by_role("button", name="Be this participant").click()
    worker.get_by_role("button", name="Take part").first.click()
    worker.wait_for_load_state()
    screenshot(worker, "first-hour-hosted-04-participant-arrives")
    assert "/hosted/" in worker.url, worker.url
    assert "I have read the instructions and agree to take part." in worker.inner_text("body")
    assert responses.failures() == []
