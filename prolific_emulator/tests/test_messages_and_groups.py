"""Messages to participants, and participant groups as allow and block lists."""

from __future__ import annotations

import pytest

from prolific_emulator import participants
from prolific_emulator.tests.conftest import new_pid, study_body


def test_a_message_reaches_a_participant_of_the_study(done, researcher):
    study, submission = done

    sent = researcher.ok(
        "POST",
        "messages/",
        {"recipient_id": submission.participant_id, "study_id": study["id"], "body": "Thanks!"},
        201,
    )
    listed = researcher.ok("GET", f"messages/?user_id={submission.participant_id}")["results"]

    assert [m["id"] for m in listed] == [sent["id"]]
    assert [m.body for m in participants.my_messages(submission.participant_id)] == ["Thanks!"]


def test_a_participant_who_never_took_part_cannot_be_messaged(done, researcher):
    study, _ = done

    answer = researcher.post(
        "messages/", {"recipient_id": new_pid(), "study_id": study["id"], "body": "Hello"}
    )

    assert answer.status_code == 400
    assert "recipient_id" in answer.json()["error"]["detail"]


def test_listing_messages_needs_a_user_or_a_time(researcher):
    assert researcher.get("messages/").status_code == 400


def test_a_participant_reply_shows_in_the_list(done, researcher):
    study, submission = done

    participants.send_reply(submission.participant_id, study["id"], "A question")

    bodies = [
        m["body"] for m in researcher.ok("GET", f"messages/?user_id={submission.participant_id}")["results"]
    ]
    assert bodies == ["A question"]


def _group(researcher, pids: list[str]) -> dict:
    body = {"name": "Blocked", "workspace_id": researcher.workspace_id(), "participant_ids": pids}
    return researcher.ok("POST", "participant-groups/", body, 201)


def test_groups_are_created_listed_changed_and_soft_deleted(researcher):
    first, second = new_pid(), new_pid()
    group = _group(researcher, [first])
    path = f"participant-groups/{group['id']}/participants/"

    researcher.ok("POST", path, {"participant_ids": [first, second]})
    researcher.ok("DELETE", path, {"participant_ids": [first]})

    assert [row["participant_id"] for row in researcher.ok("GET", path)["results"]] == [second]
    listed = researcher.ok("GET", f"participant-groups/?workspace_id={researcher.workspace_id()}")["results"]
    assert [g["participant_count"] for g in listed] == [1]
    assert researcher.delete(f"participant-groups/{group['id']}/").status_code == 204
    assert researcher.get(f"participant-groups/{group['id']}/").status_code == 404
    assert (
        researcher.ok("GET", f"participant-groups/?workspace_id={researcher.workspace_id()}")["results"] == []
    )


def test_a_block_list_keeps_its_members_out(researcher):
    blocked, welcome = new_pid(), new_pid()
    group = _group(researcher, [blocked])
    filters = [{"filter_id": "participant_group_blocklist", "selected_values": [group["id"]]}]
    study = researcher.published_study(filters=filters)

    assert study["id"] not in [s.id for s in participants.eligible_studies(blocked)]
    with pytest.raises(participants.Refused):
        participants.take_part(study["id"], blocked)
    participants.take_part(study["id"], welcome)


def test_an_allow_list_follows_its_group(researcher):
    later = new_pid()
    group = _group(researcher, [new_pid()])
    study = researcher.published_study(
        filters=[{"filter_id": "participant_group_allowlist", "selected_values": [group["id"]]}]
    )

    with pytest.raises(participants.Refused):
        participants.take_part(study["id"], later)
    researcher.ok("POST", f"participant-groups/{group['id']}/participants/", {"participant_ids": [later]})
    participants.take_part(study["id"], later)


def test_a_filter_naming_an_unknown_group_is_refused(researcher):
    filters = [{"filter_id": "participant_group_blocklist", "selected_values": ["b" * 24]}]

    assert researcher.post("studies/", study_body(filters=filters)).status_code == 400
