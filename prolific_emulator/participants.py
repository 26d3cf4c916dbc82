"""The participant side of the local Prolific: find studies, take part, complete, return.

The participant pages and the `prolific_emulator_participant` command use these functions, and
tests call them in-process to play participants:

    submission = participants.take_part(study_id, "5f0c1e2d3c4b5a6978899aab")
    participants.study_link(submission)   # the external_study_url with placeholders filled
    participants.complete(submission, "C0DE1")
    participants.return_submission(submission)

A refusal (not eligible, no place left, wrong state) raises `Refused` with a message fit to
show the participant.

Completion follows Prolific: a participant finishes only by arriving at
`https://app.prolific.com/submissions/complete?cc=<code>`. A code of the study with the action
AUTOMATICALLY_APPROVE approves at once; MANUALLY_REVIEW (or no action) leaves it AWAITING REVIEW;
ADD_/REMOVE_FROM_PARTICIPANT_GROUP change the group. A code the study does not have still moves
the submission to AWAITING REVIEW, showing the code given (or NOCODE) for the researcher to judge
(guessed from how Prolific's submissions list shows mismatched codes).
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from prolific_emulator import groups, lifecycle, messaging, studies, submissions
from prolific_emulator.models import (
    BonusPayment,
    Message,
    Participant,
    ParticipantGroup,
    Study,
    Submission,
)

PARTICIPANT_ID = re.compile(r"^[0-9a-f]{24}$")
NO_CODE = "NOCODE"


class Refused(Exception):
    """Prolific refused what the participant tried to do; the message says why."""


def ensure_participant(participant_id: str) -> Participant:
    """The participant with this id (24 hex digits), created on first use."""
    if not isinstance(participant_id, str) or not PARTICIPANT_ID.match(participant_id):
        raise Refused("A Prolific id is 24 hexadecimal characters (0-9, a-f).")
    participant, _ = Participant.objects.get_or_create(pk=participant_id)
    return participant


def new_participant() -> str:
    """A fresh participant with a random id."""
    return ensure_participant(secrets.token_hex(12)).pk


def eligible_studies(participant_id: str) -> list[Study]:
    """ACTIVE studies with a free place that this participant may take and has not taken."""
    lifecycle.process_due()
    candidates = Study.objects.filter(status=Study.ACTIVE, is_deleted=False).select_related("workspace")
    return [study for study in candidates if _why_not(study, participant_id) is None]


def take_part(study_id: str, participant_id: str) -> Submission:
    """Take a place in the study: a new ACTIVE submission (its id is the SESSION_ID)."""
    ensure_participant(participant_id)
    lifecycle.process_due()
    with transaction.atomic():
        study = Study.objects.select_for_update().filter(pk=study_id, is_deleted=False).first()
        if study is None:
            raise Refused("This study does not exist.")
        reason = _why_not(study, participant_id)
        if reason:
            raise Refused(reason)
        submission = Submission.objects.create(study=study, participant_id=participant_id)
        submissions.set_status(submission, Submission.ACTIVE)
    return submission


def study_link(submission: Submission) -> str:
    """The study's external URL with {{%PROLIFIC_PID%}}, {{%STUDY_ID%}}, {{%SESSION_ID%}} filled in."""
    return (
        submission.study.external_study_url.replace("{{%PROLIFIC_PID%}}", submission.participant_id)
        .replace("{{%STUDY_ID%}}", submission.study_id)
        .replace("{{%SESSION_ID%}}", submission.id)
    )


def complete(submission: Submission | str, code: str | None) -> Submission:
    """Arrive at the completion URL with `code` for this submission."""
    with transaction.atomic():
        current = _locked(submission)
        if current.status != Submission.ACTIVE:
            raise Refused(f"This submission is {current.status}; only an active one can be completed.")
        matched = _code(current.study, code)
        current.completed_at = timezone.now()
        current.study_code = (code or NO_CODE)[:255]
        submissions.set_status(current, Submission.AWAITING_REVIEW)
        _apply_actions(current, matched)
        studies.settle(current.study)
    return current


def complete_for_participant(participant_id: str, code: str | None) -> Submission:
    """The completion URL as the browser reaches it: the participant's active submission.

    With several active submissions, the one whose study has this code wins, else the newest.
    """
    active = list(
        Submission.objects.filter(participant_id=participant_id, status=Submission.ACTIVE)
        .select_related("study")
        .order_by("-started_at")
    )
    if not active:
        raise Refused("You have no study in progress.")
    chosen = next((s for s in active if _code(s.study, code)), active[0])
    return complete(chosen, code)


