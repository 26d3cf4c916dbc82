"""The ledger on Prolific, whose bonus pay call is not idempotent: every participant is paid
exactly once through lost answers, time-outs, errors and processes killed mid-payment, checked
against the local Prolific's own records (its bulk-bonus payments and the workspace balance).

crowdhr's Prolific client talks to the local Prolific over real HTTP on the live server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from hits import payments, services
from hits.models import HIT, Assignment, Outsourcer, Payment, RejectionPolicy
from hits.review.sync import fetch_assignments
from platforms import ExternalPage, platform_for
from platforms.models import PlatformAccount
from platforms.prolific import PROLIFIC_FEES, _client
from prolific_emulator import accounts, bonuses, faults, participants
from prolific_emulator.models import Submission, Workspace
from workers import scoring
from workers.models import WorkerQualification

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "ada-prolific-token"
BONUS = Decimal("1.50")


class Killed(BaseException):
    """The review process dies here (not an Exception: nothing in crowdhr catches it)."""


@pytest.fixture
def account(researcher, live_server, settings) -> Iterator[PlatformAccount]:
    """Ada's account on the local Prolific ($1000), its client waiting at most 1 s per call."""
    settings.PROLIFIC_EMULATOR_URL = f"{live_server.url}/emulator/prolific/api/v1/"
    accounts.ensure_workspace(TOKEN, balance=Decimal("1000.00"))
    account = PlatformAccount.objects.create(
        owner=researcher,
        name="Ada on Prolific",
        platform="prolific",
        environment="emulator",
        secret_access_key=TOKEN,
    )
    platform_for(account).timeout = 1.0
    yield account
    faults.clear_faults()
    _client.cache_clear()


def publish(account: PlatformAccount, places: int) -> HIT:
    outsourcer = services.outsourcer_create(
        owner=account.owner,
        account=account,
        task_type="categorical",
        target="study-1",
        inputs={"text": "A study"},
        task_config={"question": "Which animal?", "choices": ["cat", "dog"]},
        settings=services.HitSettings(
            title="A short study",
            description="Answer a few questions.",
            reward=Decimal("1.00"),
            duration_seconds=600,
            assignments_required=places,
            agreements_required=1,
        ),
        destination=ExternalPage("https://crowdhr.example.org/study/1/"),
    )
    (hit,) = outsourcer.hits.all()  # one study with every place: no micro-batches on Prolific
    return hit


def participants_complete(hit: HIT, count: int) -> list[Assignment]:
    """`count` participants take part and arrive at the completion URL with the study's code."""
    platform = platform_for(hit.outsourcer.account)
    study = platform.get_hit(hit.hit_id)
    code = study.completion_code
    assert platform.completion_url(study).endswith(f"/emulator/prolific/submissions/complete?cc={code}")
    for _ in range(count):
        submission = participants.take_part(hit.hit_id, participants.new_participant())
        participants.complete(submission, code)
    assert fetch_assignments(hit) == count
    return list(Assignment.objects.filter(hit=hit).select_related("worker").order_by("pk"))


def balance() -> int:
    return Workspace.objects.get(token=TOKEN).balance


def bonus(assignment: Assignment, key: str, amount: Decimal = BONUS) -> Payment:
    return payments.pay_bonus(
        assignment=assignment, amount=amount, reason="Your payoff in the study", key=key, triggered_by="test"
    )


def next_process_after(*, lease: bool = True, window: bool = False) -> int:
    """Run `settle_pending` as the next process would, once the lease (and the settle window) ran out."""
    earlier = timezone.now() - timedelta(minutes=15)
    if lease:
        Payment.objects.filter(status="sending").update(claimed_at=earlier)
    if window:
        Payment.objects.exclude(pay_sent_at=None).exclude(status="done").update(pay_sent_at=earlier)
    return payments.settle_pending()


def wait_for_twin(reference: str) -> None:
    """The twin pays a timed-out call once its deliberate delay ends (not a timing assert)."""
    deadline = time.monotonic() + 15
    while not bonuses.payments(reference) and time.monotonic() < deadline:
        time.sleep(0.1)


