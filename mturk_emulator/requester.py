"""The requester side of the local Mechanical Turk: the 39 operations of MTurk's API.

Each operation takes the calling `Account` and the request's parameters (already checked
against botocore's service model) and returns the result as a dict, or raises a
`RequestError` shaped like Amazon's. The view runs each call in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from mturk_emulator import lifecycle, qualifications
from mturk_emulator.models import (
    HIT,
    Account,
    Assignment,
    BonusPayment,
    HITType,
    Qualification,
    QualificationRequest,
    QualificationType,
    RequestToken,
    SimulatedWorker,
    WorkerBlock,
    WorkerMessage,
)
from mturk_emulator.protocol import RequestError, page, parse_timestamp
from mturk_emulator.questions import parse_question

Params = dict[str, Any]
Result = dict[str, Any]

MONEY = re.compile(r"^\d+(\.\d{1,2})?$")
MIN_LIFETIME = 30
MAX_LIFETIME = 365 * 24 * 3600
MIN_DURATION = 30
MAX_DURATION = 365 * 24 * 3600
MAX_AUTO_APPROVAL_DELAY = 30 * 24 * 3600
DEFAULT_AUTO_APPROVAL_DELAY = 3 * 24 * 3600
MAX_NOTIFIED_WORKERS = 100
MAX_SUBJECT = 200
MAX_MESSAGE = 4096
TOKEN_MEMORY = timedelta(hours=24)

OPERATIONS: dict[str, Callable[[Account, Params], Result]] = {}


def operation(
    name: str,
) -> Callable[[Callable[[Account, Params], Result]], Callable[[Account, Params], Result]]:
    """Register the function that answers the MTurk operation `name`."""

    def register(function: Callable[[Account, Params], Result]) -> Callable[[Account, Params], Result]:
        OPERATIONS[name] = function
        return function

    return register


# --- Lookups and checks -------------------------------------------------------------------


def _invalid(message: str) -> RequestError:
    return RequestError(message, "AWS.MechanicalTurk.InvalidParameterValue")


def _money(value: str, name: str) -> Decimal:
    if not MONEY.match(value):
        raise _invalid(
            f"{name} must be an amount in dollars like 0.50 (at most two decimals), not {value!r}."
        )
    return Decimal(value)


def _in_range(value: int, low: int, high: int, name: str) -> int:
    if not low <= value <= high:
        raise RequestError(
            f"{name} must be between {low} and {high}, not {value}.", "AWS.ParameterOutOfRange"
        )
    return value


def _hit(account: Account, hit_id: str, lock: bool = False) -> HIT:
    hits = HIT.objects.select_for_update() if lock else HIT.objects
    hit = hits.filter(account=account, hit_id=hit_id).first()
    if hit is None:
        raise RequestError(f"Hit {hit_id} does not exist.", "AWS.MechanicalTurk.HITDoesNotExist")
    return hit


def _assignment(account: Account, assignment_id: str, lock: bool = False) -> Assignment:
    assignments = Assignment.objects.select_for_update() if lock else Assignment.objects
    assignment = (
        assignments.select_related("hit")
        .filter(hit__account=account, assignment_id=assignment_id, status__in=Assignment.VISIBLE_TO_REQUESTER)
        .first()
    )
    if assignment is None:
        raise RequestError(
            f"Assignment {assignment_id} does not exist or has not been submitted.",
            "AWS.MechanicalTurk.AssignmentDoesNotExist",
        )
    return assignment


def _qualification_type(account: Account, type_id: str, owned: bool = True) -> QualificationType:
    types = QualificationType.objects.filter(qualification_type_id=type_id, deleted=False)
    qtype = types.filter(account=account).first() if owned else types.first()
    if qtype is None:
        raise RequestError(
            f"Qualification type {type_id} does not exist.",
            "AWS.MechanicalTurk.QualificationTypeDoesNotExist",
        )
    return qtype


def _used_token(account: Account, purpose: str, token: str | None) -> RequestToken | None:
    if not token:
        return None
    RequestToken.objects.filter(account=account, purpose=purpose, token=token).filter(
        created__lt=timezone.now() - TOKEN_MEMORY
    ).delete()
    return RequestToken.objects.filter(account=account, purpose=purpose, token=token).first()


def _claim_token(account: Account, purpose: str, token: str | None) -> RequestToken | None:
    """Record a UniqueRequestToken before doing the work, so a concurrent repeat cannot slip through."""
    if not token:
        return None
    try:
        with transaction.atomic():
            return RequestToken.objects.create(account=account, purpose=purpose, token=token)
    except IntegrityError:
        # A concurrent request with the same token got there first and has committed by now.
        used = RequestToken.objects.filter(account=account, purpose=purpose, token=token).first()
        raise _token_used(purpose, token, used.result if used else "") from None


def _token_used(purpose: str, token: str, result: str) -> RequestError:
    if purpose == "CreateHIT":
        return RequestError(
            f"The HIT with ID {result} already exists: the UniqueRequestToken {token!r} has already been "
            "used to create it.",
            "AWS.MechanicalTurk.HitAlreadyExists",
        )
    return RequestError(
        f"The UniqueRequestToken {token!r} has already been used for {purpose} within the last 24 hours; "
        "the request was not repeated.",
        "AWS.MechanicalTurk.DuplicateRequest",
    )


def _refuse_repeated_token(account: Account, purpose: str, token: str | None) -> None:
    used = _used_token(account, purpose, token)
    if used is not None:
        raise _token_used(purpose, used.token, used.result)


# --- Output shapes ------------------------------------------------------------------------


def hit_output(hit: HIT, counts: lifecycle.HitCounts | None = None) -> Result:
    """A HIT as MTurk's `HIT` structure (`counts`: its assignments', when already counted)."""
    counts = counts or lifecycle.hit_counts(hit)
    output = {
        "HITId": hit.hit_id,
        "HITTypeId": hit.hit_type.hit_type_id,
        "HITGroupId": hit.hit_type.hit_type_id,
        "CreationTime": hit.created,
        "Title": hit.title,
        "Description": hit.description,
        "Question": hit.question,
        "Keywords": hit.keywords,
        "HITStatus": lifecycle.hit_status(hit, counts),
        "MaxAssignments": hit.max_assignments,
        "Reward": hit.reward,
        "AutoApprovalDelayInSeconds": hit.auto_approval_delay,
        "Expiration": hit.expiration,
        "AssignmentDurationInSeconds": hit.assignment_duration,
        "QualificationRequirements": hit.qualification_requirements,
        "HITReviewStatus": hit.review_status,
        "NumberOfAssignmentsPending": counts.pending,
        "NumberOfAssignmentsAvailable": counts.available,
        "NumberOfAssignmentsCompleted": counts.completed,
    }
    if hit.requester_annotation:
        output["RequesterAnnotation"] = hit.requester_annotation
    if hit.hit_layout_id:
        output["HITLayoutId"] = hit.hit_layout_id
    return output


def assignment_output(assignment: Assignment) -> Result:
    """An assignment as MTurk's `Assignment` structure (only the times that happened)."""
    output = {
        "AssignmentId": assignment.assignment_id,
        "WorkerId": assignment.worker_id,
        "HITId": assignment.hit.hit_id,
        "AssignmentStatus": assignment.status,
        "AcceptTime": assignment.accept_time,
        "Deadline": assignment.deadline,
        "Answer": assignment.answer,
    }
    optional = {
        "AutoApprovalTime": assignment.auto_approval_time,
        "SubmitTime": assignment.submit_time,
        "ApprovalTime": assignment.approval_time,
        "RejectionTime": assignment.rejection_time,
        "RequesterFeedback": assignment.requester_feedback,
    }
    output.update({key: value for key, value in optional.items() if value})
    return output


