"""Exactly once, under failure: faults injected into the local MTurk, two review workers at once,
and review workers that die in the middle of paying someone."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from hits import payments, services
from hits.models import Assignment, Payment
from hits.review.cycle import review_active_hits
from platforms import platform_for
from platforms.fees import MTURK_FEES
from workers.models import Achievement

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = 16
ANSWERS = {"AW1": "cat", "AW2": "cat", "AW3": "dog"}  # AW3 is always outvoted


@pytest.fixture
def faults(mturk):
    from mturk_emulator import faults

    yield faults
    faults.clear_faults()


def publish_items(account, count: int) -> list:
    return [
        services.outsourcer_create(
            owner=account.owner,
            account=account,
            task_type="categorical",
            target=f"item-{number}",
            inputs={"text": f"Picture {number}"},
            task_config={"question": "Which animal?", "choices": ["cat", "dog"]},
            settings=services.HitSettings(
                title="Name the animal", description="Choose the animal.", reward=Decimal("0.05")
            ),
        )
        for number in range(count)
    ]


def review_in_parallel(workers: int, cycles: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def review_worker() -> None:
        try:
            for _ in range(cycles):
                review_active_hits()
        except BaseException as error:  # a failing thread must fail the test, not vanish
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=review_worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return errors


def test_two_review_workers_under_faults_decide_and_pay_everything_exactly_once(account, crowd, faults):
    platform = platform_for(account)
    outsourcers = publish_items(account, ITEMS)
    balance_after_posting = platform.account_balance()
    hit_ids = [o.hits.get().hit_id for o in outsourcers]
    for hit_id in hit_ids:
        for worker, value in ANSWERS.items():
            crowd.work(hit_id, worker, {"answer": value})
    faults.set_faults(throttle=0.1, unavailable=0.05, fault=0.05, lose_answer=0.15, seed=7)

    assert review_in_parallel(workers=2, cycles=4) == []
    faults.clear_faults()
    review_active_hits()  # one calm cycle finishes whatever the faults left pending

    stored = Assignment.objects.filter(hit__outsourcer__in=outsourcers)
    assert stored.count() == ITEMS * 3
    assert Counter(stored.values_list("decision", flat=True)) == {"approved": ITEMS * 2, "rejected": ITEMS}
    on_platform = {a.assignment_id: a.status for hit_id in hit_ids for a in platform.list_assignments(hit_id)}
    # rejected work is paid anyway by default: approved on the platform, rejected in crowdhr's scores
    assert on_platform == {a.assignment_id: "Approved" for a in stored}
    assert stored.filter(decision="rejected", paid_despite_rejection=True).count() == ITEMS
    ledger = Payment.objects.filter(kind__in=["approval", "rejection"])
    assert ledger.count() == ITEMS * 3 and set(ledger.values_list("status", flat=True)) == {"done"}

    bonuses = Payment.objects.filter(kind="bonus")
    assert bonuses.count() == Achievement.objects.count() > 0
    assert set(bonuses.values_list("status", flat=True)) == {"done"}
    paid = [b for hit_id in hit_ids for b in platform.list_bonus_payments(hit_id=hit_id)]
    assert sorted((b.worker_id, b.reason) for b in paid) == sorted(
        bonuses.values_list("worker__worker_id", "reason")
    )
    bonus_cost = sum(b.amount + MTURK_FEES.bonus_fee(b.amount) for b in paid)
    # nothing refunded: rejected work is paid anyway (the default policy)
    assert platform.account_balance() == balance_after_posting - bonus_cost
    assert balance_after_posting == Decimal("10000.00") - ITEMS * 3 * MTURK_FEES.assignment_cost(
        Decimal("0.05"), 3
    )


def test_a_bonus_interrupted_after_the_platform_paid_is_finished_without_paying_twice(account, crowd):
    (outsourcer,) = publish_items(account, 1)
    hit = outsourcer.hits.get()
    crowd.work(hit.hit_id, "AW1", {"answer": "cat"})
    review_active_hits()
    assignment = Assignment.objects.get(hit=hit)

    # A review worker wrote the ledger row, claimed it, made the call... and died.
    payment = payments.bonus_row(
        assignment=assignment, amount=Decimal("0.40"), reason="Payoff", key="crash-test", triggered_by="test"
    )
    assert payments._claim(payment)
    payment.refresh_from_db()
    payments._call_platform(payment)
    Payment.objects.filter(pk=payment.pk).update(claimed_at=timezone.now() - timedelta(minutes=5))

    assert payments.settle_pending() == 1
    payment.refresh_from_db()
    assert payment.status == "done"
    assert len(platform_for(account).list_bonus_payments(assignment_id=assignment.assignment_id)) == 1


def test_a_decision_claimed_by_a_worker_that_died_is_finished_by_the_next_cycle(account, crowd):
    (outsourcer,) = publish_items(account, 1)
    hit = outsourcer.hits.get()
    crowd.work(hit.hit_id, "AW1", {"answer": "cat"})
    crowd.work(hit.hit_id, "AW2", {"answer": "cat"})
    review_active_hits()
    # Undo the decisions locally as if the worker had died right after claiming them.
    first = Assignment.objects.filter(hit=hit).first()
    Payment.objects.filter(assignment=first).update(
        status="sending", claimed_at=timezone.now() - timedelta(minutes=5)
    )
    Assignment.objects.filter(pk=first.pk).update(decision="approving")

    review_active_hits()

    first.refresh_from_db()
    assert first.decision == "approved"
    assert Payment.objects.filter(assignment=first).count() == 1


def test_a_payment_the_platform_refuses_is_failed_and_shown_not_retried_forever(account, crowd):
    (outsourcer,) = publish_items(account, 1)
    hit = outsourcer.hits.get()
    assignment_id = crowd.work(hit.hit_id, "AW1", {"answer": "cat"})
    review_active_hits()
    assignment = Assignment.objects.get(assignment_id=assignment_id)

    payment = payments.pay_bonus(
        assignment=assignment,
        amount=Decimal("20000.00"),
        reason="Too much",
        key="too-much",
        triggered_by="test",
    )

    assert payment.status == "failed" and payment.error
    assert payments.settle_pending() == 0
    assert platform_for(account).list_bonus_payments(assignment_id=assignment_id) == []
