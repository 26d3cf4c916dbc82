"""The requester's balance: fees, micro-batch savings, bonuses, refunds of unused work."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from mturk_emulator import clock, workers


def balance(mturk) -> Decimal:
    return Decimal(mturk.get_account_balance()["AvailableBalance"])


def test_a_new_account_starts_with_ten_thousand_dollars(mturk):
    assert mturk.get_account_balance()["AvailableBalance"] == "10000.00"


def test_nine_assignments_pay_20_percent_and_ten_pay_40_percent(mturk, create_hit):
    create_hit(MaxAssignments=9, Reward="0.50")
    assert balance(mturk) == Decimal("10000.00") - 9 * Decimal("0.60")

    create_hit(MaxAssignments=10, Reward="0.50")
    assert balance(mturk) == Decimal("10000.00") - 9 * Decimal("0.60") - 10 * Decimal("0.70")


def test_the_fee_is_at_least_a_cent_per_assignment(mturk, create_hit):
    create_hit(MaxAssignments=5, Reward="0.01")

    assert balance(mturk) == Decimal("10000.00") - 5 * Decimal("0.02")


def test_bonus_costs_amount_plus_20_percent_and_is_listed(mturk, create_hit):
    hit = create_hit(MaxAssignments=1, Reward="1.00")
    assignment_id = workers.work(hit["HITId"], "AWORKER1", {"label": "cat"})
    before = balance(mturk)

    mturk.send_bonus(
        WorkerId="AWORKER1",
        BonusAmount="2.50",
        AssignmentId=assignment_id,
        Reason="Great work",
        UniqueRequestToken="b1",
    )

    assert before - balance(mturk) == Decimal("3.00")
    by_hit = mturk.list_bonus_payments(HITId=hit["HITId"])["BonusPayments"]
    by_assignment = mturk.list_bonus_payments(AssignmentId=assignment_id)["BonusPayments"]
    assert by_hit == by_assignment
    assert [(b["WorkerId"], b["BonusAmount"], b["Reason"]) for b in by_hit] == [
        ("AWORKER1", "2.50", "Great work")
    ]


def test_a_repeated_bonus_token_pays_once(mturk, create_hit):
    hit = create_hit(MaxAssignments=1)
    assignment_id = workers.work(hit["HITId"], "AWORKER1", {"label": "cat"})
    bonus = {"WorkerId": "AWORKER1", "BonusAmount": "1.00", "AssignmentId": assignment_id, "Reason": "Thanks"}
    mturk.send_bonus(UniqueRequestToken="bonus-7", **bonus)
    after_first = balance(mturk)

    with pytest.raises(ClientError) as excinfo:
        mturk.send_bonus(UniqueRequestToken="bonus-7", **bonus)

    assert excinfo.value.response["Error"]["Code"] == "RequestError"
    assert "UniqueRequestToken" in excinfo.value.response["Error"]["Message"]
    assert "already been used" in excinfo.value.response["Error"]["Message"]
    assert balance(mturk) == after_first
    assert len(mturk.list_bonus_payments(AssignmentId=assignment_id)["BonusPayments"]) == 1


def test_bonus_only_to_the_worker_who_did_the_assignment(mturk, other_mturk, create_hit):
    hit = create_hit(MaxAssignments=1)
    assignment_id = workers.work(hit["HITId"], "AWORKER1", {"label": "cat"})

    with pytest.raises(ClientError):
        mturk.send_bonus(WorkerId="AWORKER2", BonusAmount="1.00", AssignmentId=assignment_id, Reason="x")
    with pytest.raises(ClientError):
        other_mturk.send_bonus(
            WorkerId="AWORKER1", BonusAmount="1.00", AssignmentId=assignment_id, Reason="x"
        )
    with pytest.raises(ClientError):
        mturk.send_bonus(WorkerId="AWORKER1", BonusAmount="1.001", AssignmentId=assignment_id, Reason="x")

    assert mturk.list_bonus_payments(HITId=hit["HITId"])["BonusPayments"] == []


def test_unused_assignments_are_refunded_when_the_hit_expires(mturk, create_hit):
    hit = create_hit(MaxAssignments=3, Reward="0.50")
    workers.work(hit["HITId"], "AWORKER1", {"label": "cat"})
    assert balance(mturk) == Decimal("10000.00") - 3 * Decimal("0.60")

    clock.age_hit(hit["HITId"], 3601)

    assert balance(mturk) == Decimal("10000.00") - Decimal("0.60")
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Reviewable"


def test_expiring_early_refunds_and_extending_charges_again(mturk, create_hit):
    hit = create_hit(MaxAssignments=2, Reward="1.00")

    mturk.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=datetime(2020, 1, 1, tzinfo=UTC))
    assert balance(mturk) == Decimal("10000.00")

    mturk.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=datetime(2099, 1, 1, tzinfo=UTC))
    assert balance(mturk) == Decimal("10000.00") - 2 * Decimal("1.20")


def test_rejected_work_is_not_paid(mturk, create_hit):
    hit = create_hit(MaxAssignments=1, Reward="1.00")
    assignment_id = workers.work(hit["HITId"], "AWORKER1", {"label": "cat"})

    mturk.reject_assignment(AssignmentId=assignment_id, RequesterFeedback="Wrong")

    assert balance(mturk) == Decimal("10000.00")


def test_not_enough_money_is_refused(mturk, create_hit):
    with pytest.raises(ClientError) as excinfo:
        create_hit(MaxAssignments=2, Reward="5000.00")

    assert excinfo.value.response["Error"]["Code"] == "RequestError"
    assert "funds" in excinfo.value.response["Error"]["Message"]
    assert balance(mturk) == Decimal("10000.00")
    assert mturk.list_hits()["HITs"] == []