def qualification_type_output(qtype: QualificationType) -> Result:
    output = {
        "QualificationTypeId": qtype.qualification_type_id,
        "CreationTime": qtype.created,
        "Name": qtype.name,
        "Description": qtype.description,
        "Keywords": qtype.keywords,
        "QualificationTypeStatus": qtype.status,
        "IsRequestable": qtype.is_requestable,
        "AutoGranted": qtype.auto_granted,
    }
    optional = {
        "Test": qtype.test,
        "AnswerKey": qtype.answer_key,
        "TestDurationInSeconds": qtype.test_duration,
        "RetryDelayInSeconds": qtype.retry_delay,
        "AutoGrantedValue": qtype.auto_granted_value,
    }
    output.update({key: value for key, value in optional.items() if value is not None and value != ""})
    return output


def qualification_output(score: Qualification) -> Result:
    return {
        "QualificationTypeId": score.qualification_type.qualification_type_id,
        "WorkerId": score.worker_id,
        "GrantTime": score.grant_time,
        "IntegerValue": score.integer_value,
        "Status": score.status,
    }


def _paged(key: str, items: list[Any], params: Params, render: Callable[[Any], Result]) -> Result:
    chunk, next_token = page(items, params)
    result = {"NumResults": len(chunk), key: [render(item) for item in chunk]}
    if next_token:
        result["NextToken"] = next_token
    return result


def _paged_hits(hits: Sequence[HIT] | QuerySet[HIT], params: Params) -> Result:
    """A page of HITs, their assignments counted in one query for the page."""
    chunk, next_token = page(hits, params)
    chunk = list(chunk)
    counts = lifecycle.hit_counts_of(chunk)
    result: Result = {"NumResults": len(chunk), "HITs": [hit_output(hit, counts[hit.pk]) for hit in chunk]}
    if next_token:
        result["NextToken"] = next_token
    return result


# --- HIT types and HITs -------------------------------------------------------------------


def _hit_type_properties(params: Params) -> Params:
    reward = _money(params["Reward"], "Reward")
    duration = _in_range(
        params["AssignmentDurationInSeconds"], MIN_DURATION, MAX_DURATION, "AssignmentDurationInSeconds"
    )
    delay = params.get("AutoApprovalDelayInSeconds", DEFAULT_AUTO_APPROVAL_DELAY)
    _in_range(delay, 0, MAX_AUTO_APPROVAL_DELAY, "AutoApprovalDelayInSeconds")
    requirements = params.get("QualificationRequirements") or []
    qualifications.check_requirements(requirements)
    if len(params["Title"]) > 128 or not params["Title"].strip():
        raise _invalid("Title must be between 1 and 128 characters.")
    if len(params["Description"]) > 2000 or not params["Description"].strip():
        raise _invalid("Description must be between 1 and 2000 characters.")
    return {
        "title": params["Title"],
        "description": params["Description"],
        "keywords": params.get("Keywords", ""),
        "reward": reward,
        "assignment_duration": duration,
        "auto_approval_delay": delay,
        "qualification_requirements": requirements,
    }


