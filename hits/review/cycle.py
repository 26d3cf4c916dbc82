"""The review cycle: Celery beat (and `manage.py process_hits`) runs it every minute.

It finishes half-done work from earlier cycles, then reviews every active HIT whose Outsourcer
is not waiting for a person (sync what the platform reports, then decide), then sends changed
qualification scores. A HIT's decisions are leased to one reviewer at a time (a PostgreSQL
advisory lock, free again within seconds of a killed holder; a time-based lease on SQLite); what
the platform reports is stored even while another reviewer holds the lease.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django import db
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from crowdhr import locks
from hits import followups, payments
from hits.models import HIT
from hits.review.decide import retire_if_finished, review_outsourcer
from hits.review.report import CycleReport
from hits.review.sync import fetch_assignments
from hits.services import hits_finish_creating
from platforms import PlatformError
from workers import scoring

logger = logging.getLogger("hits.review")

HIT_LEASE = timedelta(minutes=5)


def review_active_hits(*, limit: int | None = None) -> CycleReport:
    """One review cycle over every HIT that may have news.

    HITs are reviewed by `REVIEW_THREADS` threads at once: most of a review is waiting for the
    platform, and the HIT lease keeps two reviewers (threads or processes) off the same HIT.
    """
    hits_finish_creating()
    payments.settle_pending()
    followups.run_pending()
    queue = HIT.objects.to_review().order_by("review_lease_until", "pk").values_list("pk", flat=True)
    ids = list(queue[:limit] if limit else queue)
    threads = max(1, min(settings.REVIEW_THREADS, len(ids)))
    if threads == 1:
        reports = [_review_safely(hit_pk) for hit_pk in ids]
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="review") as pool:
            reports = list(pool.map(_review_in_thread, ids))
    report = CycleReport.combined(reports)
    scoring.bans_expire()
    scoring.sync_qualifications()
    scoring.sync_bans()
    logger.info("review cycle", extra=report.counts())
    return report


def _review_safely(hit_pk: int) -> CycleReport:
    report = CycleReport()
    try:
        handle_hit(hit_pk, report)
    except PlatformError as error:
        report.errors.append(f"HIT {hit_pk}: {error}")
        logger.warning("review of a HIT failed", extra={"hit": hit_pk, "error": str(error)})
    return report


def _review_in_thread(hit_pk: int) -> CycleReport:
    try:
        return _review_safely(hit_pk)
    finally:
        db.connections.close_all()


def handle_hit(hit_pk: int, report: CycleReport | None = None) -> bool:
    """Review one HIT if no other worker holds it. Returns False when another worker had it."""
    report = report or CycleReport()
    hit = HIT.objects.select_related("outsourcer__account", "outsourcer__owner").get(pk=hit_pk)
    if not _lease(hit_pk):
        # Submitted work is stored at once even so: storing is safe to repeat, deciding is leased.
        report.stored += fetch_assignments(hit)
        return False
    try:
        report.stored += fetch_assignments(hit)
        report.hits += 1
        review_outsourcer(hit.outsourcer, report)
        retire_if_finished(hit)
    finally:
        _release(hit_pk)
    return True


def _lease(hit_pk: int) -> bool:
    """Lease a HIT's decisions to this process. On PostgreSQL the lease is a session advisory lock,
    released by PostgreSQL within seconds of its holder dying (its connection closes); the time-based
    `review_lease_until` is written too (for the admin and the to-review order) but not waited on.
    Elsewhere (SQLite) a dead holder's lease runs out after HIT_LEASE."""
    now = timezone.now()
    if locks.available():
        if not locks.try_hold("hit", hit_pk):
            return False
        HIT.objects.filter(pk=hit_pk).update(review_lease_until=now + HIT_LEASE)
        return True
    free = Q(review_lease_until__isnull=True) | Q(review_lease_until__lt=now)
    return bool(HIT.objects.filter(free, pk=hit_pk).update(review_lease_until=now + HIT_LEASE))


def _release(hit_pk: int) -> None:
    HIT.objects.filter(pk=hit_pk).update(review_lease_until=None)
    if locks.available():
        locks.release("hit", hit_pk)
