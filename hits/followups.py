"""A decision's follow-ups, finished by whichever process comes next.

The task type's follow-ups (`perform_additional_approval_tasks` / `..._rejection_tasks`: for an
oTree study the payoff bonus and the "previous participant" qualification) are owed once the
platform took the decision. `enqueue` writes a `FollowUp` row in the transaction that records the
decision's success (`hits.payments`), so the debt is durable before anyone tries to pay it; the
reviewer that made the decision runs it at once (`run_for`), and every review cycle runs what is
left (`run_pending`), so a process killed between the approval and the payoff costs the worker one
cycle, never the payoff.

Follow-ups run at least once and must be idempotent by key (the payoff bonus is keyed per worker
and study in the ledger; setting a qualification twice sets it once). A follow-up is claimed with a
conditional update (`pending` -> `running`, or a `running` one whose holder is gone: on PostgreSQL
the claim is also a session advisory lock, so a killed holder's follow-up is free in seconds); one that
fails waits RETRY_DELAY (longer each time) so it cannot crash-loop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from crowdhr import locks
from hits.models import Assignment, FollowUp
from hits.task_types import TaskType, get_task_type, has_follow_ups

logger = logging.getLogger(__name__)

#: a `running` follow-up older than this is taken to belong to a process that died
RUNNING_LEASE = timedelta(seconds=60)
RETRY_DELAY = timedelta(seconds=30)
MAX_RETRY_DELAY = timedelta(minutes=30)


def enqueue(assignment: Assignment) -> None:
    """Owe the decided assignment its follow-ups (inside the transaction recording the decision)."""
    enqueue_all([assignment])


def enqueue_all(assignments: Sequence[Assignment]) -> None:
    """Owe each decided assignment its follow-ups, in one query; nothing for a task type that has
    none (`has_follow_ups`)."""
    owed = [a for a in assignments if has_follow_ups(a.hit.outsourcer.task_type)]
    FollowUp.objects.bulk_create(
        [FollowUp(key=f"decision:{a.assignment_id}", assignment=a) for a in owed], ignore_conflicts=True
    )


def run_for(assignments: Sequence[Assignment], *, task: TaskType | None = None) -> int:
    """Run the assignments' follow-ups now if they are owed and nobody else runs them."""
    owed = [a.pk for a in assignments if has_follow_ups(a.hit.outsourcer.task_type)]
    if not owed:
        return 0
    pending = FollowUp.objects.filter(assignment__in=owed, status=FollowUp.Status.PENDING)
    return sum(_run(follow_up, task=task) for follow_up in pending.order_by("pk"))


def run_pending(*, limit: int = 200) -> int:
    """Finish follow-ups left by earlier cycles (a process killed, a temporary failure); returns how many."""
    now = timezone.now()
    due = FollowUp.objects.filter(
        Q(status=FollowUp.Status.PENDING, not_before__isnull=True)
        | Q(status=FollowUp.Status.PENDING, not_before__lte=now)
        | Q(
            status=FollowUp.Status.RUNNING,
            claimed_at__lt=now - (timedelta(0) if locks.available() else RUNNING_LEASE),
        )
    )
    return sum(_run(follow_up) for follow_up in due.order_by("created", "pk")[:limit])


def run_owed(owed: Iterable[FollowUp]) -> int:
    """Run these follow-ups now (reconcile's repair), postponed or not, each claimed first so none
    runs twice; returns how many were done."""
    return sum(_run(follow_up) for follow_up in owed)


def _run(follow_up: FollowUp, *, task: TaskType | None = None) -> int:
    held = locks.available() and locks.try_hold("follow_up", follow_up.pk)
    if locks.available() and not held:
        return 0  # another live process runs it
    try:
        return _claim(follow_up, held=held) and _perform(follow_up, task)
    finally:
        if held:
            locks.release("follow_up", follow_up.pk)


def _perform(follow_up: FollowUp, task: TaskType | None) -> int:
    assignment = Assignment.objects.select_related("hit__outsourcer__account", "worker").get(
        pk=follow_up.assignment_id
    )
    outsourcer = assignment.hit.outsourcer
    try:
        task = task or get_task_type(outsourcer.task_type, outsourcer.task_config)
        assignment_dict = task.create_assignment_dict(assignment)
        if assignment.decision == Assignment.Decision.APPROVED:
            task.perform_additional_approval_tasks(assignment_dict)
        else:
            task.perform_additional_rejection_tasks(assignment_dict)
    except Exception as error:  # any failure: the follow-up is still owed, later
        _postpone(follow_up, error)
        return 0
    FollowUp.objects.filter(pk=follow_up.pk, status=FollowUp.Status.RUNNING).update(
        status=FollowUp.Status.DONE, done_at=timezone.now(), error=""
    )
    return 1


def _claim(follow_up: FollowUp, *, held: bool) -> bool:
    """Pending, or running for a process that is gone: with the advisory lock held, any running
    row's holder is dead (its lock went with its connection); without one, after RUNNING_LEASE."""
    return locks.claim_row(
        FollowUp,
        follow_up.pk,
        waiting=FollowUp.Status.PENDING,
        in_flight=FollowUp.Status.RUNNING,
        lease=RUNNING_LEASE,
        held=held,
    )


def _postpone(follow_up: FollowUp, error: Exception) -> None:
    follow_up.refresh_from_db(fields=["attempts"])
    delay = min(RETRY_DELAY * 2 ** max(0, follow_up.attempts - 1), MAX_RETRY_DELAY)
    logger.warning(
        "follow-up failed", extra={"follow_up": follow_up.key, "error": str(error), "retry_in": str(delay)}
    )
    FollowUp.objects.filter(pk=follow_up.pk, status=FollowUp.Status.RUNNING).update(
        status=FollowUp.Status.PENDING, error=str(error)[:2000], not_before=timezone.now() + delay
    )
