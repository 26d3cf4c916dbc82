"""Crash-proof money with real processes: a process holding a claim (a HIT's review lease, a ledger
row being paid, a decision's follow-up) is killed with SIGKILL inside the platform call, and the next
review cycle takes the work over at once, without waiting for any time lease, and pays nothing twice.

The killed process is `manage.py shell -c` running crowdhr's own code against the test database; the
local MTurk (this test's live server) delays the call by fault injection so the kill lands inside
it, and its own records (assignments, bonus payments) are read once the delayed call has also been
answered to nobody. PostgreSQL only: there the claims are session advisory locks that die with the
connection; on SQLite they wait for their time leases (hits/tests/test_crash_recovery.py).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from crowdhr.tests.killing import PlatformCalls, claim_holder, require_postgresql
from hits import payments
from hits.models import HIT, Assignment, FollowUp, Payment
from hits.review.cycle import review_active_hits
from hits.tests.test_reliability import publish_items
from mturk_emulator import models as emulator
from platforms import platform_for

pytestmark = pytest.mark.django_db(transaction=True)

#: how long the local MTurk holds the call the process is killed in (the kill comes at once)
DELAY_MS = 5000


@pytest.fixture
def postgresql():
    require_postgresql()


@pytest.fixture
def faults(mturk, postgresql):
    from mturk_emulator import faults

    yield faults
    faults.clear_faults()


@pytest.fixture
def calls(faults, monkeypatch) -> PlatformCalls:
    return PlatformCalls(monkeypatch)


def two_agreeing_answers(crowd, account) -> HIT:
    (outsourcer,) = publish_items(account, 1)
    hit = outsourcer.hits.get()
    crowd.work(hit.hit_id, "AW1", {"answer": "cat"})
    crowd.work(hit.hit_id, "AW2", {"answer": "cat"})
    return hit


def on_emulator(hit: HIT) -> dict[str, str]:
    return dict(emulator.Assignment.objects.filter(hit__hit_id=hit.hit_id).values_list("worker_id", "status"))


def test_a_reviewer_killed_inside_an_approval_is_taken_over_by_the_next_cycle_at_once(
    account, crowd, faults, calls, tmp_path
):
    hit = two_agreeing_answers(crowd, account)
    faults.set_faults(latency_ms=DELAY_MS, operations=["ApproveAssignment"])
    holder = claim_holder(
        "from hits.review.cycle import review_active_hits; review_active_hits()", log_dir=tmp_path
    )
    try:
        calls.wait_entered("ApproveAssignment", holder)
        holder.kill()
    finally:
        holder.stop()
    faults.clear_faults()
    # both approvals are claimed together; the killed process was inside the first one's call
    claimed = Payment.objects.filter(kind="approval").order_by("pk").first()
    assert claimed is not None
    assert claimed.status == "sending"
    # the HIT's lease was the killed connection's advisory lock: no time lease is left to wait for
    assert HIT.objects.get(pk=hit.pk).review_lease_until is None

    report = review_active_hits()  # the next cycle, in this process: no waiting

    assert report.hits == 1 and not report.errors
    assert set(Payment.objects.filter(kind="approval").values_list("status", flat=True)) == {"done"}
    assert Payment.objects.get(pk=claimed.pk).attempts == 2
    assert sorted(Assignment.objects.filter(hit=hit).values_list("decision", flat=True)) == ["approved"] * 2
    calls.wait_answered("ApproveAssignment")  # the killed process's call, answered to nobody, too
    assert on_emulator(hit) == {"AW1": "Approved", "AW2": "Approved"}
    assert Payment.objects.filter(kind__in=["approval", "rejection"]).count() == 2
    assert review_active_hits().approved == 0


def test_a_bonus_whose_payer_was_killed_inside_the_call_is_paid_by_the_next_cycle_once(
    account, crowd, faults, calls, tmp_path
):
    hit = two_agreeing_answers(crowd, account)
    review_active_hits()
    assignment = Assignment.objects.filter(hit=hit, worker__worker_id="AW1").get()
    bonus = payments.bonus_row(
        assignment=assignment, amount=Decimal("0.30"), reason="Payoff", key="killed", triggered_by="test"
    )
    faults.set_faults(latency_ms=DELAY_MS, operations=["SendBonus"])
    code = f"from hits import payments; from hits.models import Payment; payments.settle(Payment.objects.get(pk={bonus.pk}))"
    holder = claim_holder(code, log_dir=tmp_path)
    try:
        calls.wait_entered("SendBonus", holder)
        holder.kill()
    finally:
        holder.stop()
    faults.clear_faults()
    bonus.refresh_from_db()
    assert bonus.status == "sending" and bonus.claimed_at > timezone.now() - payments.SENDING_LEASE

    review_active_hits()

    bonus.refresh_from_db()
    assert (bonus.status, bonus.attempts) == ("done", 2)
    calls.wait_answered("SendBonus")  # the killed call answered "token already used", to nobody
    paid = emulator.BonusPayment.objects.filter(assignment__assignment_id=assignment.assignment_id)
    assert list(paid.values_list("worker_id", "amount", "reason")) == [("AW1", Decimal("0.30"), "Payoff")]
    granted = platform_for(account).list_bonus_payments(assignment_id=assignment.assignment_id)
    assert [(b.worker_id, b.reason) for b in granted] == [("AW1", "Payoff")]


FOLLOW_UP_BLOCKS = """
import time
from hits import task_types
def blocks(task, assignment_dict):
    time.sleep(600)  # killed in here
task_types.Categorical.perform_additional_approval_tasks = blocks
from hits.review.cycle import review_active_hits
review_active_hits()
"""


def test_a_follow_up_whose_runner_was_killed_is_run_by_the_next_cycle_once(
    account, crowd, postgresql, monkeypatch, tmp_path
):
    hit = two_agreeing_answers(crowd, account)
    holder = claim_holder(FOLLOW_UP_BLOCKS, log_dir=tmp_path)
    try:
        holder.wait_for(
            lambda: FollowUp.objects.filter(status="running").exists(),
            what="the process to run the first approval's follow-up",
        )
        holder.kill()
    finally:
        holder.stop()
    # both approvals' follow-ups are owed together; the killed process was running the first
    owed = FollowUp.objects.order_by("pk").first()
    assert owed is not None
    assert owed.status == "running" and owed.attempts == 1
    ran: list[str] = []
    monkeypatch.setattr(
        "hits.task_types.Categorical.perform_additional_approval_tasks",
        lambda task, assignment_dict: ran.append(assignment_dict["assignment_id"]),
    )

    review_active_hits()

    assert sorted(ran) == sorted(Assignment.objects.filter(hit=hit).values_list("assignment_id", flat=True))
    assert list(FollowUp.objects.values_list("status", "attempts").order_by("pk")) == [
        ("done", 2),
        ("done", 1),
    ]
    review_active_hits()
    assert len(ran) == 2