def _hit_type_for(account: Account, properties: Params) -> HITType:
    """MTurk gives HITs with identical properties the same HIT type."""
    fingerprint = hashlib.sha256(json.dumps(properties, sort_keys=True, default=str).encode()).hexdigest()
    existing = HITType.objects.filter(account=account, fingerprint=fingerprint).first()
    return existing or HITType.objects.create(account=account, fingerprint=fingerprint, **properties)


def _question_fields(params: Params) -> Params:
    question = params.get("Question")
    layout = params.get("HITLayoutId")
    if bool(question) == bool(layout):
        raise _invalid("Give exactly one of Question and HITLayoutId.")
    if layout:
        return {
            "question_kind": "HITLayout",
            "hit_layout_id": layout,
            "hit_layout_parameters": params.get("HITLayoutParameters") or [],
        }
    if not isinstance(question, str):
        raise _invalid("Question must be a string.")
    parsed = parse_question(question)
    return {
        "question": question,
        "question_kind": parsed.kind,
        "external_url": parsed.external_url,
        "frame_height": parsed.frame_height,
        "html_content": parsed.html_content,
    }


def _post_hit(account: Account, hit_type: HITType, params: Params) -> HIT:
    lifetime = _in_range(params["LifetimeInSeconds"], MIN_LIFETIME, MAX_LIFETIME, "LifetimeInSeconds")
    max_assignments = _in_range(params.get("MaxAssignments", 1), 1, 1_000_000, "MaxAssignments")
    question = _question_fields(params)
    token = params.get("UniqueRequestToken")
    _refuse_repeated_token(account, "CreateHIT", token)
    claimed = _claim_token(account, "CreateHIT", token)
    now = timezone.now()
    hit = HIT(
        account=account,
        hit_type=hit_type,
        title=hit_type.title,
        description=hit_type.description,
        keywords=hit_type.keywords,
        reward=hit_type.reward,
        fee_per_assignment=lifecycle.fee_per_assignment(hit_type.reward, max_assignments),
        assignment_duration=hit_type.assignment_duration,
        auto_approval_delay=hit_type.auto_approval_delay,
        qualification_requirements=hit_type.qualification_requirements,
        max_assignments=max_assignments,
        created_with_assignments=max_assignments,
        requester_annotation=params.get("RequesterAnnotation", ""),
        assignment_review_policy=params.get("AssignmentReviewPolicy"),
        hit_review_policy=params.get("HITReviewPolicy"),
        created=now,
        expiration=now + timedelta(seconds=lifetime),
        **question,
    )
    lifecycle.charge(
        account,
        max_assignments * hit.cost_per_assignment,
        f"HIT {hit.hit_id}: {max_assignments} x (${hit.reward:.2f} reward + ${hit.fee_per_assignment:.2f} fee)",
        hit.hit_id,
    )
    hit.save()
    if claimed:
        RequestToken.objects.filter(pk=claimed.pk).update(result=hit.hit_id)
    return hit


def _listed_hits(account: Account) -> QuerySet[HIT]:
    """The HITs a requester's list operations page through, oldest first so paging stays stable."""
    return HIT.objects.filter(account=account, disposed=False).select_related("hit_type").order_by("id")


@operation("CreateHITType")
def create_hit_type(account: Account, params: Params) -> Result:
    hit_type = _hit_type_for(account, _hit_type_properties(params))
    return {"HITTypeId": hit_type.hit_type_id}


@operation("CreateHIT")
def create_hit(account: Account, params: Params) -> Result:
    hit_type = _hit_type_for(account, _hit_type_properties(params))
    return {"HIT": hit_output(_post_hit(account, hit_type, params))}


@operation("CreateHITWithHITType")
def create_hit_with_hit_type(account: Account, params: Params) -> Result:
    hit_type = HITType.objects.filter(account=account, hit_type_id=params["HITTypeId"]).first()
    if hit_type is None:
        raise RequestError(
            f"HIT type {params['HITTypeId']} does not exist.", "AWS.MechanicalTurk.HITTypeDoesNotExist"
        )
    return {"HIT": hit_output(_post_hit(account, hit_type, params))}


@operation("GetHIT")
def get_hit(account: Account, params: Params) -> Result:
    return {"HIT": hit_output(_hit(account, params["HITId"]))}


@operation("ListHITs")
def list_hits(account: Account, params: Params) -> Result:
    return _paged_hits(_listed_hits(account), params)


@operation("ListReviewableHITs")
def list_reviewable_hits(account: Account, params: Params) -> Result:
    wanted = params.get("Status", "Reviewable")
    hits = _listed_hits(account)
    if params.get("HITTypeId"):
        hits = hits.filter(hit_type__hit_type_id=params["HITTypeId"])
    counts = lifecycle.hit_counts_of(hits)
    reviewable = [hit for hit in hits if lifecycle.hit_status(hit, counts[hit.pk]) == wanted]
    return _paged_hits(reviewable, params)


