"""Crash-proof money: a decision's consequences are durable work finished by whoever comes next, an
"already approved" confirmed by a failing read is a temporary failure, and claims held by a killed
process are free again at once on PostgreSQL (advisory locks) or after their lease on SQLite."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from crowdhr import locks
from hits import followups, payments
from hits.models import HIT, Assignment, FollowUp, Payment
from hits.review import cycle
from hits.review.cycle import review_active_hits
from hits.review.sync import fetch_assignments
from hits.tests.test_reliability import publish_items
from platforms import platform_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def faults(mturk):
    from mturk_emulator import faults

    yield faults
    faults.clear_faults()


def two_agreeing_answers(crowd, account) -> HIT:
    (outsourcer,) = publish_items(account, 1)
    hit = outsourcer.hits.get()
    crowd.work(hit.hit_id, "AW1", {"answer": "cat"})
    crowd.work(hit.hit_id, "AW2", {"answer": "cat"})
    return hit


def in_another_process(claim) -> None:
    """Run `claim` on a connection of its own, then drop the connection as a killed process's is."""

    def run() -> None:
        try:
            claim()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)


def owes_follow_ups(monkeypatch, ran: list[str] | None = None) -> None:
    """Categorical work owes a follow-up after each decision (recorded in `ran`); without one, a
    decision owes none and no FollowUp row is written."""
    monkeypatch.setattr(
        "hits.task_types.Categorical.perform_additional_approval_tasks",
        lambda task, assignment_dict: (ran if ran is not None else []).append(
            assignment_dict["assignment_id"]
        ),
    )


def test_a_lost_approval_confirmed_by_a_failing_read_stays_crowdhrs_approval(
    account, crowd, faults, monkeypatch
):
    hit = two_agreeing_answers(crowd, account)
    owes_follow_ups(monkeypatch)
    # The first approval is performed and its answer lost; the retry hears "already approved", and
    # the GetAssignment that should confirm it fails, through every retry botocore makes.
    faults.fail_next("ApproveAssignment", "lose_answer")
    faults.fail_next("GetAssignment", "unavailable", times=20)

    review_active_hits()

    waiting = Payment.objects.get(kind="approval", status="pending")
    assert Assignment.objects.get(pk=waiting.assignment_id).problem == ""
    faults.clear_faults()
    review_active_hits()

    for assignment in Assignment.objects.filter(hit=hit):
        assert (assignment.decision, assignment.decided_by, assignment.problem) == (
            "approved",
            "consensus",
            "",
        )
        ledger = Payment.objects.get(assignment=assignment, kind="approval")
        assert ledger.status == "done" and ledger.reason == assignment.feedback
        assert ledger.triggered_by == "consensus"
        assert FollowUp.objects.get(assignment=assignment).status == "done"
    on_platform = {a.status for a in platform_for(account).list_assignments(hit.hit_id)}
    assert on_platform == {"Approved"}


def test_a_refusal_recorded_for_an_approval_the_platform_took_is_not_relabelled_as_the_platforms(
    account, crowd
):
    hit = two_agreeing_answers(crowd, account)
    review_active_hits()
    first = Assignment.objects.filter(hit=hit).order_by("pk").first()
    feedback = first.feedback
    # As an older release left it: the approval marked failed and the assignment reset.
    Payment.objects.filter(assignment=first).update(status="failed", error="refused")
    Assignment.objects.filter(pk=first.pk).update(
        decision="undecided", platform_status="Submitted", problem="The platform refused to approve it: x"
    )

    fetch_assignments(hit)

    first.refresh_from_db()
    assert (first.decision, first.decided_by, first.problem) == ("approved", "consensus", "")
    (ledger,) = Payment.objects.filter(assignment=first, kind="approval")
    assert ledger.status == "done" and ledger.reason == feedback
    assert not Payment.objects.filter(reason__startswith="Decided by the platform").exists()


def test_a_follow_up_left_by_a_killed_reviewer_is_run_by_the_next_cycle_once(account, crowd, monkeypatch):
    hit = two_agreeing_answers(crowd, account)
    ran: list[str] = []

    class Killed(BaseException):
        """The process dies here: nothing after this line runs in it."""

    def killed(*args, **kwargs):
        raise Killed

    owes_follow_ups(monkeypatch, ran)
    monkeypatch.setattr("hits.review.decide.followups.run_for", killed)
    with pytest.raises(Killed):
        review_active_hits()
    monkeypatch.setattr("hits.review.decide.followups.run_for", followups.run_for)
    owed = FollowUp.objects.all()  # the approvals' follow-ups, written with their success
    assert [follow_up.status for follow_up in owed] == ["pending", "pending"] and ran == []

    review_active_hits()
    review_active_hits()

    assert sorted(ran) == sorted(Assignment.objects.filter(hit=hit).values_list("assignment_id", flat=True))
    assert set(FollowUp.objects.values_list("status", flat=True)) == {"done"}


def test_a_killed_reviewers_hit_is_reviewed_next_and_its_new_work_stored_meanwhile(account, crowd):
    (outsourcer,) = publish_items(account, 1)
    hit = outsourcer.hits.get()
    in_another_process(lambda: cycle._read_and_lease(hit.pk))  # leased, then the process died
    crowd.work(hit.hit_id, "AW1", {"answer": "cat"})

    reviewed = cycle.handle_hit(hit.pk)

    assert Assignment.objects.filter(hit=hit).count() == 1  # stored either way
    if locks.available():
        assert reviewed  # the dead process's advisory lock went with its connection
    else:
        assert not reviewed  # SQLite: the time-based lease holds until HIT_LEASE has passed
        HIT.objects.filter(pk=hit.pk).update(review_lease_until=timezone.now() - timedelta(seconds=1))
        assert cycle.handle_hit(hit.pk)


def test_a_payment_claimed_by_a_killed_process_is_paid_next_and_only_once(account, crowd):
    hit = two_agreeing_answers(crowd, account)
    review_active_hits()
    assignment = Assignment.objects.filter(hit=hit).first()
    payment = payments.bonus_row(
        assignment=assignment, amount=Decimal("0.30"), reason="Payoff", key="killed", triggered_by="test"
    )

    def claim_and_pay_then_die() -> None:
        held = locks.available() and locks.try_hold("payment", payment.pk)
        assert payments._claim(payment, held=held)
        payment.refresh_from_db()
        payments._call_platform(payment)  # paid on the platform; the process dies before recording it

    in_another_process(claim_and_pay_then_die)
    assert Payment.objects.get(pk=payment.pk).status == "sending"

    settled = payments.settle_pending()

    if not locks.available():  # SQLite: the claim holds until SENDING_LEASE has passed
        assert settled == 0
        Payment.objects.filter(pk=payment.pk).update(claimed_at=timezone.now() - timedelta(minutes=3))
        settled = payments.settle_pending()
    assert settled == 1
    assert Payment.objects.get(pk=payment.pk).status == "done"
    granted = platform_for(account).list_bonus_payments(assignment_id=assignment.assignment_id)
    assert [b.reason for b in granted].count("Payoff") == 1
