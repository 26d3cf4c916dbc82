"""Syncing what the platform reports: every assignment is stored before anything is decided.

Decisions the platform made on its own (automatic approval after the delay) are recorded in
the ledger as they stand, with the scores they earn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db.models import Max
from django.utils import timezone

from hits import payments
from hits.hosted import count_assignments, is_hosted
from hits.models import HIT, Assignment, Outsourcer
from platforms import PlatformAssignment, platform_for
from workers.models import Worker


def fetch_assignments(hit: HIT) -> int:
    """List the HIT's assignments on the platform and store them; returns how many were new.

    A hosted HIT (`hits.hosted`) is crowdhr's own: its assignments are stored by crowdhr as they
    come, so nothing is asked of the platform (which does not know the HIT)."""
    if is_hosted(hit):
        count_assignments(hit)
        return 0
    return store_assignments(hit, platform_for(hit.outsourcer.account).list_assignments(hit.hit_id))


def store_assignments(hit: HIT, listed: Sequence[PlatformAssignment]) -> int:
    """Store every reported assignment before anything is decided; returns how many were new."""
    if not listed:
        return 0
    known = dict(
        Assignment.objects.filter(assignment_id__in=[a.assignment_id for a in listed]).values_list(
            "assignment_id", "platform_status"
        )
    )
    fresh = [a for a in listed if a.assignment_id not in known]
    if fresh:
        _create_assignments(hit, fresh)
    changed = [a for a in listed if a.assignment_id in known and known[a.assignment_id] != a.status]
    for reported in changed:
        _record_platform_status(reported)
    seen = Assignment.objects.filter(hit=hit).count()
    new = Assignment.objects.filter(hit=hit, after_last_reopen=True).count()
    HIT.objects.filter(pk=hit.pk).update(
        assignments_seen=seen, num_new_assignments=new, **({"last_updated": timezone.now()} if fresh else {})
    )
    hit.assignments_seen, hit.num_new_assignments = seen, new
    return len(fresh)


def _create_assignments(hit: HIT, fresh: Sequence[PlatformAssignment]) -> None:
    platform_key = hit.outsourcer.account.platform
    Worker.objects.bulk_create(
        [Worker(platform=platform_key, worker_id=a.worker_id) for a in fresh], ignore_conflicts=True
    )
    workers = dict(
        Worker.objects.filter(platform=platform_key, worker_id__in={a.worker_id for a in fresh}).values_list(
            "worker_id", "pk"
        )
    )
    reopened = _last_reopen_time(hit.outsourcer)
    rows = [
        Assignment(
            hit=hit,
            assignment_id=a.assignment_id,
            worker_id=workers[a.worker_id],
            platform_status=a.status,
            answers=a.answers,
            answer_xml=a.answer_xml,
            confused=a.answers.get("confused", "").strip().lower() in {"yes", "on", "true", "1"},
            comments=a.answers.get("comments", "").strip(),
            accept_time=a.accept_time,
            submit_time=a.submit_time,
            auto_approval_time=a.auto_approval_time,
            after_last_reopen=reopened is None or (a.submit_time is not None and a.submit_time >= reopened),
        )
        for a in fresh
    ]
    Assignment.objects.bulk_create(rows, ignore_conflicts=True)
    comments = [
        f"{a.worker_id}: {a.answers['comments'].strip()}"
        for a in fresh
        if a.answers.get("comments", "").strip()
    ]
    if comments:
        HIT.objects.filter(pk=hit.pk).update(comments="\n".join(filter(None, [hit.comments, *comments])))
    for a in fresh:
        if a.status != Assignment.PlatformStatus.SUBMITTED:
            _record_platform_status(a)


def _last_reopen_time(outsourcer: Outsourcer) -> datetime | None:
    return outsourcer.hits.aggregate(last=Max("last_reopen_time"))["last"]


def _record_platform_status(reported: PlatformAssignment) -> None:
    """The platform decided on its own (auto-approval after the delay): record it as it stands."""
    assignment = Assignment.objects.select_related("hit__outsourcer", "worker").get(
        assignment_id=reported.assignment_id
    )
    Assignment.objects.filter(pk=assignment.pk).update(platform_status=reported.status)
    if reported.status in {Assignment.PlatformStatus.APPROVED, Assignment.PlatformStatus.REJECTED}:
        payments.record_platform_decision(
            assignment, approved=reported.status == Assignment.PlatformStatus.APPROVED
        )