@operation("UpdateExpirationForHIT")
def update_expiration_for_hit(account: Account, params: Params) -> Result:
    hit = _hit(account, params["HITId"], lock=True)
    if hit.disposed:
        raise RequestError(f"Hit {hit.hit_id} has been deleted.", "AWS.MechanicalTurk.InvalidHITState")
    now = timezone.now()
    expire_at = parse_timestamp(params["ExpireAt"])
    if expire_at <= now:
        hit.expiration = now
        hit.save(update_fields=["expiration"])
        lifecycle.process_due(now)
        return {}
    lifecycle.recharge_refunded_slots(hit)
    hit.expiration = expire_at
    hit.save(update_fields=["expiration"])
    return {}


@operation("CreateAdditionalAssignmentsForHIT")
def create_additional_assignments_for_hit(account: Account, params: Params) -> Result:
    hit = _hit(account, params["HITId"], lock=True)
    extra = params["NumberOfAdditionalAssignments"]
    if extra < 1:
        raise _invalid("NumberOfAdditionalAssignments must be at least 1.")
    if hit.disposed:
        raise RequestError(f"Hit {hit.hit_id} has been deleted.", "AWS.MechanicalTurk.InvalidHITState")
    if hit.created_with_assignments < lifecycle.LARGE_BATCH <= hit.max_assignments + extra:
        raise RequestError(
            f"HIT {hit.hit_id} was created with fewer than {lifecycle.LARGE_BATCH} assignments, so it cannot be "
            f"extended to {lifecycle.LARGE_BATCH} or more assignments.",
            "AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease",
        )
    token = params.get("UniqueRequestToken")
    _refuse_repeated_token(account, "CreateAdditionalAssignmentsForHIT", token)
    claimed = _claim_token(account, "CreateAdditionalAssignmentsForHIT", token)
    lifecycle.charge(
        account,
        extra * hit.cost_per_assignment,
        f"HIT {hit.hit_id}: {extra} additional assignment(s)",
        hit.hit_id,
    )
    hit.max_assignments += extra
    hit.save(update_fields=["max_assignments"])
    if claimed:
        RequestToken.objects.filter(pk=claimed.pk).update(result=hit.hit_id)
    if hit.is_expired():
        lifecycle.process_due()
    return {}


DELETABLE = ("Reviewing", "Reviewable")


def _wrong_hit_state(status: str, allowed: tuple[str, ...]) -> RequestError:
    """MTurk's own wording when a HIT is in the wrong state for an operation."""
    return RequestError(
        f"This HIT is currently in the state '{status}'. This operation can be called with a status of: "
        f"{', '.join(allowed)}",
        "AWS.MechanicalTurk.InvalidHITState",
    )


@operation("DeleteHIT")
def delete_hit(account: Account, params: Params) -> Result:
    hit = _hit(account, params["HITId"], lock=True)
    if hit.disposed:
        raise _wrong_hit_state("Disposed", DELETABLE)
    counts = lifecycle.hit_counts(hit)
    if counts.pending or counts.submitted:
        raise RequestError(
            f"Hit {hit.hit_id} cannot be deleted: it has {counts.pending} assignment(s) being worked on and "
            f"{counts.submitted} submitted assignment(s) not yet approved or rejected. This operation can be "
            "called for a Reviewable HIT whose submitted assignments are all decided.",
            "AWS.MechanicalTurk.InvalidHITState",
        )
    status = lifecycle.hit_status(hit, counts)
    if status not in DELETABLE:
        raise _wrong_hit_state(status, DELETABLE)
    now = timezone.now()
    hit.expiration = min(hit.expiration, now)
    hit.disposed = True
    hit.save(update_fields=["expiration", "disposed"])
    lifecycle.process_due(now)
    return {}


@operation("UpdateHITReviewStatus")
def update_hit_review_status(account: Account, params: Params) -> Result:
    hit = _hit(account, params["HITId"], lock=True)
    status = lifecycle.hit_status(hit)
    revert = params.get("Revert", False)
    wanted_from, to_reviewing = ("Reviewing", False) if revert else ("Reviewable", True)
    if status != wanted_from:
        raise RequestError(
            f"Hit {hit.hit_id} is {status}; this operation can be called with a status of: {wanted_from}.",
            "AWS.MechanicalTurk.InvalidHITState",
        )
    hit.reviewing = to_reviewing
    hit.save(update_fields=["reviewing"])
    return {}


@operation("UpdateHITTypeOfHIT")
def update_hit_type_of_hit(account: Account, params: Params) -> Result:
    hit = _hit(account, params["HITId"], lock=True)
    hit_type = HITType.objects.filter(account=account, hit_type_id=params["HITTypeId"]).first()
    if hit_type is None:
        raise RequestError(
            f"HIT type {params['HITTypeId']} does not exist.", "AWS.MechanicalTurk.HITTypeDoesNotExist"
        )
    if hit.disposed:
        raise RequestError(f"Hit {hit.hit_id} has been deleted.", "AWS.MechanicalTurk.InvalidHITState")
    _reprice(hit, hit_type.reward)
    for field in ("title", "description", "keywords", "reward", "assignment_duration", "auto_approval_delay"):
        setattr(hit, field, getattr(hit_type, field))
    hit.qualification_requirements = hit_type.qualification_requirements
    hit.hit_type = hit_type
    hit.save()
    return {}


