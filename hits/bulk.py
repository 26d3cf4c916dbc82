"""The researcher's operations on many HITs at once, run in the request or as a Celery task.

Each operation calls one service per Outsourcer (expire, reopen, ...) or per HIT (approve all,
reject all). One failure does not stop the others: it is recorded and the run goes on. Long runs
record their `Progress` so the admin can show done/total and errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F
from django.utils import timezone

from crowdhr.audit import User
from crowdhr.errors import Refusal
from crowdhr.rows import Outcome, run_each
from hits import services
from hits.models import HIT, Assignment, Outsourcer, Progress
from platforms import PlatformError

#: more HITs than this selected: the work runs as a Celery task with a progress page
BACKGROUND_OVER = 20


@dataclass(frozen=True)
class Operation:
    verb: str  # "expired", for the count message
    on: type[Outsourcer | HIT | Assignment]
    run: Callable[[Any, dict[str, Any], User | None], int]  # returns how many things changed


OPERATIONS: dict[str, Operation] = {
    "delete": Operation(
        "deleted", Outsourcer, lambda o, d, by: int(bool(services.outsourcer_delete(outsourcer=o, by=by)))
    ),
    "expire": Operation(
        "expired", Outsourcer, lambda o, d, by: services.outsourcer_expire(outsourcer=o, by=by)
    ),
    "unexpire": Operation(
        "unexpired", Outsourcer, lambda o, d, by: services.outsourcer_unexpire(outsourcer=o, by=by)
    ),
    "reopen": Operation(
        "reopened", Outsourcer, lambda o, d, by: int(bool(services.outsourcer_reopen(outsourcer=o, by=by)))
    ),
    "flag": Operation(
        "flagged for review",
        Outsourcer,
        lambda o, d, by: services.outsourcer_flag(
            outsourcer=o, problem=d.get("problem") or f"Flagged by {by}", by=by
        ),
    ),
    "unflag": Operation(
        "unflagged", Outsourcer, lambda o, d, by: services.outsourcer_unflag(outsourcer=o, by=by)
    ),
    "approve_all": Operation(
        "approved", HIT, lambda h, d, by: services.hit_decide_all(hit=h, approve=True, by=by)
    ),
    "reject_all": Operation(
        "rejected",
        HIT,
        lambda h, d, by: services.hit_decide_all(hit=h, approve=False, feedback=d.get("feedback", ""), by=by),
    ),
    "approve_assignments": Operation(
        "approved", Assignment, lambda a, d, by: services.assignment_approve(assignment=a, by=by)
    ),
    "reject_assignments": Operation(
        "rejected",
        Assignment,
        lambda a, d, by: services.assignment_reject(assignment=a, feedback=d.get("feedback", ""), by=by),
    ),
}

#: what each kind of row needs loaded to be worked on
_RELATED = {
    Outsourcer: ["account"],
    HIT: ["outsourcer__account"],
    Assignment: ["hit__outsourcer__account", "worker"],
}
#: more assignments than this selected: the decisions run as a Celery task
BACKGROUND_OVER_ASSIGNMENTS = 100


def targets_of(operation: str, hit_ids: Sequence[int]) -> list[int]:
    """The ids the operation runs on: the HITs themselves, or their distinct Outsourcers."""
    if OPERATIONS[operation].on is not Outsourcer:
        return sorted(hit_ids)
    return sorted(set(HIT.objects.filter(pk__in=hit_ids).values_list("outsourcer_id", flat=True)))


def run_operation(
    operation: str,
    ids: Sequence[int],
    *,
    data: dict[str, Any],
    by: User | None,
    progress: Progress | None = None,
) -> Outcome:
    """Run one operation over Outsourcer, HIT or Assignment ids, recording progress and errors."""
    op = OPERATIONS[operation]
    rows = op.on.objects.filter(pk__in=ids).select_related(*_RELATED[op.on]).order_by("pk")
    outcome = run_each(
        rows,
        lambda row: op.run(row, data, by),
        refusals=(Refusal, PlatformError),
        after_row=(lambda done: _record_progress(progress, done)) if progress else None,
    )
    if progress:
        Progress.objects.filter(pk=progress.pk).update(finished=timezone.now(), errors=outcome.errors)
    return outcome


def _record_progress(progress: Progress, outcome: Outcome) -> None:
    Progress.objects.filter(pk=progress.pk).update(done=F("done") + 1, errors=outcome.errors)
