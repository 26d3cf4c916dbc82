"""Bonuses: set up pays nothing, ids must have taken part, paying twice pays twice, lost answers paid."""

from __future__ import annotations

import time

import requests

from prolific_emulator import bonuses, faults
from prolific_emulator.tests.conftest import new_pid


def _set_up(researcher, study_id: str, csv: str) -> dict:
    return researcher.ok(
        "POST", "submissions/bonus-payments/", {"study_id": study_id, "csv_bonuses": csv}, 201
    )


def test_setting_up_reports_amount_and_fees_and_pays_nothing(done, researcher):
    study, submission = done
    before = researcher.balance()

    bulk = _set_up(researcher, study["id"], f"{submission.participant_id},1.50\n{submission.id},30\n")

    assert (bulk["amount"], bulk["fees"], bulk["total_amount"]) == (3150, 50 + 1000, 4200)
    assert bulk["study"] == study["id"]
    assert researcher.balance() == before


def test_ids_that_did_not_take_part_are_named(done, researcher):
    study, submission = done
    stranger = new_pid()

    answer = researcher.post(
        "submissions/bonus-payments/",
        {"study_id": study["id"], "csv_bonuses": f"{submission.id},1\n{stranger},1"},
    )

    assert answer.status_code == 400
    assert stranger in answer.json()["error"]["detail"]


def test_malformed_amounts_are_refused(done, researcher):
    study, submission = done
    for csv in (f"{submission.id},abc", f"{submission.id},-1", f"{submission.id},0.001", f"{submission.id}"):
        body = {"study_id": study["id"], "csv_bonuses": csv}
        assert researcher.post("submissions/bonus-payments/", body).status_code == 400, csv


def test_paying_twice_pays_twice(done, researcher):
    study, submission = done
    bulk = _set_up(researcher, study["id"], f"{submission.participant_id},1.50")
    before = researcher.balance()

    researcher.ok("POST", f"bulk-bonus-payments/{bulk['id']}/pay/")
    researcher.ok("POST", f"bulk-bonus-payments/{bulk['id']}/pay/")

    assert before - researcher.balance() == 2 * (150 + 50)
    assert researcher.ok("GET", f"submissions/{submission.id}/")["bonus_payments"] == [150, 150]
    assert [p.pay_call for p in bonuses.payments(bulk["id"])] == [1, 2]


def test_a_lost_answer_after_paying_still_paid(done, researcher):
    study, submission = done
    bulk = _set_up(researcher, study["id"], f"{submission.id},2.00")
    before = researcher.balance()
    faults.fail_next("bonuses.pay", "lose_answer")

    answer = researcher.post(f"bulk-bonus-payments/{bulk['id']}/pay/")

    assert answer.status_code == 500
    assert answer.json()["error"]["status"] == 500
    assert researcher.ok("GET", f"submissions/{submission.id}/")["bonus_payments"] == [200]
    assert before - researcher.balance() == 200 + 67


def test_a_timed_out_pay_call_still_paid(done, researcher):
    study, submission = done
    bulk = _set_up(researcher, study["id"], f"{submission.id},1")
    faults.fail_next("bonuses.pay", "timeout", seconds=1.5)

    try:
        researcher.post(f"bulk-bonus-payments/{bulk['id']}/pay/", timeout=0.5)
    except requests.Timeout:
        pass
    else:
        raise AssertionError("the client did not time out")
    for _ in range(50):
        if researcher.ok("GET", f"submissions/{submission.id}/")["bonus_payments"]:
            break
        time.sleep(0.1)

    assert researcher.ok("GET", f"submissions/{submission.id}/")["bonus_payments"] == [100]


def test_paying_more_than_the_balance_is_refused(done, researcher):
    study, submission = done
    bulk = _set_up(researcher, study["id"], f"{submission.id},600")

    bulk2 = _set_up(researcher, study["id"], f"{submission.id},600")
    researcher.ok("POST", f"bulk-bonus-payments/{bulk['id']}/pay/")  # leaves too little for a second

    assert researcher.post(f"bulk-bonus-payments/{bulk2['id']}/pay/").status_code == 400


def test_another_workspaces_bulk_bonus_is_not_found(done, researcher, other_researcher):
    study, submission = done
    bulk = _set_up(researcher, study["id"], f"{submission.id},1")

    assert other_researcher.post(f"bulk-bonus-payments/{bulk['id']}/pay/").status_code == 404