def _reprice(hit: HIT, reward: Decimal) -> None:
    """A new reward applies to every slot not yet decided: charge or refund the difference."""
    fee = lifecycle.fee_per_assignment(reward, hit.created_with_assignments)
    difference = (reward + fee) - hit.cost_per_assignment
    decided = hit.assignments.filter(status__in=[Assignment.APPROVED, Assignment.REJECTED]).count()
    slots = hit.max_assignments - hit.refunded_slots - decided
    if difference > 0 and slots > 0:
        lifecycle.charge(
            hit.account, difference * slots, f"HIT {hit.hit_id}: reward changed to ${reward:.2f}", hit.hit_id
        )
    elif difference < 0 and slots > 0:
        lifecycle.refund(
            hit.account, -difference * slots, f"HIT {hit.hit_id}: reward changed to ${reward:.2f}", hit.hit_id
        )
    hit.fee_per_assignment = fee


@operation("UpdateNotificationSettings")
def update_notification_settings(account: Account, params: Params) -> Result:
    hit_type = HITType.objects.filter(account=account, hit_type_id=params["HITTypeId"]).first()
    if hit_type is None:
        raise RequestError(
            f"HIT type {params['HITTypeId']} does not exist.", "AWS.MechanicalTurk.HITTypeDoesNotExist"
        )
    if "Notification" in params:
        hit_type.notification = params["Notification"]
        hit_type.notification_active = True
    if "Active" in params:
        if params["Active"] and not hit_type.notification:
            raise _invalid("There is no notification to activate for this HIT type.")
        hit_type.notification_active = params["Active"]
    hit_type.save(update_fields=["notification", "notification_active"])
    return {}


@operation("SendTestEventNotification")
def send_test_event_notification(account: Account, params: Params) -> Result:
    if (
        params["TestEventType"] not in params["Notification"]["EventTypes"]
        and params["TestEventType"] != "Ping"
    ):
        raise _invalid("TestEventType must be one of the notification's EventTypes.")
    return {}


@operation("ListReviewPolicyResultsForHIT")
def list_review_policy_results_for_hit(account: Account, params: Params) -> Result:
    hit = _hit(account, params["HITId"])
    result: Result = {"HITId": hit.hit_id}
    if hit.assignment_review_policy:
        result["AssignmentReviewPolicy"] = hit.assignment_review_policy
    if hit.hit_review_policy:
        result["HITReviewPolicy"] = hit.hit_review_policy
    result["AssignmentReviewReport"] = {"ReviewResults": [], "ReviewActions": []}
    result["HITReviewReport"] = {"ReviewResults": [], "ReviewActions": []}
    return result


# --- Assignments and money ----------------------------------------------------------------


@operation("ListAssignmentsForHIT")
def list_assignments_for_hit(account: Account, params: Params) -> Result:
    hit = _hit(account, params["HITId"])
    statuses = params.get("AssignmentStatuses") or Assignment.VISIBLE_TO_REQUESTER
    assignments = list(hit.assignments.filter(status__in=statuses).select_related("hit").order_by("id"))
    return _paged("Assignments", assignments, params, assignment_output)


@operation("GetAssignment")
def get_assignment(account: Account, params: Params) -> Result:
    assignment = _assignment(account, params["AssignmentId"])
    hit = HIT.objects.select_related("hit_type").get(pk=assignment.hit_id)
    return {"Assignment": assignment_output(assignment), "HIT": hit_output(hit)}


def _feedback(params: Params, key: str) -> str:
    feedback = params.get(key) or ""
    if len(feedback) > 1024:
        raise _invalid(f"{key} can be at most 1024 characters.")
    return feedback


@operation("ApproveAssignment")
def approve_assignment(account: Account, params: Params) -> Result:
    assignment = _assignment(account, params["AssignmentId"], lock=True)
    feedback = _feedback(params, "RequesterFeedback")
    now = timezone.now()
    if assignment.status == Assignment.APPROVED:
        raise _wrong_assignment_state(assignment, "already been approved")
    if assignment.status == Assignment.REJECTED:
        _override_rejection(assignment, params.get("OverrideRejection", False), now)
    assignment.status = Assignment.APPROVED
    assignment.approval_time = now
    assignment.requester_feedback = feedback or assignment.requester_feedback
    assignment.save()
    return {}


def _override_rejection(assignment: Assignment, override: bool, now: Any) -> None:
    if not override:
        raise _wrong_assignment_state(
            assignment, "already been rejected (set OverrideRejection to approve it)"
        )
    if assignment.rejection_time and now - assignment.rejection_time > lifecycle.OVERRIDE_REJECTION_WINDOW:
        raise RequestError(
            f"Assignment {assignment.assignment_id} was rejected more than 30 days ago; the rejection can no "
            "longer be overridden.",
            "AWS.MechanicalTurk.InvalidAssignmentState",
        )
    if assignment.refunded:
        lifecycle.charge(
            assignment.hit.account,
            assignment.hit.cost_per_assignment,
            f"Rejection of assignment {assignment.assignment_id} overridden",
            assignment.hit.hit_id,
        )
        assignment.refunded = False
    assignment.rejection_time = None


