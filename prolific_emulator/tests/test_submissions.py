"""A submission's life: taking part, completing, returning, timing out, and the researcher's decisions."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from prolific_emulator import clock, participants
from prolific_emulator.tests.conftest import LONG_REASON, new_pid


def test_taking_part_fills_the_three_placeholders(researcher):
    study = researcher.published_study()
    pid = new_pid()

    submission = participants.take_part(study["id"], pid)
    query = parse_qs(urlsplit(participants.study_link(submission)).query)

    assert query == {"PROLIFIC_PID": [pid], "STUDY_ID": [study["id"]], "SESSION_ID": [submission.id]}
    shown = researcher.ok("GET", f"submissions/{submission.id}/")
    assert (shown["status"], shown["participant_id"], shown["study_id"]) == ("ACTIVE", pid, study["id"])


def test_a_participant_takes_part_once(researcher):
    study = researcher.published_study()
    pid = new_pid()
    participants.take_part(study["id"], pid)

    try:
        participants.take_part(study["id"], pid)
    except participants.Refused:
        pass
    else:
        raise AssertionError("took part twice")


def test_a_manually_reviewed_code_awaits_review(done, researcher):
    _, submission = done

    shown = researcher.ok("GET", f"submissions/{submission.id}/")

    assert (shown["status"], shown["study_code"], shown["is_complete"]) == ("AWAITING REVIEW", "DONE1", True)


def test_an_automatically_approved_code_approves_and_pays(researcher):
    study = researcher.published_study()
    before = researcher.balance()

    submission = participants.complete(participants.take_part(study["id"], new_pid()), "AUTO1")

    assert researcher.ok("GET", f"submissions/{submission.id}/")["status"] == "APPROVED"
    assert before - researcher.balance() == 100 + 33


def test_a_wrong_code_still_awaits_review_showing_the_code(researcher):
    study = researcher.published_study()

    submission = participants.complete(participants.take_part(study["id"], new_pid()), "WRONG")

    shown = researcher.ok("GET", f"submissions/{submission.id}/")
    assert (shown["status"], shown["study_code"]) == ("AWAITING REVIEW", "WRONG")


def test_returning_frees_the_place(researcher):
    study = researcher.published_study(total_available_places=1)
    submission = participants.take_part(study["id"], new_pid())

    participants.return_submission(submission)

    assert researcher.ok("GET", f"submissions/{submission.id}/")["status"] == "RETURNED"
    assert researcher.ok("GET", f"studies/{study['id']}/")["places_taken"] == 0
    participants.take_part(study["id"], new_pid())


def test_an_active_submission_times_out_after_the_maximum_time(researcher):
    study = researcher.published_study(total_available_places=1, maximum_allowed_time=30)
    submission = participants.take_part(study["id"], new_pid())

    clock.age_submission(submission.id, minutes=31)

    assert researcher.ok("GET", f"submissions/{submission.id}/")["status"] == "TIMED-OUT"
    assert researcher.ok("GET", f"studies/{study['id']}/")["places_taken"] == 0


def test_approving_pays_reward_and_fee_once(done, researcher):
    _, submission = done
    before = researcher.balance()
    path = f"submissions/{submission.id}/transition/"

    assert researcher.ok("POST", path, {"action": "APPROVE"})["status"] == "APPROVED"
    assert researcher.ok("POST", path, {"action": "APPROVE"})["status"] == "APPROVED"  # documented: ignored
    assert before - researcher.balance() == 133
    assert (
        researcher.post(
            path, {"action": "REJECT", "rejection_category": "LOW_EFFORT", "message": LONG_REASON}
        ).status_code
        == 400
    )


def test_a_rejection_needs_a_category_and_a_long_message(done, researcher):
    _, submission = done
    path = f"submissions/{submission.id}/transition/"

    no_category = researcher.post(path, {"action": "REJECT", "message": LONG_REASON})
    short = researcher.post(
        path, {"action": "REJECT", "rejection_category": "LOW_EFFORT", "message": "x" * 99}
    )
    rejected = researcher.ok(
        "POST", path, {"action": "REJECT", "rejection_category": "LOW_EFFORT", "message": LONG_REASON}
    )

    assert no_category.status_code == short.status_code == 400
    assert "rejection_category" in no_category.json()["error"]["detail"]
    assert "message" in short.json()["error"]["detail"]
    assert rejected["status"] == "REJECTED"


def test_an_active_submission_cannot_be_approved(researcher):
    study = researcher.published_study()
    submission = participants.take_part(study["id"], new_pid())

    assert (
        researcher.post(f"submissions/{submission.id}/transition/", {"action": "APPROVE"}).status_code == 400
    )


def test_bulk_approve_by_submission_ids_and_by_participant_ids(researcher):
    study = researcher.published_study()
    subs = [participants.complete(participants.take_part(study["id"], new_pid()), "DONE1") for _ in range(3)]

    researcher.ok("POST", "submissions/bulk-approve/", {"submission_ids": [subs[0].id, subs[1].id]})
    researcher.ok(
        "POST",
        "submissions/bulk-approve/",
        {"study_id": study["id"], "participant_ids": [subs[2].participant_id]},
    )

    listed = researcher.ok("GET", f"submissions/?study={study['id']}")["results"]
    assert {row["status"] for row in listed} == {"APPROVED"}
    assert researcher.ok("GET", f"studies/{study['id']}/")["status"] == "COMPLETED"


def test_bulk_approve_names_unknown_ids_and_approves_nothing(done, researcher):
    _, submission = done

    answer = researcher.post("submissions/bulk-approve/", {"submission_ids": [submission.id, "a" * 24]})

    assert answer.status_code == 400
    assert "a" * 24 in str(answer.json()["error"]["detail"])
    assert researcher.ok("GET", f"submissions/{submission.id}/")["status"] == "AWAITING REVIEW"


def test_left_in_review_it_is_approved_automatically(done, researcher):
    _, submission = done
    before = researcher.balance()

    clock.age_submission(submission.id, days=20)
    assert researcher.ok("GET", f"submissions/{submission.id}/")["status"] == "AWAITING REVIEW"
    clock.age_submission(submission.id, days=2)

    assert researcher.ok("GET", f"submissions/{submission.id}/")["status"] == "APPROVED"
    assert before - researcher.balance() == 133


def test_listing_submissions_needs_a_study(researcher):
    assert researcher.get("submissions/").status_code == 400


def test_a_return_can_be_requested_with_reasons(done, researcher):
    _, submission = done
    path = f"submissions/{submission.id}/request-return/"

    assert researcher.post(path, {"request_return_reasons": []}).status_code == 400
    shown = researcher.ok("POST", path, {"request_return_reasons": ["Did not finish the task."]})
    assert shown["return_requested"]["reasons"] == ["Did not finish the task."]
