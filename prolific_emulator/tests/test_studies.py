"""Drafts, publishing, what may change after publishing, and place accounting."""

from __future__ import annotations

from prolific_emulator import participants
from prolific_emulator.tests.conftest import new_pid, study_body


def test_a_draft_needs_the_required_fields(researcher):
    answer = researcher.post("studies/", {"name": "Only a name"})

    assert answer.status_code == 400
    assert {"description", "reward", "total_available_places"} <= set(answer.json()["error"]["detail"])


def test_url_parameters_need_the_pid_placeholder(researcher):
    answer = researcher.post("studies/", study_body(external_study_url="https://study.example.org/"))

    assert answer.status_code == 400
    assert "external_study_url" in answer.json()["error"]["detail"]


def test_a_draft_is_unpublished_and_publishing_makes_it_active(researcher):
    draft = researcher.create_study()
    published = researcher.ok("POST", f"studies/{draft['id']}/transition/", {"action": "PUBLISH"})

    assert (draft["status"], published["status"]) == ("UNPUBLISHED", "ACTIVE")
    assert published["places_taken"] == 0


def test_publishing_needs_a_completion_code(researcher):
    draft = researcher.create_study(completion_codes=[])

    assert researcher.post(f"studies/{draft['id']}/transition/", {"action": "PUBLISH"}).status_code == 400


def test_publishing_refuses_pay_below_prolifics_minimum(researcher):
    draft = researcher.create_study(reward=10, estimated_completion_time=10)

    answer = researcher.post(f"studies/{draft['id']}/transition/", {"action": "PUBLISH"})

    assert answer.status_code == 400
    assert "reward" in answer.json()["error"]["detail"]


def test_publishing_needs_the_balance_for_every_place(researcher):
    draft = researcher.create_study(total_available_places=1000, reward=100)

    assert researcher.post(f"studies/{draft['id']}/transition/", {"action": "PUBLISH"}).status_code == 400


def test_invalid_transitions_are_400(researcher):
    draft = researcher.create_study()

    assert researcher.post(f"studies/{draft['id']}/transition/", {"action": "PAUSE"}).status_code == 400
    assert researcher.post(f"studies/{draft['id']}/transition/", {"action": "EXPLODE"}).status_code == 400


def test_pause_start_and_stop(researcher):
    study = researcher.published_study()
    path = f"studies/{study['id']}/transition/"

    statuses = [
        researcher.ok("POST", path, {"action": action})["status"] for action in ("PAUSE", "START", "STOP")
    ]

    assert statuses == ["PAUSED", "ACTIVE", "AWAITING REVIEW"]
    assert researcher.post(path, {"action": "START"}).status_code == 400


def test_a_draft_can_change_anything(researcher):
    draft = researcher.create_study()

    changed = researcher.ok("PATCH", f"studies/{draft['id']}/", {"reward": 150, "name": "Renamed"})

    assert (changed["reward"], changed["name"]) == (150, "Renamed")


def test_a_published_study_changes_only_internal_name_and_more_places(researcher):
    study = researcher.published_study()
    path = f"studies/{study['id']}/"

    assert researcher.patch(path, {"reward": 200}).status_code == 400
    assert researcher.patch(path, {"total_available_places": 2}).status_code == 400
    changed = researcher.ok("PATCH", path, {"internal_name": "v2", "total_available_places": 5})
    assert (changed["internal_name"], changed["total_available_places"], changed["reward"]) == ("v2", 5, 100)


def test_only_drafts_can_be_deleted(researcher):
    draft = researcher.create_study()
    study = researcher.published_study()

    assert researcher.delete(f"studies/{study['id']}/").status_code == 400
    assert researcher.delete(f"studies/{draft['id']}/").status_code == 204
    assert researcher.get(f"studies/{draft['id']}/").status_code == 404


def test_places_are_counted_and_a_full_study_awaits_review(researcher):
    study = researcher.published_study(total_available_places=2)
    first = participants.take_part(study["id"], new_pid())
    second = participants.take_part(study["id"], new_pid())

    assert researcher.ok("GET", f"studies/{study['id']}/")["places_taken"] == 2
    participants.complete(first, "DONE1")
    assert researcher.ok("GET", f"studies/{study['id']}/")["status"] == "ACTIVE"  # someone still working
    participants.complete(second, "DONE1")
    assert researcher.ok("GET", f"studies/{study['id']}/")["status"] == "AWAITING REVIEW"


def test_raising_places_reactivates_a_full_study(researcher):
    study = researcher.published_study(total_available_places=1)
    participants.complete(participants.take_part(study["id"], new_pid()), "DONE1")

    reopened = researcher.ok("PATCH", f"studies/{study['id']}/", {"total_available_places": 2})

    assert reopened["status"] == "ACTIVE"
    participants.take_part(study["id"], new_pid())


def test_no_place_left_refuses_the_next_participant(researcher):
    study = researcher.published_study(total_available_places=1)
    participants.take_part(study["id"], new_pid())

    try:
        participants.take_part(study["id"], new_pid())
    except participants.Refused as refusal:
        assert "no places" in str(refusal)
    else:
        raise AssertionError("a second participant took the only place")


def test_study_lists_are_paginated(researcher):
    for _ in range(3):
        researcher.create_study()

    first = researcher.ok("GET", "studies/?page_size=2")
    second = researcher.session.get(first["_links"]["next"]["href"], timeout=5).json()

    assert first["meta"]["count"] == 3
    assert (len(first["results"]), len(second["results"])) == (2, 1)
    assert second["_links"]["next"]["href"] is None


def test_another_workspaces_study_is_not_found(researcher, other_researcher):
    study = other_researcher.create_study()

    assert researcher.get(f"studies/{study['id']}/").status_code == 404
