"""The identity a platform's link states is read completely, or refused with a reason."""

from __future__ import annotations

import pytest

from platforms.arrivals import Arrival, BadArrival, arrival_from, is_worker_id

MTURK = {"assignmentId": "A1", "workerId": "AW1", "hitId": "H1", "turkSubmitTo": "https://www.mturk.com/"}
PROLIFIC = {"PROLIFIC_PID": "5f" + "0" * 22, "STUDY_ID": "a" * 24, "SESSION_ID": "s3ss10n"}


def test_an_mturk_link_names_worker_assignment_hit_and_where_to_submit():
    assert arrival_from(MTURK) == Arrival("mturk", "AW1", "A1", "H1", "https://www.mturk.com")


def test_a_prolific_link_names_participant_session_and_study():
    arrival = arrival_from(PROLIFIC)
    assert (arrival.platform, arrival.worker_id, arrival.work_id) == (
        "prolific",
        PROLIFIC["PROLIFIC_PID"],
        "a" * 24,
    )
    assert arrival.assignment_id == "s3ss10n" and arrival.submit_to == ""


def test_the_mturk_preview_is_an_arrival_without_a_worker():
    arrival = arrival_from({"assignmentId": "ASSIGNMENT_ID_NOT_AVAILABLE", "hitId": "H1"})
    assert arrival.preview and arrival.worker_id == ""


@pytest.mark.parametrize(
    "change",
    [
        {"workerId": "AW1\n"},  # a trailing newline passes `re.match` with `$`, not `fullmatch`
        {"workerId": "AW1\x00"},
        {"workerId": "aw1"},
        {"workerId": "A" * 65},
        {"workerId": ""},
        {"hitId": "H 1"},
        {"assignmentId": "A1%0A"},
        {"turkSubmitTo": ""},
        {"turkSubmitTo": "https://x\x00"},
    ],
)
def test_an_mturk_link_with_any_bad_part_is_refused(change):
    with pytest.raises(BadArrival):
        arrival_from({**MTURK, **change})


@pytest.mark.parametrize(
    "change",
    [{"PROLIFIC_PID": "5F" + "0" * 22}, {"PROLIFIC_PID": "0" * 25}, {"STUDY_ID": ""}, {"SESSION_ID": "a b"}],
)
def test_a_prolific_link_with_any_bad_part_is_refused(change):
    with pytest.raises(BadArrival):
        arrival_from({**PROLIFIC, **change})


def test_a_link_without_any_identity_is_refused():
    with pytest.raises(BadArrival, match="does not say who you are"):
        arrival_from({"participant_label": "AW1"})


def test_worker_ids_of_either_platform_are_recognised_and_nothing_else():
    assert is_worker_id("AW1") and is_worker_id("5f" + "0" * 22)
    assert not is_worker_id("AW1\n") and not is_worker_id("") and not is_worker_id("x" * 24)
