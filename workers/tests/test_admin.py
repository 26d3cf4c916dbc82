"""The workers and payments admin, through the test client against the local Mechanical Turk."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from hits.models import Assignment, Payment
from hits.tests.test_admin import answered, confirm_post, make_researcher, messages_of, offline_hit, publish
from platforms import platform_for
from workers.models import Block, Message, Qualification, Worker, WorkerQualification

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = "admin:workers_worker_changelist"


def worker_action(client, action, workers, **extra):
    data = {"action": action, "index": 0, helpers.ACTION_CHECKBOX_NAME: [str(w.pk) for w in workers], **extra}
    return client.post(reverse(WORKERS), data)


@pytest.fixture
def ada(client, researcher):
    client.force_login(researcher)
    return client


@pytest.fixture
def two_workers(account, crowd):
    answered(crowd, publish(account, reward="0.50"), ("AW1", "cat"), ("AW2", "dog"))
    return list(Worker.objects.order_by("worker_id"))


def test_a_researcher_sees_only_workers_who_worked_on_their_hits(ada, researcher, django_user_model):
    mine, theirs = offline_hit(researcher, "a"), offline_hit(make_researcher(django_user_model, "bob"), "b")
    for hit, worker_id in [(mine, "AMINE"), (theirs, "ATHEIRS")]:
        worker = Worker.objects.create(worker_id=worker_id)
        Assignment.objects.create(
            hit=hit, assignment_id=f"A-{worker_id}", worker=worker, platform_status="Submitted"
        )
    text = ada.get(reverse(WORKERS)).content.decode()
    assert "AMINE" in text and "ATHEIRS" not in text
    other = Worker.objects.get(worker_id="ATHEIRS")
    assert ada.get(reverse("admin:workers_worker_change", args=[other.pk])).status_code in {302, 404}


def test_ban_and_unban_from_the_change_list(ada, account, two_workers):
    aw1 = two_workers[0]
    page = worker_action(ada, "ban_workers", [aw1])
    assert "Quality Score" in page.content.decode()
    done = confirm_post(ada, page, account=str(account.pk), reason="Random answers")
    assert "1 banned." in messages_of(done)
    score = WorkerQualification.objects.get(worker=aw1, qualification=Qualification.QUALITY_SCORE)
    assert score.value == 0

    confirm_post(ada, worker_action(ada, "unban_workers", [aw1]), account=str(account.pk))
    score.refresh_from_db()
    assert score.value > 0
    record = ada.get(reverse("admin:workers_worker_change", args=[aw1.pk])).content.decode()
    assert "banned by ada: Random answers" in record and "unbanned by ada" in record


def test_hard_block_warns_then_blocks_on_mturk_and_unblock_lifts_it(ada, account, two_workers):
    aw2 = two_workers[1]
    page = worker_action(ada, "hard_block_workers", [aw2])
    assert "counts against the worker" in page.content.decode()
    confirm_post(ada, page, account=str(account.pk), reason="Spam")
    assert platform_for(account).list_blocked_workers() == {"AW2": "Spam"}
    assert Block.objects.get(worker=aw2).kind == Block.Kind.HARD_BLOCK

    button = reverse("admin:workers_worker_button", args=[aw2.pk, "unblock"])
    confirm_post(ada, ada.post(button), account=str(account.pk))
    assert platform_for(account).list_blocked_workers() == {}
    assert Block.objects.get(worker=aw2).lifted is not None


def test_a_bonus_shows_its_cost_and_a_double_click_pays_once(ada, account, two_workers):
    form = worker_action(ada, "send_bonus", two_workers)
    review = confirm_post(ada, form, account=str(account.pk), amount="0.50", reason="Great work")
    text = review.content.decode()
    assert "$1.20" in text  # 2 x (0.50 + 0.10 fee)
    assert not Payment.objects.filter(kind="bonus").exists(), "the review page pays nothing"

    confirm_post(ada, review)
    confirm_post(ada, review)  # the same page submitted twice
    bonuses = Payment.objects.filter(kind="bonus")
    assert sorted(bonuses.values_list("worker__worker_id", "amount", "status")) == [
        ("AW1", Decimal("0.50"), "done"),
        ("AW2", Decimal("0.50"), "done"),
    ]
    hit_id = Assignment.objects.first().hit.hit_id
    assert len(platform_for(account).list_bonus_payments(hit_id=hit_id)) == 2


def test_messages_keep_mturk_limits(ada, account, two_workers):
    from hits import payments

    # MTurk delivers messages only to workers whose work the requester has approved or rejected.
    for assignment in Assignment.objects.all():
        payments.approve_assignment(assignment, decided_by="test")
    page = worker_action(ada, "send_message", two_workers)
    too_long = confirm_post(ada, page, account=str(account.pk), subject="x" * 201, body="Hello")
    assert "at most 200 characters" in too_long.content.decode()
    assert not Message.objects.exists()

    done = confirm_post(ada, page, account=str(account.pk), subject="New HITs", body="Tomorrow at 9.")
    assert "Message sent to 2 workers." in messages_of(done)
    message = Message.objects.get()
    assert sorted(message.workers.values_list("worker_id", flat=True)) == ["AW1", "AW2"]


def test_the_ledger_totals_per_experiment_and_retries_failed_payments(ada, account, crowd):
    hit = answered(crowd, publish(account, reward="0.50"), ("AW1", "cat"))
    assignment = Assignment.objects.get()
    from hits import payments

    payments.approve_assignment(assignment, decided_by="test")
    assert Payment.objects.get().status == "done"
    Payment.objects.update(status="failed", error="Insufficient funds")

    ledger = ada.get(reverse("admin:hits_payment_changelist") + "?status__exact=failed")
    text = ledger.content.decode()
    assert 'id="payment-totals"' in text and "$0.50" in text and "payment-failed" in text

    page = ada.post(
        reverse("admin:hits_payment_changelist"),
        {
            "action": "retry_failed_payments",
            "index": 0,
            helpers.ACTION_CHECKBOX_NAME: [Payment.objects.get().pk],
        },
    )
    assert "$0.60" in page.content.decode()
    done = confirm_post(ada, page)
    assert "1 payments done." in messages_of(done)
    assert Payment.objects.get().status == "done"
    assert hit.hit_id


def test_worker_csv_counts_only_the_researchers_own_work(ada, researcher, django_user_model):
    mine, theirs = offline_hit(researcher, "a"), offline_hit(make_researcher(django_user_model, "bob"), "b")
    worker = Worker.objects.create(worker_id="ABOTH")
    for number, hit in enumerate([mine, theirs, theirs]):
        Assignment.objects.create(
            hit=hit,
            assignment_id=f"A{number}",
            worker=worker,
            platform_status="Approved",
            decision="approved",
        )
    response = worker_action(ada, "export_csv", [worker])
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "worker_id,platform,first_seen,assignments,approved,rejected"
    assert lines[1].startswith("ABOTH,mturk,") and lines[1].endswith(",1,1,0")
