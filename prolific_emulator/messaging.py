"""Messages between a workspace's researcher and participants.

From Prolific's reference: `POST /messages/` takes `recipient_id`, `study_id` and `body`;
`GET /messages/` lists messages with one user (`user_id`) or all since `created_after`.
The twin refuses a message to someone who never took part in one of the workspace's studies
(Prolific only lets researchers message their own participants), and asks for `user_id` or
`created_after` when listing (guessed from the reference's two query parameters).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from prolific_emulator import studies
from prolific_emulator.errors import BadRequest, field_error
from prolific_emulator.models import Message, Submission, Workspace

PARTICIPANT_ID = re.compile(r"^[0-9a-f]{24}$")
MAX_BODY = 10000


def send(workspace: Workspace, data: dict[str, Any]) -> Message:
    """A researcher's message to a participant of one of the workspace's studies."""
    recipient = data.get("recipient_id")
    if not isinstance(recipient, str) or not PARTICIPANT_ID.match(recipient):
        raise field_error("recipient_id", "A valid participant id is required.")
    study = studies.get(workspace, str(data.get("study_id", "")))
    body = _body(data)
    if not Submission.objects.filter(study__workspace=workspace, participant_id=recipient).exists():
        raise field_error(
            "recipient_id", f"Participant {recipient} has not taken part in any of your studies."
        )
    return Message.objects.create(
        workspace=workspace,
        sender_id=workspace.user_id,
        recipient_id=recipient,
        participant_id=recipient,
        study_id=study.id,
        body=body,
    )


def reply(workspace: Workspace, participant_id: str, study_id: str, body: str) -> Message:
    """A participant's message back to the researcher (from the participant UI)."""
    return Message.objects.create(
        workspace=workspace,
        sender_id=participant_id,
        recipient_id=workspace.user_id,
        participant_id=participant_id,
        study_id=study_id,
        body=body,
    )


def listed(workspace: Workspace, query: Any) -> list[Message]:
    rows = workspace.messages.all()
    if not query.get("user_id") and not query.get("created_after"):
        raise BadRequest("Provide user_id or created_after.")
    if query.get("user_id"):
        rows = rows.filter(participant_id=query["user_id"])
    if query.get("created_after"):
        rows = rows.filter(sent_at__gt=_moment(query["created_after"]))
    return list(rows)


def representation(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "sender_id": message.sender_id,
        "recipient_id": message.recipient_id,
        "body": message.body,
        "sent_at": message.sent_at.isoformat(),
        "type": "message",
        "data": {"study_id": message.study_id},
    }


def _body(data: dict[str, Any]) -> str:
    body = data.get("body")
    if not isinstance(body, str) or not body.strip():
        raise field_error("body", "This field may not be blank.")
    if len(body) > MAX_BODY:
        raise field_error("body", f"Ensure this field has no more than {MAX_BODY} characters.")
    return body


def _moment(text: str) -> datetime:
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise field_error("created_after", "Datetime has wrong format; use ISO 8601.")
    return timezone.make_aware(moment, UTC) if timezone.is_naive(moment) else moment