def return_submission(submission: Submission | str) -> Submission:
    """Give the place back (not paid); the place is free for someone else."""
    with transaction.atomic():
        current = _locked(submission)
        if current.status not in (Submission.ACTIVE, Submission.AWAITING_REVIEW):
            raise Refused(f"This submission is {current.status} and cannot be returned.")
        submissions.set_status(current, Submission.RETURNED)
        studies.settle(current.study)
    return current


def my_submissions(participant_id: str) -> list[Submission]:
    lifecycle.process_due()
    return list(
        Submission.objects.filter(participant_id=participant_id)
        .select_related("study")
        .prefetch_related("bonuses")
        .order_by("-started_at")
    )


def my_earnings(participant_id: str) -> dict[str, Decimal]:
    """What the participant earned, in major units: rewards of approved submissions and bonuses paid."""
    rewards = Submission.objects.filter(participant_id=participant_id, status=Submission.APPROVED).aggregate(
        total=Sum("study__reward")
    )["total"]
    bonuses = BonusPayment.objects.filter(participant_id=participant_id).aggregate(total=Sum("amount"))[
        "total"
    ]
    earned = {"rewards": Decimal(rewards or 0) / 100, "bonuses": Decimal(bonuses or 0) / 100}
    return earned | {"total": earned["rewards"] + earned["bonuses"]}


def my_messages(participant_id: str) -> list[Message]:
    return list(Message.objects.filter(participant_id=participant_id).order_by("sent_at", "id"))


def send_reply(participant_id: str, study_id: str, body: str) -> Message:
    """The participant writes to the researcher of a study they took part in."""
    submission = Submission.objects.filter(participant_id=participant_id, study_id=study_id).first()
    if submission is None:
        raise Refused("You can only write about a study you took part in.")
    if not body.strip():
        raise Refused("Write a message first.")
    return messaging.reply(submission.study.workspace, participant_id, study_id, body[:10000])


def _locked(submission: Submission | str) -> Submission:
    pk = submission.pk if isinstance(submission, Submission) else submission
    found = Submission.objects.select_for_update().select_related("study__workspace").filter(pk=pk).first()
    if found is None:
        raise Refused("This submission does not exist.")
    return found


def _code(study: Study, code: str | None) -> dict[str, Any] | None:
    return next((item for item in study.completion_codes if item["code"] == code), None)


def _apply_actions(submission: Submission, code: dict[str, Any] | None) -> None:
    for action in (code or {}).get("actions", []):
        name = action.get("action")
        group = ParticipantGroup.objects.filter(
            pk=action.get("participant_group", ""), is_deleted=False
        ).first()
        if name == "ADD_TO_PARTICIPANT_GROUP" and group:
            groups.add(group, [submission.participant_id])
        elif name == "REMOVE_FROM_PARTICIPANT_GROUP" and group:
            groups.remove(group, [submission.participant_id])
    if any(action.get("action") == "AUTOMATICALLY_APPROVE" for action in (code or {}).get("actions", [])):
        submissions.approve(submission)


def _why_not(study: Study, participant_id: str) -> str | None:
    if study.status != Study.ACTIVE:
        return "This study is not accepting participants."
    if study.submissions.filter(participant_id=participant_id).exists():
        return "You have already taken part in this study."
    if studies.places_taken(study) >= study.total_available_places:
        return "This study has no places left."
    return _filter_refusal(study, participant_id)


def _filter_refusal(study: Study, participant_id: str) -> str | None:
    for item in study.filters:
        allowed = _in_filter(study, item, participant_id)
        if allowed is False:
            return "You are not eligible for this study."
    return None


def _in_filter(study: Study, item: dict[str, Any], participant_id: str) -> bool | None:
    """True/False for the list filters the twin models; None for demographic ones it does not."""
    filter_id, values = item.get("filter_id"), item.get("selected_values") or []
    if filter_id == "custom_allowlist":
        return participant_id in values
    if filter_id == "custom_blocklist":
        return participant_id not in values
    if filter_id in ("participant_group_allowlist", "participant_group_blocklist"):
        listed = any(participant_id in groups.members(g) for g in _groups(study, values))
        return listed if filter_id == "participant_group_allowlist" else not listed
    return None


def _groups(study: Study, ids: list[str]) -> list[ParticipantGroup]:
    return list(ParticipantGroup.objects.filter(pk__in=ids, workspace=study.workspace, is_deleted=False))
