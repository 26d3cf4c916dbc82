"""Syncing what the platform reports: every assignment is stored before anything is decided.

Decisions the platform made on its own (automatic approval after the delay) are recorded in
the ledger as they stand, with the scores they earn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from hits import payments
from hits.hosted import count_assignments, is_hosted
from hits.models import HIT, Assignment
from platforms import PlatformAssignment, platform_for
from workers.models import Worker


@dataclass(frozen=True)
class Listing:
    """What listing a HIT's assignments brought: how many were new, and whether the platform shows
    any submitted work it has not decided (which crowdhr may have left to decide)."""

    new: int = 0
    submitted: bool = False


def fetch_assignments(hit: HIT) -> int:
    """List the HIT's assignments on the platform and store them; returns how many were new."""
    return list_and_store(hit).new


def list_and_store(hit: HIT) -> Listing:
    """List the HIT's assignments on the platform and store them.

    A hosted HIT (`hits.hosted`) is crowdhr's own: its assignments are stored by crowdhr as they
    come, so nothing is asked of the platform (which does not know the HIT)."""
    if is_hosted(hit):
        count_assignments(hit)
        return Listing()
    listed = platform_for(hit.outsourcer.account).list_assignments(hit.hit_id)
    return Listing(
        new=store_assignments(hit, listed),
        submitted=any(a.status == Assignment.PlatformStatus.SUBMITTED for a in listed),
    )


def store_assignments(hit: HIT, listed: Sequence[PlatformAssignment]) -> int:
    """Store every reported assignment before anything is decided; returns how many were new.
    The HIT's counts are updated in the database (read them from there)."""
    if not listed:
        return 0
    known = dict(
        Assignment.objects.filter(assignment_id__in=[a.assignment_id for a in listed]).values_list(
            "assignment_id", "platform_status"
        )
    )
    fresh = [a for a in listed if a.assignment_id not in known]
    if fresh:
        with transaction.atomic():  # one transaction for the workers and the assignments
            _create_assignments(hit, fresh)
    changed = [a for a in listed if a.assignment_id in known and known[a.assignment_id] != a.status]
    for reported in changed:
        _record_platform_status(reported)
    HIT.objects.filter(pk=hit.pk).update(
        assignments_seen=_stored(),
        num_new_assignments=_stored(after_last_reopen=True),
        **({"last_updated": timezone.now()} if fresh else {}),
    )
    return len(fresh)


def _stored(**narrowed: object) -> Coalesce:
    """How many assignments of the HIT being updated are stored (counted inside the UPDATE)."""
    rows = Assignment.objects.filter(hit=OuterRef("pk"), **narrowed).order_by().values("hit")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


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
    reopened = _last_reopen_time(hit)
    rows = [
        Assignment(
            hit=hit,
            owner_id=hit.owner_id,
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


def with_last_reopen(hits: QuerySet[HIT]) -> QuerySet[HIT]:
    """HITs with their Outsourcer's last reopen time (`last_reopen`), read with them: storing their
    assignments then needs no query for it."""
    reopens = HIT.objects.filter(outsourcer=OuterRef("outsourcer"), last_reopen_time__isnull=False)
    return hits.annotate(
        last_reopen=Subquery(reopens.order_by("-last_reopen_time").values("last_reopen_time")[:1])
    )


def _last_reopen_time(hit: HIT) -> datetime | None:
    if hasattr(hit, "last_reopen"):
        return hit.last_reopen
    return hit.outsourcer.hits.aggregate(last=Max("last_reopen_time"))["last"]


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