def _wrong_assignment_state(assignment: Assignment, what: str) -> RequestError:
    return RequestError(
        f"Assignment {assignment.assignment_id} has {what}. This operation can be called with a status of: "
        f"Submitted (it is {assignment.status}).",
        "AWS.MechanicalTurk.InvalidAssignmentState",
    )


@operation("RejectAssignment")
def reject_assignment(account: Account, params: Params) -> Result:
    assignment = _assignment(account, params["AssignmentId"], lock=True)
    feedback = _feedback(params, "RequesterFeedback")
    if assignment.status == Assignment.REJECTED:
        raise _wrong_assignment_state(assignment, "already been rejected")
    if assignment.status == Assignment.APPROVED:
        raise _wrong_assignment_state(assignment, "already been approved")
    assignment.status = Assignment.REJECTED
    assignment.rejection_time = timezone.now()
    assignment.requester_feedback = feedback
    assignment.refunded = True
    assignment.save()
    # A rejected assignment is not paid: its reward and fee go back to the requester.
    lifecycle.refund(
        account,
        assignment.hit.cost_per_assignment,
        f"Assignment {assignment.assignment_id} rejected",
        assignment.hit.hit_id,
    )
    return {}


@operation("SendBonus")
def send_bonus(account: Account, params: Params) -> Result:
    amount = _money(params["BonusAmount"], "BonusAmount")
    if amount <= 0:
        raise _invalid("BonusAmount must be more than 0.00.")
    assignment = (
        Assignment.objects.select_related("hit")
        .filter(hit__account=account, assignment_id=params["AssignmentId"])
        .first()
    )
    if assignment is None or assignment.worker_id != params["WorkerId"]:
        raise RequestError(
            f"Worker {params['WorkerId']} did not work on assignment {params['AssignmentId']} for you.",
            "AWS.MechanicalTurk.AssignmentDoesNotExist",
        )
    if assignment.status not in Assignment.VISIBLE_TO_REQUESTER:
        raise _invalid("A bonus can only be paid for a submitted assignment.")
    token = params.get("UniqueRequestToken")
    _refuse_repeated_token(account, "SendBonus", token)
    claimed = _claim_token(account, "SendBonus", token)
    fee = lifecycle.commission(amount)
    lifecycle.charge(
        account,
        amount + fee,
        f"Bonus ${amount:.2f} + ${fee:.2f} fee to {assignment.worker_id}",
        assignment.hit.hit_id,
    )
    BonusPayment.objects.create(
        account=account,
        assignment=assignment,
        worker_id=assignment.worker_id,
        amount=amount,
        reason=params["Reason"],
    )
    if claimed:
        RequestToken.objects.filter(pk=claimed.pk).update(result=assignment.assignment_id)
    return {}


@operation("ListBonusPayments")
def list_bonus_payments(account: Account, params: Params) -> Result:
    if bool(params.get("HITId")) == bool(params.get("AssignmentId")):
        raise _invalid("Give exactly one of HITId and AssignmentId.")
    bonuses = BonusPayment.objects.filter(account=account).select_related("assignment")
    if params.get("HITId"):
        _hit(account, params["HITId"])
        bonuses = bonuses.filter(assignment__hit__hit_id=params["HITId"])
    else:
        bonuses = bonuses.filter(assignment__assignment_id=params["AssignmentId"])
    return _paged("BonusPayments", list(bonuses), params, _bonus_output)


def _bonus_output(bonus: BonusPayment) -> Result:
    return {
        "WorkerId": bonus.worker_id,
        "BonusAmount": bonus.amount,
        "AssignmentId": bonus.assignment.assignment_id,
        "Reason": bonus.reason,
        "GrantTime": bonus.grant_time,
    }


@operation("GetAccountBalance")
def get_account_balance(account: Account, params: Params) -> Result:
    account.refresh_from_db(fields=["balance", "sandbox"])
    return {"AvailableBalance": account.balance, "OnHoldBalance": Decimal("0.00")}


@operation("GetFileUploadURL")
def get_file_upload_url(account: Account, params: Params) -> Result:
    assignment = _assignment(account, params["AssignmentId"])
    if f"<QuestionIdentifier>{params['QuestionIdentifier']}</QuestionIdentifier><UploadedFileKey>" not in (
        assignment.answer
    ):
        raise RequestError(
            f"Assignment {assignment.assignment_id} has no uploaded file for {params['QuestionIdentifier']}.",
            "AWS.MechanicalTurk.FileUploadDoesNotExist",
        )
    return {"FileUploadURL": f"https://emulator.invalid/uploads/{assignment.assignment_id}"}


# --- Workers: messages and blocks ---------------------------------------------------------


