"""Work crowdhr hosts itself: items answered on crowdhr's own pages, not on the platform.

On a platform without HTML forms (Prolific) a batch's items cannot be posted one HIT each: the
batch is one study (a real HIT), and each item is an Outsourcer with one *hosted* HIT, a row the
platform never sees (reward 0, `hit_type_id` HOSTED_HIT_TYPE). Its assignments are the answers
participants gave on crowdhr's pages, stored by crowdhr (`hosted_assignment_store`) once the
participant's submission of the study is in; review decides them by consensus exactly as on
MTurk. What follows from that:

- the review sync asks the platform nothing about a hosted HIT (`hits.review.sync`);
- deciding a hosted assignment moves no money and calls no platform (`hits.payments`): the ledger
  row (amount 0) is claimed and finished exactly once like any other, and scores follow;
- money a hosted assignment earns (an achievement bonus) is paid against the platform's
  submission it was answered in (`paid_through`): Prolific pays bonuses only to its submissions.

A hosted assignment's id is `<submission id>:<position in the participant's set>`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from crowdhr import audit
from crowdhr.audit import User
from hits.models import HIT, Assignment, Outsourcer, RejectionPolicy
from hits.task_types import COMMENTS_FIELD, CONFUSED_FIELD, get_task_type
from platforms.base import dump_destination
from platforms.models import PlatformAccount
from workers.models import Worker

HOSTED_HIT_TYPE = "crowdhr-hosted"
SEPARATOR = ":"


def is_hosted(hit: HIT) -> bool:
    """Whether the HIT is crowdhr's own (the platform knows nothing of it)."""
    return hit.hit_type_id == HOSTED_HIT_TYPE


def hosted_assignment_id(submission_id: str, position: int) -> str:
    return f"{submission_id}{SEPARATOR}{position}"


def paid_through(assignment: Assignment) -> Assignment:
    """The platform's assignment that money for `assignment` goes to: itself, or for a hosted
    assignment the submission it was answered in (stored before any hosted assignment is); when
    the platform never received that submission (the worker left), the worker's latest one for
    this account (`latest_payable`). Raises Assignment.DoesNotExist when there is none."""
    if not is_hosted(assignment.hit):
        return assignment
    submission_id = assignment.assignment_id.rsplit(SEPARATOR, 1)[0]
    found = (
        Assignment.objects.select_related("hit__outsourcer__account", "worker")
        .filter(assignment_id=submission_id)
        .first()
    )
    if found is None:
        found = latest_payable(worker=assignment.worker, account=assignment.hit.outsourcer.account)
    if found is None:
        raise Assignment.DoesNotExist(f"No assignment of {assignment.worker} to pay on.")
    return found


#: the platform statuses of an assignment a bonus can be paid on (MTurk: submitted or approved)
PAYABLE = (Assignment.PlatformStatus.SUBMITTED, Assignment.PlatformStatus.APPROVED)


def latest_payable(*, worker: Worker, account: PlatformAccount) -> Assignment | None:
    """The worker's latest submitted or approved assignment on the platform for this account: where
    pay goes that their own assignment cannot carry (they left, so the platform never received it:
    MTurk's abandoned assignment, Prolific's returned or timed-out submission)."""
    return (
        Assignment.objects.filter(
            worker=worker, hit__outsourcer__account=account, platform_status__in=PAYABLE
        )
        .exclude(hit__hit_type_id=HOSTED_HIT_TYPE)
        .select_related("hit__outsourcer__account", "worker")
        .order_by("-submit_time", "-pk")
        .first()
    )


def hosted_outsourcer_create(
    *,
    owner: Any,
    account: PlatformAccount,
    experiment: Any,
    task_type: str,
    target: str,
    inputs: dict[str, Any],
    task_config: dict[str, Any],
    assignments_required: int,
    agreements_required: int,
    by: User | None,
) -> Outsourcer:
    """An item answered on crowdhr's pages: its Outsourcer and hosted HIT (live at once, nothing is
    posted, reward 0). Nothing is paid for an item, so rejecting one is a plain rejection: the
    experiment's rejection policy applies to the participant's submission."""
    task = get_task_type(task_type, task_config)
    if agreements_required > assignments_required:
        raise ValueError("Agreements required cannot exceed the assignments asked for.")
    with transaction.atomic():
        outsourcer = Outsourcer.objects.create(
            owner=owner,
            account=account,
            experiment=experiment,
            target=target,
            task_type=task_type,
            task_config=task_config,
            inputs=inputs,
            on_rejection=RejectionPolicy.REJECT,
        )
        token = f"{HOSTED_HIT_TYPE}-{outsourcer.pk}"
        HIT.objects.create(
            outsourcer=outsourcer,
            owner_id=outsourcer.owner_id,
            hit_id=token,
            hit_type_id=HOSTED_HIT_TYPE,
            creation_token=token,
            environment=account.environment,
            status=HIT.Status.LIVE,
            assignments_required=assignments_required,
            agreements_required=agreements_required,
            max_assignments=assignments_required,
            title=f"Item {target}",
            description="An item answered on crowdhr's own pages.",
            reward=Decimal("0.00"),
            question=dump_destination(task.html_form(inputs)),
        )
        audit.record(by=by, action="create", obj=outsourcer, task_type=task_type, hosted=True)
    return outsourcer


def hosted_assignment_store(
    *,
    hit: HIT,
    worker: Worker,
    submission_id: str,
    position: int,
    answers: dict[str, Any],
    accept_time: datetime | None,
    submit_time: datetime | None,
) -> Assignment:
    """Store one answer given on crowdhr's pages as an assignment of the item's hosted HIT (once)."""
    assignment, created = Assignment.objects.get_or_create(
        assignment_id=hosted_assignment_id(submission_id, position),
        defaults={
            "hit": hit,
            "owner_id": hit.owner_id,
            "worker": worker,
            "platform_status": Assignment.PlatformStatus.SUBMITTED,
            "answers": answers,
            "confused": str(answers.get(CONFUSED_FIELD, "")).strip().lower() in {"yes", "on", "true", "1"},
            "comments": str(answers.get(COMMENTS_FIELD, "")).strip(),
            "accept_time": accept_time,
            "submit_time": submit_time,
        },
    )
    if created:
        count_assignments(hit)
    return assignment


def count_assignments(hit: HIT) -> None:
    """What the sync records for a platform's HIT, from crowdhr's own rows."""
    seen = Assignment.objects.filter(hit=hit).count()
    new = Assignment.objects.filter(hit=hit, after_last_reopen=True).count()
    HIT.objects.filter(pk=hit.pk).update(assignments_seen=seen, num_new_assignments=new)
    hit.assignments_seen, hit.num_new_assignments = seen, new
