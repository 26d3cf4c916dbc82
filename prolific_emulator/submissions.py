"""Submissions: the researcher's decisions (approve, reject, bulk approve, request a return).

From Prolific's reference ("Approve or reject a submission"): a REJECT needs a
`rejection_category` and a `message` of at least 100 characters; a decision cannot be undone;
the endpoint is idempotent ("if you make the same request twice, the second request will be
ignored"). Approving pays the reward and Prolific's fee from the workspace balance.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from prolific_emulator import hooks, money, studies
from prolific_emulator.errors import BadRequest, InvalidTransition, NotFound, ValidationFailed, field_error
from prolific_emulator.models import Study, Submission, Workspace

REJECTION_CATEGORIES = [
    "BAD_CODE",
    "FAILED_CHECK",
    "FAILED_INSTRUCTIONS",
    "INCOMP_LONGITUDINAL",
    "LOW_EFFORT",
    "MALINGERING",
    "NO_CODE",
    "NO_DATA",
    "OTHER",
    "TOO_QUICKLY",
    "TOO_SLOWLY",
    "UNSUPP_DEVICE",
]
MINIMUM_REJECTION_MESSAGE = 100
DECIDED = {"APPROVE": Submission.APPROVED, "REJECT": Submission.REJECTED}


def get(workspace: Workspace, submission_id: str) -> Submission:
    """The workspace's submission, or 404."""
    submission = (
        Submission.objects.select_related("study__workspace")
        .filter(pk=submission_id, study__workspace=workspace, study__is_deleted=False)
        .first()
    )
    if submission is None:
        raise NotFound("Submission not found.")
    return submission


def set_status(submission: Submission, status: str) -> None:
    """Save a new status and tell subscribers (`submission.status.change`)."""
    submission.status = status
    submission.save()
    hooks.emit(
        submission.study.workspace,
        "submission.status.change",
        {
            "resource_id": submission.id,
            "event_type": "submission.status.change",
            "participant_id": submission.participant_id,
            "status": status,
        },
    )


def transition(submission: Submission, data: dict[str, Any]) -> Submission:
    """POST /submissions/{id}/transition/: APPROVE, or REJECT with category and message."""
    action = data.get("action")
    if action not in DECIDED:
        raise field_error("action", f'"{action}" is not a valid choice: APPROVE, REJECT.')
    if submission.status == DECIDED[action]:
        return submission  # documented: the same request twice is ignored
    if action == "APPROVE":
        approve(submission)
    else:
        reject(submission, data.get("rejection_category"), data.get("message"))
    return submission


def approve(submission: Submission) -> None:
    """Pay the reward plus fee and mark the submission APPROVED."""
    _require_awaiting_review(submission, "approved")
    _pay_reward(submission)
    submission.decided_at = timezone.now()
    set_status(submission, Submission.APPROVED)
    studies.settle(submission.study)


def reject(submission: Submission, category: Any, message: Any) -> None:
    """Reject with a category and a message of at least 100 characters; the place is freed."""
    errors: dict[str, list[str]] = {}
    if category not in REJECTION_CATEGORIES:
        errors["rejection_category"] = [f"Required for REJECT; one of {', '.join(REJECTION_CATEGORIES)}."]
    if not isinstance(message, str) or len(message.strip()) < MINIMUM_REJECTION_MESSAGE:
        errors["message"] = [
            f"Required for REJECT: a message to the participant of at least {MINIMUM_REJECTION_MESSAGE} characters."
        ]
    if errors:
        raise ValidationFailed(errors)
    _require_awaiting_review(submission, "rejected")
    submission.rejection_category = category
    submission.rejection_message = message
    submission.decided_at = timezone.now()
    set_status(submission, Submission.REJECTED)
    studies.settle(submission.study)


def auto_approve(submission: Submission) -> None:
    """Prolific's approval after its review window ran out."""
    approve(submission)


def bulk_approve(workspace: Workspace, data: dict[str, Any]) -> list[Submission]:
    """POST /submissions/bulk-approve/: `submission_ids`, or `study_id` with `participant_ids`.

    The reference recommends submission ids (which may span studies). The twin checks every id
    first and approves nothing when one is unknown or not awaiting review.
    """
    chosen = _bulk_selection(workspace, data)
    blocked = [s.id for s in chosen if s.status not in (Submission.AWAITING_REVIEW, Submission.APPROVED)]
    if blocked:
        raise InvalidTransition(f"These submissions are not awaiting review: {', '.join(blocked)}.")
    for submission in chosen:
        if submission.status == Submission.AWAITING_REVIEW:
            approve(submission)
    return chosen


def request_return(submission: Submission, reasons: Any) -> Submission:
    """Ask the participant to return the submission, giving reasons (shown to them)."""
    if (
        not isinstance(reasons, list)
        or not reasons
        or not all(isinstance(r, str) and r.strip() for r in reasons)
    ):
        raise field_error("request_return_reasons", "A non-empty list of reasons is required.")
    if submission.status not in (Submission.ACTIVE, Submission.AWAITING_REVIEW):
        raise InvalidTransition(
            f"A return cannot be requested for a submission with status {submission.status}."
        )
    submission.return_requested = {
        "reasons": [r[:500] for r in reasons[:10]],
        "at": timezone.now().isoformat(),
    }
    submission.save(update_fields=["return_requested"])
    return submission


def bonus_amounts(submission: Submission) -> list[int]:
    """The bonuses paid to this submission, in minor units, oldest first."""
    return list(submission.bonuses.values_list("amount", flat=True))


def _bulk_selection(workspace: Workspace, data: dict[str, Any]) -> list[Submission]:
    if "submission_ids" in data:
        ids = _id_list(data, "submission_ids")
        found = {
            s.id: s
            for s in Submission.objects.select_related("study__workspace").filter(
                pk__in=ids, study__workspace=workspace, study__is_deleted=False
            )
        }
        _name_unknown(ids, found, "submission_ids")
        return [found[i] for i in dict.fromkeys(ids)]
    if "participant_ids" in data:
        study = studies.get(workspace, str(data.get("study_id", "")))
        ids = _id_list(data, "participant_ids")
        found = {
            s.participant_id: s
            for s in study.submissions.select_related("study__workspace").filter(participant_id__in=ids)
        }
        _name_unknown(ids, found, "participant_ids")
        return [found[i] for i in dict.fromkeys(ids)]
    raise BadRequest("Provide submission_ids, or study_id and participant_ids.")


def _id_list(data: dict[str, Any], name: str) -> list[str]:
    ids = data[name]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise field_error(name, "Expected a non-empty list of ids.")
    return ids


def _name_unknown(ids: list[str], found: dict[str, Submission], name: str) -> None:
    unknown = [i[:40] for i in ids if i not in found]
    if unknown:
        raise field_error(name, f"Not found in your studies: {', '.join(unknown)}.")


def _require_awaiting_review(submission: Submission, verb: str) -> None:
    if submission.status != Submission.AWAITING_REVIEW:
        raise InvalidTransition(
            f"Only submissions awaiting review can be {verb}; this one is {submission.status}."
        )


def _pay_reward(submission: Submission) -> None:
    study: Study = submission.study
    refs = {"study_id": study.id, "submission_id": submission.id}
    money.charge(study.workspace, study.reward, f"Reward for submission {submission.id}", **refs)
    money.charge(study.workspace, money.fee(study.reward), f"Fee on reward for {submission.id}", **refs)
