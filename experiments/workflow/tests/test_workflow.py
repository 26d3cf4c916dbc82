"""Hosted tasks on the local Prolific over HTTP: the workflow, the queue, stop and pay exactly once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest

from experiments.workflow import services
from experiments.workflow.models import (
    Item,
    PlaceStatus,
    QualificationResult,
    Stage,
    Task,
    TaskStatus,
    WorkerPlace,
)
from experiments.workflow.tests.conftest import SOLO, HttpWorker, demo_study
from hits.hosted import HOSTED_HIT_TYPE
from hits.models import Assignment, Payment
from hits.review.cycle import review_active_hits
from platforms import PlatformError
from platforms.prolific import Prolific
from prolific_emulator import participants as twin

pytestmark = [pytest.mark.django_db(transaction=True)]


def qualify_and_train(worker) -> str:
    worker.take_part()
    worker.consent()
    for _ in range(3):
        worker.answer_question()
    for _ in range(2):
        feedback = worker.answer_question(wrong=True)
        assert "The right answer" in feedback and "Why:" in feedback
    return worker.page()


@pytest.mark.parametrize("published", [SOLO], indirect=True)
def test_a_worker_qualifies_trains_does_tasks_and_is_paid_once_for_them(worker_factory, published):
    worker = worker_factory()
    html = qualify_and_train(worker)
    token = worker.token(html)
    task = worker.current_task()
    seen = []
    while not task.get("finished"):
        seen.append(task["task"])
        task = worker.save_task(task, token)
    assert len(seen) == published.tasks_per_worker == len(set(seen))

    place = WorkerPlace.objects.get()
    assert place.stage == Stage.COMPLETED
    assert list(place.history.values_list("stage", flat=True)) == [
        "intro",
        "qualification",
        "training",
        "tasks",
        "completed",
    ]
    training = place.tasks.filter(kind=Item.Kind.TRAINING)
    assert [t.correct for t in training] == [False, False]
    for saved in place.tasks.filter(kind=Item.Kind.TASK):
        assert list(saved.history.values_list("status", flat=True)) == ["assigned", "started", "saved"]
        assert saved.page_views.get().completed_at and saved.page_views.get().window == "1400x900"
    assert QualificationResult.objects.get().passed

    submission = worker.complete(worker.page())
    # items and the submission are reviewed by parallel threads: the submission is decided in the
    # cycle after its items, which may take a third cycle (beat runs one a minute); never twice
    for _ in range(4):
        review_active_hits()
    assignment = Assignment.objects.get(assignment_id=submission.id)
    assert assignment.decision == "approved"
    bonus = Payment.objects.get(kind=Payment.Kind.BONUS, key__startswith="bonus:hosted-tasks:")
    assert (bonus.amount, bonus.status, bonus.key) == (
        Decimal("0.30"),
        "done",
        f"bonus:hosted-tasks:{place.pk}",
    )
    assert place.tasks.filter(kind=Item.Kind.TASK, paid=True).count() == 6


@pytest.mark.parametrize("published", [SOLO], indirect=True)
def test_a_worker_who_stops_after_three_tasks_is_paid_for_three_once(worker_factory):
    worker = worker_factory()
    token = worker.token(qualify_and_train(worker))
    task = worker.current_task()
    for _ in range(3):
        task = worker.save_task(task, token)
    html = worker.stop(token)
    assert 'id="crowdhr-saved">3<' in html
    place = WorkerPlace.objects.get()
    assert place.stage == Stage.STOPPED
    (stopped,) = place.tasks.filter(status=Task.Status.STOPPED)
    assert list(stopped.history.values_list("status", flat=True)) == ["assigned", "started", "stopped"]
    assert worker.stop(token)  # pressing again changes nothing
    assert PlaceStatus.objects.filter(place=place, stage=Stage.STOPPED).count() == 1

    worker.complete(html)
    for _ in range(3):
        review_active_hits()
    (bonus,) = Payment.objects.filter(kind=Payment.Kind.BONUS, key__startswith="bonus:hosted-tasks:")
    assert (bonus.amount, bonus.status) == (Decimal("0.15"), "done")
    (approval,) = Payment.objects.filter(kind=Payment.Kind.APPROVAL, status="done", amount__gt=0)
    assert approval.amount == Decimal("1.50")
    assert Assignment.objects.exclude(hit__hit_type_id=HOSTED_HIT_TYPE).get().decision == "approved"


def test_a_worker_who_fails_the_test_is_told_kindly_and_not_asked_again(worker_factory, published):
    """crowdhr's own record keeps them out too, also where the platform's exclusion list could not
    be written (the platform down then: Prolific would refuse them itself, see test_platform_ways)."""
    worker = worker_factory()
    worker.take_part()
    worker.consent()
    down = PlatformError("Service unavailable", "ServiceUnavailable", permanent=False)
    with mock.patch.object(Prolific, "add_to_exclusion_list", side_effect=down):
        for _ in range(3):
            html = worker.answer_question(wrong=True)
    assert "we will not ask you to take part again" in html
    assert WorkerPlace.objects.get().stage == Stage.FAILED
    assert not QualificationResult.objects.get().passed

    # the same Prolific participant in a second study of the same test on this account
    second = demo_study(published.experiment.account)
    services.hosted_publish(study=second, by=None)
    again = HttpWorker(worker.site_url, second, http=worker.http)
    hit = second.experiment.outsourcers.get(target=second.experiment.outsourcer_target).hits.get()
    again.pid = worker.pid
    again.submission_id = twin.take_part(hit.hit_id, worker.pid).id
    again.land()
    html = again.consent()
    place = WorkerPlace.objects.get(study=second)
    assert place.stage == Stage.FAILED
    assert not place.tasks.exists()  # never asked the test again
    assert "we will not ask you to take part again" in html


def test_items_get_exactly_the_answers_consensus_needs_and_nobody_sees_one_twice(worker_factory, published):
    token_of = {}
    workers = []
    for _ in range(3):
        worker = worker_factory()
        token_of[id(worker)] = worker.token(qualify_and_train(worker))
        workers.append(worker)
    for worker in workers:
        task = worker.current_task()
        while not task.get("finished"):
            task = worker.save_task(task, token_of[id(worker)])
    saved = Task.objects.filter(kind=Item.Kind.TASK, status=Task.Status.SAVED)
    per_item = {}
    for task in saved:
        per_item[task.item_id] = per_item.get(task.item_id, 0) + 1
    assert set(per_item.values()) == {published.answers_per_item}
    assert len(per_item) == 8  # 3 workers x 6 tasks cover 8 items x 2 answers, 2 left over
    assert WorkerPlace.objects.filter(stage=Stage.COMPLETED).count() == 3
    assert TaskStatus.objects.filter(status="saved", task__kind="task").count() == 16


def test_the_cost_range_shows_the_minimum_and_every_task_done_with_fees(published):
    cost = services.cost_range(published)
    assert cost.slots == services.worker_slots(published) == 4  # 8 items x 2 answers / 6 each, + 1
    assert cost.minimum < cost.maximum
    assert cost.fee_percent == "33.33%"


def test_a_worker_who_left_ends_after_the_assignment_duration_and_frees_the_item(worker_factory, published):
    worker = worker_factory()
    token = worker.token(qualify_and_train(worker))
    worker.save_task(worker.current_task(), token)
    place = WorkerPlace.objects.get()
    assert services.places_left() == 0  # still within the assignment duration
    later = place.started_at + timedelta(seconds=published.experiment.duration_seconds + 1)
    assert services.places_left(now=later) == 1
    place.refresh_from_db()
    assert place.stage == Stage.LEFT
    (timed_out,) = place.tasks.filter(status=Task.Status.TIMED_OUT)
    assert list(timed_out.history.values_list("status", flat=True)) == ["assigned", "started", "timed_out"]
    assert services.pay_owed(place) == Decimal("0.05")  # paid by the same rule if the work is handed in
    assert services.places_left(now=later) == 0
