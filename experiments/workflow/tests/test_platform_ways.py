"""Hosted tasks against both local platforms: a failed test recorded on the platform, finishing on
MTurk (the submit back to MTurk, then review approves and pays), workers who leave paid exactly
once, and consensus per item through the normal review."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from unittest import mock
from urllib.parse import urlencode

import pytest

from experiments.workflow import services, tasks
from experiments.workflow.models import QualificationResult, Stage, WorkerPlace
from experiments.workflow.tests.conftest import SOLO, HttpWorker, demo_study, find
from hits.hosted import HOSTED_HIT_TYPE
from hits.models import HIT, Assignment, Payment
from hits.review.cycle import review_active_hits
from platforms import PlatformError
from platforms.prolific import Prolific
from workers.models import WorkerQualification

pytestmark = [pytest.mark.django_db(transaction=True)]


def study_hits(study):
    return HIT.objects.filter(outsourcer__experiment=study.experiment).exclude(hit_type_id=HOSTED_HIT_TYPE)


@dataclass
class MTurkWorker(HttpWorker):
    """A worker of the local MTurk on crowdhr's hosted pages (the frame's requests, over HTTP)."""

    worker_id: str = ""
    assignment_id: str = ""
    hit_id: str = ""

    def take_part(self, crowd=None) -> None:  # type: ignore[override]
        for hit in study_hits(self.study).order_by("batch_number"):
            try:
                self.assignment_id = crowd.accept(hit.hit_id, self.worker_id)
            except crowd.Refused:
                continue
            self.hit_id = hit.hit_id
            break
        else:
            raise crowd.Refused(f"{self.worker_id} can accept none of the study's HITs.")
        params = {
            "assignmentId": self.assignment_id,
            "hitId": self.hit_id,
            "workerId": self.worker_id,
            "turkSubmitTo": f"{self.site_url}/emulator",
        }
        response = self.http.get(self.url(f"?{urlencode(params)}"), timeout=10)
        assert response.status_code == 200, response.text[:2000]

    def submit_to_mturk(self, html: str):
        action = find(r'<form method="post" action="([^"]+)"', html)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
        assert action == f"{self.site_url}/emulator/mturk/externalSubmit"
        return self.http.post(action, data=fields, timeout=10)


def walk_in(worker, *, crowd=None, wrong_test: bool = False) -> str:
    worker.take_part(crowd) if crowd is not None else worker.take_part()
    worker.consent()
    for _ in range(3):
        html = worker.answer_question(wrong=wrong_test)
    if wrong_test:
        return html
    for _ in range(2):
        worker.answer_question()
    return worker.page()


def do_tasks(worker, token: str, count: int | None = None, wrong: bool = False) -> None:
    task = worker.current_task()
    done = 0
    while not task.get("finished") and (count is None or done < count):
        answer = None
        if wrong:
            right = worker_right(task)
            answer = "negative" if right == "positive" else "positive"
        task = worker.save_task(task, token, answer)
        done += 1


def worker_right(task: dict) -> str:
    from experiments.workflow.tests.conftest import RIGHT, review_of

    return RIGHT[review_of(task["html"])]


# --- 2. a failed test is recorded on the platform -------------------------------------------------
def test_on_prolific_a_failed_test_puts_the_participant_in_the_group_later_studies_block(
    worker_factory, published
):
    from prolific_emulator import participants as twin
    from prolific_emulator.models import ParticipantGroup

    worker = worker_factory()
    walk_in(worker, wrong_test=True)
    result = QualificationResult.objects.get()
    assert not result.passed and result.recorded_at is not None
    group = ParticipantGroup.objects.get(name=services.exclusion_list_name("review-sentiment-v1"))
    published.refresh_from_db()  # the study's list, set up at publishing
    assert published.exclusion_list_id == group.pk

    second = demo_study(published.experiment.account)
    services.hosted_publish(study=second, by=None)
    hit = study_hits(second).get()
    with pytest.raises(twin.Refused):  # Prolific does not let them in again
        twin.take_part(hit.hit_id, worker.pid)
    twin.take_part(hit.hit_id, twin.new_participant())  # others still may


def test_a_failure_the_platform_did_not_take_is_recorded_by_the_next_run(worker_factory, published):
    worker = worker_factory()
    down = PlatformError("Service unavailable", "ServiceUnavailable", permanent=False)
    with mock.patch.object(Prolific, "add_to_exclusion_list", side_effect=down):
        walk_in(worker, wrong_test=True)
    assert QualificationResult.objects.get().recorded_at is None
    assert tasks.end_places_left()["failed_tests_recorded"] == 1
    assert QualificationResult.objects.get().recorded_at is not None
    assert tasks.end_places_left()["failed_tests_recorded"] == 0  # once


@pytest.fixture
def mturk_study(account, site_url):
    """The demo package on the local MTurk, one answer deciding each item."""
    study = demo_study(account, **SOLO)
    services.hosted_publish(study=study, by=None)
    study.refresh_from_db()
    return study


def test_on_mturk_a_failed_test_is_a_qualification_new_hits_require_not_to_exist(
    mturk_study, site_url, crowd
):
    from mturk_emulator.models import QualificationType

    worker = MTurkWorker(site_url, mturk_study, worker_id="AFAILER1")
    html = walk_in(worker, crowd=crowd, wrong_test=True)
    assert "will not ask you to take part again" in html
    qtype = QualificationType.objects.get(name=services.exclusion_list_name("review-sentiment-v1"))
    assert mturk_study.exclusion_list_id == qtype.qualification_type_id
    assert qtype.scores.filter(worker_id="AFAILER1").exists()
    for hit in study_hits(mturk_study):
        assert {"QualificationTypeId": qtype.qualification_type_id, "Comparator": "DoesNotExist"} in [
            {k: r[k] for k in ("QualificationTypeId", "Comparator")} for r in hit.qualification_requirements
        ]
    other = study_hits(mturk_study).exclude(hit_id=worker.hit_id).first()
    with pytest.raises(crowd.Refused):
        crowd.accept(other.hit_id, "AFAILER1")
    assert crowd.accept(other.hit_id, "AOTHER01")


# --- 4. finishing on MTurk: submit back to MTurk, review approves and pays -------------------------
def test_on_mturk_a_worker_finishes_submits_to_mturk_and_review_approves_and_pays_once(
    mturk_study, site_url, crowd
):
    worker = MTurkWorker(site_url, mturk_study, worker_id="AWORKER1")
    token = worker.token(walk_in(worker, crowd=crowd))
    do_tasks(worker, token)
    html = worker.page()
    assert 'id="crowdhr-submit"' in html
    answer = worker.submit_to_mturk(html)
    assert answer.status_code == 200, answer.text[:500]
    for _ in range(3):
        review_active_hits()
    assignment = Assignment.objects.get(assignment_id=worker.assignment_id)
    assert (assignment.platform_status, assignment.decision) == ("Approved", "approved")
    place = WorkerPlace.objects.get()
    assert place.stage == Stage.COMPLETED
    (bonus,) = Payment.objects.filter(kind=Payment.Kind.BONUS, key__startswith="bonus:hosted-tasks:")
    assert (bonus.amount, bonus.status, bonus.assignment_id) == (Decimal("0.30"), "done", assignment.pk)
    # each answer was decided on its item's hosted HIT, and the items have their agreed answers
    items = Assignment.objects.filter(hit__hit_type_id=HOSTED_HIT_TYPE)
    assert items.count() == 6 and set(items.values_list("decision", flat=True)) == {"approved"}
    from mturk_emulator.models import Assignment as TwinAssignment

    twin = TwinAssignment.objects.get(assignment_id=worker.assignment_id)
    assert twin.status == "Approved" and Decimal("0.30") in [b.amount for b in twin.bonuses.all()]


# --- 3. a worker who leaves is paid for their completed tasks, once ----------------------------------
def after_the_duration(study) -> object:
    place = WorkerPlace.objects.get(study=study)
    seconds = study.experiment.duration_seconds
    return place.started_at + timedelta(seconds=seconds) + services.SETTLE_GRACE + timedelta(seconds=1)


def test_on_mturk_a_worker_who_leaves_without_another_assignment_is_flagged_with_the_amount(
    mturk_study, site_url, crowd
):
    worker = MTurkWorker(site_url, mturk_study, worker_id="ALEAVER1")
    do_tasks(worker, worker.token(walk_in(worker, crowd=crowd)), count=2)
    later = after_the_duration(mturk_study)
    assert services.places_left(now=later) == 1
    assert services.places_settle(now=later) == 1
    place = WorkerPlace.objects.get()
    assert place.stage == Stage.LEFT and "$0.10 owed for 2 task(s)" in place.pay_problem
    assert not Payment.objects.filter(kind=Payment.Kind.BONUS).exists()
    assert services.places_settle(now=later) == 0  # flagged once
    # the answers still count: each is an assignment of its item's hosted HIT
    assert (
        Assignment.objects.filter(hit__hit_type_id=HOSTED_HIT_TYPE, worker__worker_id="ALEAVER1").count() == 2
    )


def test_on_mturk_a_worker_who_leaves_is_paid_on_their_latest_assignment_once(mturk_study, site_url, crowd):
    # the worker finished the study once before (another place: a second worker id is not needed,
    # their submitted assignment of another HIT of this account is what counts)
    first = MTurkWorker(site_url, mturk_study, worker_id="AREGULAR")
    do_tasks(first, first.token(walk_in(first, crowd=crowd)), count=1)
    services.place_stop(place=WorkerPlace.objects.get())
    first.submit_to_mturk(first.page())
    for _ in range(3):
        review_active_hits()
    earlier = Assignment.objects.get(assignment_id=first.assignment_id)
    assert earlier.decision == "approved"

    second = demo_study(mturk_study.experiment.account, **SOLO)
    services.hosted_publish(study=second, by=None)
    # the same test passed before: straight to training
    worker = MTurkWorker(site_url, second, worker_id="AREGULAR")
    worker.take_part(crowd)
    worker.consent()
    for _ in range(2):
        worker.answer_question()
    do_tasks(worker, worker.token(worker.page()), count=3)
    later = after_the_duration(second)
    services.places_left(study=second, now=later)
    assert services.places_settle(study=second, now=later) == 1
    assert services.places_settle(study=second, now=later) == 0
    place = WorkerPlace.objects.get(study=second)
    bonus = Payment.objects.get(kind=Payment.Kind.BONUS, key=f"bonus:hosted-tasks:{place.pk}")
    assert (bonus.amount, bonus.status, bonus.assignment_id) == (Decimal("0.15"), "done", earlier.pk)
    assert place.tasks.filter(paid=True).count() == 3 and place.pay_problem == ""
    # the platform shows one bonus for it
    from mturk_emulator.models import Assignment as TwinAssignment

    twin = TwinAssignment.objects.get(assignment_id=first.assignment_id)
    assert sorted(b.amount for b in twin.bonuses.all()) == [Decimal("0.05"), Decimal("0.15")]


def test_on_prolific_a_participant_who_returns_is_paid_on_their_latest_submission(worker_factory, published):
    from prolific_emulator import participants as twin

    worker = worker_factory()
    do_tasks(worker, worker.token(walk_in(worker)), count=2)
    twin.return_submission(worker.submission_id)
    later = after_the_duration(published)
    services.places_left(now=later)
    assert services.places_settle(now=later) == 1  # no other submission: flagged
    assert "$0.10 owed" in WorkerPlace.objects.get().pay_problem


# --- 5. consensus per item through the normal review ------------------------------------------------
@pytest.mark.parametrize(
    "published", [{"answers_per_item": 3, "agreements_required": 2, "tasks_per_worker": 8}], indirect=True
)
def test_each_answer_is_decided_by_its_items_consensus_and_a_worker_by_half_agreeing(
    worker_factory, published
):
    workers = [worker_factory() for _ in range(3)]
    for number, worker in enumerate(workers):
        token = worker.token(walk_in(worker))
        do_tasks(worker, token, wrong=number == 2)
        worker.complete(worker.page())
    for _ in range(4):
        review_active_hits()
    decisions = {
        a.worker.worker_id: a.decision
        for a in Assignment.objects.exclude(hit__hit_type_id=HOSTED_HIT_TYPE).select_related("worker")
    }
    assert sorted(decisions.values()) == ["approved", "approved", "rejected"]
    wrong = workers[2].pid
    assert decisions[wrong] == "rejected"
    items = Assignment.objects.filter(hit__hit_type_id=HOSTED_HIT_TYPE)
    assert items.count() == 24
    assert set(items.filter(worker__worker_id=wrong).values_list("decision", flat=True)) == {"rejected"}
    submission = Assignment.objects.exclude(hit__hit_type_id=HOSTED_HIT_TYPE).get(worker__worker_id=wrong)
    assert "0 of 8" in submission.feedback and "the agreed answer was" in submission.feedback
    # the rejected answers lowered the worker's quality score; their tasks are still paid
    scores = WorkerQualification.objects.filter(worker__worker_id=wrong, qualification="quality_score")
    assert scores.exists() and scores.get().value < 100
    task_bonuses = Payment.objects.filter(kind=Payment.Kind.BONUS, key__startswith="bonus:hosted-tasks:")
    assert sorted(task_bonuses.values_list("amount", "status")) == [(Decimal("0.40"), "done")] * 3


# --- 1. the experiment form offers hosted tasks --------------------------------------------------------
def test_the_add_experiment_page_offers_hosted_tasks_and_leads_to_the_package_upload(
    client, researcher, prolific_account
):
    from experiments.models import Experiment

    client.force_login(researcher)
    chooser = client.get("/admin/experiments/experiment/add/")
    assert chooser.status_code == 200 and 'id="kind-hosted"' in chooser.content.decode()
    assert Experiment.Kind.HOSTED in Experiment.Kind.values
    answer = client.get("/admin/experiments/experiment/add/?kind=hosted")
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/workflow/hostedstudy/add/"
    assert client.get(answer.headers["Location"]).status_code == 200
    study = demo_study(prolific_account)
    assert study.experiment.kind == Experiment.Kind.HOSTED
    change = client.get(f"/admin/experiments/experiment/{study.experiment_id}/change/")
    assert change.status_code == 200 and "hosted-tasks study" in change.content.decode()
