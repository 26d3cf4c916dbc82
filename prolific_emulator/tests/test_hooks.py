"""Hooks: secrets, confirmed subscriptions, signed deliveries over HTTP, retries."""

from __future__ import annotations

import base64
import hashlib
import hmac

from prolific_emulator import hooks, participants
from prolific_emulator.tests.conftest import new_pid


def _subscribe(researcher, url: str, event_type: str) -> tuple[str, dict]:
    workspace_id = researcher.workspace_id()
    secret = researcher.ok("POST", "hooks/secrets/", {"workspace_id": workspace_id}, 201)["value"]
    answer = researcher.post(
        "hooks/subscriptions/", {"workspace_id": workspace_id, "event_type": event_type, "target_url": url}
    )
    assert answer.status_code == 201, answer.text
    subscription = researcher.ok(
        "POST", f"hooks/subscriptions/{answer.json()['id']}/", {"secret": answer.headers["X-Hook-Secret"]}
    )
    return secret, subscription


def test_event_types_are_listed(researcher):
    names = [row["event_type"] for row in researcher.ok("GET", "hooks/event-types/")["results"]]

    assert {"study.status.change", "submission.status.change"} <= set(names)


def test_a_public_http_target_is_refused(researcher):
    body = {
        "workspace_id": researcher.workspace_id(),
        "event_type": "study.status.change",
        "target_url": "http://example.org/",
    }

    assert researcher.post("hooks/subscriptions/", body).status_code == 400


def test_an_unconfirmed_subscription_receives_nothing(researcher, receiver):
    workspace_id = researcher.workspace_id()
    researcher.ok("POST", "hooks/secrets/", {"workspace_id": workspace_id}, 201)
    body = {"workspace_id": workspace_id, "event_type": "study.status.change", "target_url": receiver.url}
    researcher.ok("POST", "hooks/subscriptions/", body, 201)

    researcher.published_study()

    assert receiver.received == []


def test_deliveries_are_signed_as_documented(researcher, receiver):
    secret, _ = _subscribe(researcher, receiver.url, "submission.status.change")
    study = researcher.published_study()
    pid = new_pid()

    participants.complete(participants.take_part(study["id"], pid), "DONE1")

    assert [(p["status"], p["participant_id"]) for p in receiver.payloads()] == [
        ("ACTIVE", pid),
        ("AWAITING REVIEW", pid),
    ]
    for delivery in receiver.received:
        timestamp = delivery["headers"]["X-Prolific-Request-Timestamp"]
        expected = base64.b64encode(
            hmac.new(secret.encode(), (timestamp + delivery["body"]).encode(), hashlib.sha256).digest()
        ).decode()
        assert hmac.compare_digest(expected, delivery["headers"]["X-Prolific-Request-Signature"])


def test_study_status_changes_are_delivered(researcher, receiver):
    _subscribe(researcher, receiver.url, "study.status.change")

    study = researcher.published_study()
    researcher.ok("POST", f"studies/{study['id']}/transition/", {"action": "PAUSE"})

    assert [(p["resource_id"], p["status"]) for p in receiver.payloads()] == [
        (study["id"], "ACTIVE"),
        (study["id"], "PAUSED"),
    ]


def test_a_failed_delivery_is_retried(researcher, receiver):
    _, subscription = _subscribe(researcher, receiver.url, "study.status.change")
    receiver.status = 503
    researcher.published_study()
    assert [d.status for d in hooks.deliveries()] == ["PENDING"]

    receiver.status = 200
    assert hooks.deliver_pending(force=True) == 1

    rows = hooks.deliveries()
    assert [(d.status, d.attempts) for d in rows] == [("DELIVERED", 2)]
    events = researcher.ok("GET", f"hooks/subscriptions/{subscription['id']}/events/")["results"]
    assert [e["status"] for e in events] == ["DELIVERED"]