def test_every_participant_is_paid_once_through_faults_and_killed_processes(account, monkeypatch):
    hit = publish(account, 12)
    assert hit.max_assignments == 12 and Assignment.objects.count() == 0
    done = participants_complete(hit, 8)
    assert {a.worker.platform for a in done} == {"prolific"}
    before = balance()
    platform = platform_for(account)
    real_pay = platform.pay_bonus_setup

    bonus(done[0], "clean")
    faults.fail_next("bonuses.pay", "lose_answer")  # paid, then the answer is lost
    bonus(done[1], "lost-answer")
    faults.fail_next("bonuses.pay", "timeout", seconds=3)  # the client gives up; the twin pays later
    bonus(done[2], "timeout")
    faults.fail_next("bonuses.pay", "error")  # a 500 before any work: nothing paid
    bonus(done[3], "error")
    faults.fail_next("bonuses.pay", "unavailable")  # a 503: nothing paid
    bonus(done[4], "unavailable")
    faults.fail_next("bonuses.set_up", "lose_answer")  # set up, answer lost: no reference recorded
    bonus(done[5], "lost-set-up")

    def killed_before_paying(payment: Payment) -> None:
        raise Killed

    with monkeypatch.context() as patch:  # dies after the reference is recorded, before paying
        patch.setattr(payments, "_mark_pay_sent", killed_before_paying)
        with pytest.raises(Killed):
            bonus(done[6], "killed-before-pay")

    def pay_then_die(reference: str) -> None:
        real_pay(reference)
        raise Killed

    with monkeypatch.context() as patch:  # dies after paying, before marking the row done
        patch.setattr(platform, "pay_bonus_setup", pay_then_die)
        with pytest.raises(Killed):
            bonus(done[7], "killed-after-pay")

    rows = {row.key.removeprefix("bonus:"): row for row in Payment.objects.filter(kind="bonus")}
    assert rows["clean"].status == "done"
    assert rows["killed-before-pay"].platform_reference and rows["killed-before-pay"].pay_sent_at is None
    assert rows["lost-set-up"].platform_reference == ""  # the lost set-up pays nothing, ever

    # The next process, right away: what was paid is found by reading; nothing is paid blindly.
    wait_for_twin(rows["timeout"].platform_reference)
    next_process_after()
    status = dict(Payment.objects.filter(kind="bonus").values_list("key", "status"))
    assert (
        status["bonus:lost-answer"] == status["bonus:timeout"] == status["bonus:killed-after-pay"] == "done"
    )
    assert status["bonus:killed-before-pay"] == status["bonus:lost-set-up"] == "done"  # never sent: paid now
    assert status["bonus:error"] == status["bonus:unavailable"] == "pending"  # unknown: waiting
    unpaid = [rows["error"], rows["unavailable"]]
    assert [bonuses.payments(row.platform_reference) for row in unpaid] == [[], []]
    assert next_process_after() == 0  # still inside the settle window: still not paid again

    # After the settle window, a read that still shows nothing lets them pay, once.
    assert next_process_after(window=True) == 2
    assert next_process_after(window=True) == 0

    ledger = list(Payment.objects.filter(kind="bonus").select_related("assignment"))
    assert len(ledger) == 8 and {row.status for row in ledger} == {"done"}
    for row in ledger:
        assert [p.amount for p in bonuses.payments(row.platform_reference)] == [150], row.key
        paid = Submission.objects.get(pk=row.assignment.assignment_id).bonuses.values_list(
            "amount", flat=True
        )
        assert list(paid) == [150], row.key
        assert row.fee == PROLIFIC_FEES.bonus_fee(BONUS) == Decimal("0.50")
    assert before - balance() == 8 * (150 + 50)


def test_bonuses_of_one_amount_to_one_participant_are_told_apart_by_count(account):
    hit = publish(account, 3)
    (assignment,) = participants_complete(hit, 1)
    before = balance()

    faults.fail_next("bonuses.pay", "error")  # the first is not paid...
    bonus(assignment, "first")
    faults.fail_next("bonuses.pay", "lose_answer")  # ...the second is, but its answer is lost
    bonus(assignment, "second")
    submission = Submission.objects.get(pk=assignment.assignment_id)
    assert list(submission.bonuses.values_list("amount", flat=True)) == [150]

    next_process_after()  # one payment shows: it accounts for one row, the other keeps waiting
    assert sorted(Payment.objects.values_list("status", flat=True)) == ["done", "pending"]
    next_process_after(window=True)

    assert set(Payment.objects.values_list("status", flat=True)) == {"done"}
    assert list(submission.bonuses.values_list("amount", flat=True)) == [150, 150]
    assert before - balance() == 2 * (150 + 50)


def test_a_bonus_the_platform_refuses_fails_without_paying(account):
    hit = publish(account, 3)
    (assignment,) = participants_complete(hit, 1)

    payment = bonus(assignment, "too-much", amount=Decimal("5000.00"))  # more than the balance

    assert payment.status == "failed" and payment.pay_sent_at is None
    assert bonuses.payments(payment.platform_reference) == []
    assert payments.settle_pending() == 0


def test_decisions_on_prolific_go_through_the_same_ledger(account):
    hit = publish(account, 3)
    first, second = participants_complete(hit, 2)
    Outsourcer.objects.filter(pk=hit.outsourcer_id).update(on_rejection=RejectionPolicy.REJECT)
    second.hit.outsourcer.refresh_from_db()

    assert payments.approve_assignment(first, decided_by="test")
    assert payments.reject_assignment(second, feedback="The attention check was failed.", decided_by="test")

    approved, rejected = (Submission.objects.get(pk=a.assignment_id) for a in (first, second))
    assert (approved.status, rejected.status) == ("APPROVED", "REJECTED")
    assert rejected.rejection_category == "OTHER"
    assert rejected.rejection_message.startswith("The attention check was failed. ")
    assert len(rejected.rejection_message) >= 100
    approval = Payment.objects.get(kind="approval")
    assert (approval.status, approval.fee) == ("done", PROLIFIC_FEES.assignment_fee(Decimal("1.00"), 3))


def test_scores_stay_with_crowdhr_on_a_platform_without_qualifications(account):
    hit = publish(account, 3)
    (assignment,) = participants_complete(hit, 1)
    payments.approve_assignment(assignment, decided_by="test")
    assert WorkerQualification.objects.filter(account=account).exists()

    assert scoring.sync_qualifications() == 0  # nothing is sent to Prolific, nothing fails
    assert not HIT.objects.get(pk=hit.pk).qualification_requirements