@operation("NotifyWorkers")
def notify_workers(account: Account, params: Params) -> Result:
    worker_ids = params["WorkerIds"]
    if not 1 <= len(worker_ids) <= MAX_NOTIFIED_WORKERS:
        raise _invalid(f"WorkerIds must name between 1 and {MAX_NOTIFIED_WORKERS} workers.")
    if not params["Subject"].strip() or len(params["Subject"]) > MAX_SUBJECT:
        raise _invalid(f"Subject must be between 1 and {MAX_SUBJECT} characters.")
    if not params["MessageText"].strip() or len(params["MessageText"]) > MAX_MESSAGE:
        raise _invalid(f"MessageText must be between 1 and {MAX_MESSAGE} characters.")
    # MTurk e-mails only workers whose work this requester has approved or rejected.
    decided = set(
        Assignment.objects.filter(
            hit__account=account,
            worker_id__in=worker_ids,
            status__in=[Assignment.APPROVED, Assignment.REJECTED],
        ).values_list("worker_id", flat=True)
    )
    failures = []
    for worker_id in dict.fromkeys(worker_ids):
        if worker_id not in decided:
            failures.append(
                {
                    "NotifyWorkersFailureCode": "HardFailure",
                    "NotifyWorkersFailureMessage": f"Cannot send notification to worker {worker_id}: you can "
                    "notify only workers whose work you have approved or rejected.",
                    "WorkerId": worker_id,
                }
            )
            continue
        WorkerMessage.objects.create(
            account=account, worker_id=worker_id, subject=params["Subject"], message=params["MessageText"]
        )
    return {"NotifyWorkersFailureStatuses": failures}


@operation("CreateWorkerBlock")
def create_worker_block(account: Account, params: Params) -> Result:
    if not params["Reason"].strip():
        raise _invalid("Reason must not be empty.")
    WorkerBlock.objects.update_or_create(
        account=account, worker_id=params["WorkerId"], defaults={"reason": params["Reason"]}
    )
    return {}


@operation("DeleteWorkerBlock")
def delete_worker_block(account: Account, params: Params) -> Result:
    WorkerBlock.objects.filter(account=account, worker_id=params["WorkerId"]).delete()
    return {}


@operation("ListWorkerBlocks")
def list_worker_blocks(account: Account, params: Params) -> Result:
    blocks = list(WorkerBlock.objects.filter(account=account).order_by("created", "id"))
    return _paged("WorkerBlocks", blocks, params, lambda b: {"WorkerId": b.worker_id, "Reason": b.reason})


# --- Qualifications -----------------------------------------------------------------------


def _retry_delay(params: Params) -> int | None:
    delay = params.get("RetryDelayInSeconds")
    if delay is not None and delay < 0:
        raise _invalid("RetryDelayInSeconds cannot be negative.")
    return delay


@operation("CreateQualificationType")
def create_qualification_type(account: Account, params: Params) -> Result:
    name = params["Name"].strip()
    if not name:
        raise _invalid("Name must not be empty.")
    if QualificationType.objects.filter(account=account, name=name, deleted=False).exists():
        raise RequestError(
            f"You have already created a QualificationType with this name: {name}.",
            "AWS.MechanicalTurk.QualificationTypeAlreadyExists",
        )
    if params.get("AnswerKey") and not params.get("Test"):
        raise _invalid("An AnswerKey needs a Test.")
    if params.get("Test") and params.get("AutoGranted"):
        raise _invalid("A qualification type with a Test cannot be AutoGranted.")
    qtype = QualificationType.objects.create(
        account=account,
        name=name,
        description=params["Description"],
        keywords=params.get("Keywords", ""),
        status=params["QualificationTypeStatus"],
        retry_delay=_retry_delay(params),
        test=params.get("Test", ""),
        answer_key=params.get("AnswerKey", ""),
        test_duration=params.get("TestDurationInSeconds"),
        auto_granted=params.get("AutoGranted", False),
        auto_granted_value=params.get("AutoGrantedValue", 1 if params.get("AutoGranted") else None),
    )
    return {"QualificationType": qualification_type_output(qtype)}


@operation("GetQualificationType")
def get_qualification_type(account: Account, params: Params) -> Result:
    qtype = _qualification_type(account, params["QualificationTypeId"], owned=False)
    return {"QualificationType": qualification_type_output(qtype)}


@operation("ListQualificationTypes")
def list_qualification_types(account: Account, params: Params) -> Result:
    types: QuerySet[QualificationType] = QualificationType.objects.filter(deleted=False).order_by(
        "created", "id"
    )
    if params.get("MustBeOwnedByCaller"):
        types = types.filter(account=account)
    if params.get("Query"):
        types = types.filter(name__icontains=params["Query"]) | types.filter(
            keywords__icontains=params["Query"]
        )
    if params["MustBeRequestable"]:
        types = types.filter(status="Active")
    return _paged("QualificationTypes", list(types.distinct()), params, qualification_type_output)


@operation("UpdateQualificationType")
def update_qualification_type(account: Account, params: Params) -> Result:
    qtype = _qualification_type(account, params["QualificationTypeId"])
    fields = {
        "Description": "description",
        "QualificationTypeStatus": "status",
        "Test": "test",
        "AnswerKey": "answer_key",
        "TestDurationInSeconds": "test_duration",
        "AutoGranted": "auto_granted",
        "AutoGrantedValue": "auto_granted_value",
    }
    for key, field in fields.items():
        if key in params:
            setattr(qtype, field, params[key])
    if "RetryDelayInSeconds" in params:
        qtype.retry_delay = _retry_delay(params)
    qtype.save()
    return {"QualificationType": qualification_type_output(qtype)}


@operation("DeleteQualificationType")
def delete_qualification_type(account: Account, params: Params) -> Result:
    qtype = _qualification_type(account, params["QualificationTypeId"])
    qtype.deleted = True
    qtype.status = "Inactive"
    qtype.save(update_fields=["deleted", "status"])
    return {}


@operation("AssociateQualificationWithWorker")
def associate_qualification_with_worker(account: Account, params: Params) -> Result:
    qtype = _qualification_type(account, params["QualificationTypeId"])
    SimulatedWorker.objects.get_or_create(worker_id=params["WorkerId"])
    qualifications.grant(qtype, params["WorkerId"], params.get("IntegerValue", 1))
    return {}


@operation("DisassociateQualificationFromWorker")
def disassociate_qualification_from_worker(account: Account, params: Params) -> Result:
    qtype = _qualification_type(account, params["QualificationTypeId"])
    score = Qualification.objects.filter(
        qualification_type=qtype, worker_id=params["WorkerId"], status=Qualification.GRANTED
    ).first()
    if score is None:
        raise RequestError(
            f"Worker {params['WorkerId']} does not hold qualification {qtype.qualification_type_id}.",
            "AWS.MechanicalTurk.QualificationDoesNotExist",
        )
    score.status = Qualification.REVOKED
    score.revoked_time = timezone.now()
    score.save(update_fields=["status", "revoked_time"])
    return {}


@operation("GetQualificationScore")
def get_qualification_score(account: Account, params: Params) -> Result:
    qtype = _qualification_type(account, params["QualificationTypeId"])
    score = (
        Qualification.objects.select_related("qualification_type")
        .filter(qualification_type=qtype, worker_id=params["WorkerId"])
        .first()
    )
    if score is None:
        raise RequestError(
            "You requested a Qualification that does not exist.",
            "AWS.MechanicalTurk.QualificationDoesNotExist",
        )
    if score.status != Qualification.GRANTED:
        # A disassociated (revoked) qualification is not answered, as on MTurk.
        raise RequestError(
            f"This Qualification is currently in the state '{score.status}'. This operation can be called "
            f"with a status of: {Qualification.GRANTED}",
            "AWS.MechanicalTurk.InvalidQualificationState",
        )
    return {"Qualification": qualification_output(score)}


@operation("ListWorkersWithQualificationType")
def list_workers_with_qualification_type(account: Account, params: Params) -> Result:
    qtype = _qualification_type(account, params["QualificationTypeId"])
    scores = qtype.scores.select_related("qualification_type").order_by("grant_time", "id")
    if params.get("Status"):
        scores = scores.filter(status=params["Status"])
    return _paged("Qualifications", list(scores), params, qualification_output)


@operation("ListHITsForQualificationType")
def list_hits_for_qualification_type(account: Account, params: Params) -> Result:
    type_id = params["QualificationTypeId"]
    if type_id not in qualifications.SYSTEM_TYPES:
        _qualification_type(account, type_id, owned=False)
    hits = _listed_hits(account)
    using = [
        hit
        for hit in hits
        if any(r["QualificationTypeId"] == type_id for r in hit.qualification_requirements)
    ]
    return _paged_hits(using, params)


@operation("ListQualificationRequests")
def list_qualification_requests(account: Account, params: Params) -> Result:
    requests = QualificationRequest.objects.filter(
        qualification_type__account=account, status=QualificationRequest.PENDING
    ).select_related("qualification_type")
    if params.get("QualificationTypeId"):
        requests = requests.filter(qualification_type__qualification_type_id=params["QualificationTypeId"])
    return _paged(
        "QualificationRequests", list(requests.order_by("submit_time", "id")), params, _request_output
    )


def _request_output(request: QualificationRequest) -> Result:
    output = {
        "QualificationRequestId": request.request_id,
        "QualificationTypeId": request.qualification_type.qualification_type_id,
        "WorkerId": request.worker_id,
        "SubmitTime": request.submit_time,
    }
    if request.test:
        output["Test"] = request.test
    if request.answer:
        output["Answer"] = request.answer
    return output


def _pending_request(account: Account, request_id: str) -> QualificationRequest:
    request = (
        QualificationRequest.objects.select_for_update()
        .select_related("qualification_type")
        .filter(
            request_id=request_id, qualification_type__account=account, status=QualificationRequest.PENDING
        )
        .first()
    )
    if request is None:
        raise RequestError(
            f"Qualification request {request_id} does not exist or has already been decided.",
            "AWS.MechanicalTurk.QualificationRequestDoesNotExist",
        )
    return request


@operation("AcceptQualificationRequest")
def accept_qualification_request(account: Account, params: Params) -> Result:
    request = _pending_request(account, params["QualificationRequestId"])
    qualifications.grant(request.qualification_type, request.worker_id, params.get("IntegerValue", 1))
    request.status = QualificationRequest.ACCEPTED
    request.decided_time = timezone.now()
    request.save(update_fields=["status", "decided_time"])
    return {}


@operation("RejectQualificationRequest")
def reject_qualification_request(account: Account, params: Params) -> Result:
    request = _pending_request(account, params["QualificationRequestId"])
    request.status = QualificationRequest.REJECTED
    request.decided_time = timezone.now()
    request.reason = params.get("Reason", "")
    request.save(update_fields=["status", "decided_time", "reason"])
    return {}
