"""The review cycle: Celery beat (and `manage.py process_hits`) runs it every minute.

It finishes half-done work from earlier cycles, then finds the HITs with news (`hits.review.news`:
one cheap HIT listing per account, compared with what the review last saw), reviews them in
shards of SHARD_SIZE HIT ids (sync what the platform reports, then decide), then sends changed
qualification scores. Beat fans the shards out as Celery tasks (`hits.tasks.review_shard`), so
more worker processes review more HITs; `process_hits` runs them inline. A HIT's decisions are
leased to one reviewer at a time (a PostgreSQL advisory lock, free again within seconds of a
killed holder; a time-based lease on SQLite); what the platform reports is stored even while
another reviewer holds the lease.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from queue import Empty, SimpleQueue

from django import db
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from crowdhr import locks
from hits import followups, payments
from hits.models import HIT
from hits.review.decide import retirement, review_outsourcer, with_decision_state
from hits.review.news import Look, hits_to_look_at, seen_counts
from hits.review.report import CycleReport
from hits.review.sync import Listing, fetch_assignments, list_and_store, with_last_reopen
from hits.services import hits_finish_creating
from platforms import PlatformError
from workers import scoring

logger = logging.getLogger("hits.review")

HIT_LEASE = timedelta(minutes=5)
#: HITs one shard task reviews: small enough that many worker processes share a cycle
SHARD_SIZE = 200


def review_active_hits(
    *, limit: int | None = None, full: bool = False, fan_out: Callable[[list[Look]], object] | None = None
) -> CycleReport:
    """One review cycle over every HIT with news (every active HIT when `full`: the hourly sweep).

    With `fan_out` (beat: queue a Celery task) each shard is handed to it and the report counts
    the HITs queued; otherwise the shards are reviewed here, one after the other. Counters
    (streaks, totals) are synced here, once per cycle; the gating Quality Score by each shard.
    """
    hits_finish_creating()
    payments.settle_pending()
    followups.run_pending()
    looks = hits_to_look_at(full=full)[:limit]
    shards = [looks[start : start + SHARD_SIZE] for start in range(0, len(looks), SHARD_SIZE)]
    if fan_out is not None:
        for shard in shards:
            fan_out(shard)
        report = CycleReport(queued=len(looks))
    else:
        report = CycleReport.combined([review_shard(shard) for shard in shards])
    scoring.bans_expire()
    scoring.sync_qualifications()
    scoring.sync_bans()
    logger.info("review cycle", extra=report.counts())
    return report


def review_shard(looks: Sequence[Look]) -> CycleReport:
    """Review one shard of a cycle's HITs, `REVIEW_THREADS` at once (most of a review waits for
    the platform; the HIT lease keeps two reviewers, threads or processes, off the same HIT),
    then sync the Quality Scores its decisions changed: the score that gates work."""
    threads = max(1, min(settings.REVIEW_THREADS, len(looks)))
    if threads == 1:
        report = CycleReport.combined([_review_safely(look) for look in looks])
    else:
        waiting: SimpleQueue[Look] = SimpleQueue()
        for look in looks:
            waiting.put(look)
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="review") as pool:
            report = CycleReport.combined(list(pool.map(_reviewer, [waiting] * threads)))
    if report.approved or report.rejected:
        scoring.sync_qualifications(qualifications=scoring.GATING)
    return report


def _review_safely(look: Look) -> CycleReport:
    report = CycleReport()
    try:
        handle_hit(look.hit_pk, report, listing=look.listing, counts=look.counts)
    except PlatformError as error:
        report.errors.append(f"HIT {look.hit_pk}: {error}")
        logger.warning("review of a HIT failed", extra={"hit": look.hit_pk, "error": str(error)})
    return report


def _reviewer(waiting: SimpleQueue[Look]) -> CycleReport:
    """One thread of a shard: reviews HITs until none wait, on one connection of its own (opening
    one per HIT would cost more than most HITs' review)."""
    reports = []
    try:
        while True:
            try:
                reports.append(_review_safely(waiting.get_nowait()))
            except Empty:
                return CycleReport.combined(reports)
    finally:
        db.connections.close_all()


def handle_hit(
    hit_pk: int, report: CycleReport | None = None, *, listing: bool = True, counts: str = ""
) -> bool:
    """Review one HIT if no other worker holds it. Returns False when another worker had it.

    `listing`: list its assignments on the platform first (False: decide what is stored);
    `counts`: what the cheap check saw (`hits.review.news`), recorded once the listing is stored.
    """
    report = report or CycleReport()
    hit, leased = _read_and_lease(hit_pk)
    if not leased:
        # Submitted work is stored at once even so: storing is safe to repeat, deciding is leased.
        if listing:
            report.stored += fetch_assignments(hit)
        return False
    reviewed: dict[str, object] = {}
    try:
        listed = list_and_store(hit) if listing else Listing(submitted=True)
        report.stored += listed.new
        report.hits += 1
        decided_before = report.approved + report.rejected
        # Nothing to decide unless the Outsourcer had undecided work as read or the platform shows
        # submitted work: any other HIT's work is stored and decided by that HIT's reviewer.
        if listed.submitted or getattr(hit, "undecided_work", True):
            review_outsourcer(hit.outsourcer, report, hit=hit)
        if counts:
            decided = report.approved + report.rejected - decided_before
            reviewed["platform_counts"] = seen_counts(hit, counts, decided=decided)
        reviewed["active"] = retirement(hit)
    finally:
        _release(hit_pk, **reviewed)
    return True


@functools.cache
def _for_review() -> QuerySet[HIT]:
    """HITs with all their review reads: the Outsourcer, its account and owner, the last reopen, and
    what deciding needs to know first. Built once (building it costs more than running it); it is
    only ever narrowed, never evaluated itself, so threads share it safely."""
    hits = HIT.objects.select_related("outsourcer__account", "outsourcer__owner")
    return with_decision_state(with_last_reopen(hits))


def _read_and_lease(hit_pk: int) -> tuple[HIT, bool]:
    """The HIT with its review reads (`_for_review`), and whether its decisions are now leased to
    this process. On PostgreSQL the lease is a session advisory lock taken by the read
    itself, released by PostgreSQL within seconds of its holder dying (its connection closes): a
    dead holder's HIT is found again by the next cycle, its news not yet recorded. Elsewhere
    (SQLite) the lease is `review_lease_until`, which a dead holder's lease runs out after."""
    if locks.available():  # taken by the read; HIT rows are never deleted, so it is never left behind
        hit = _for_review().annotate(leased=locks.try_hold_condition("hit", hit_pk)).get(pk=hit_pk)
        return hit, hit.leased
    return _for_review().get(pk=hit_pk), _lease(hit_pk)


def _lease(hit_pk: int) -> bool:
    """Lease a HIT's decisions to this process by time (where there are no advisory locks)."""
    now = timezone.now()
    free = Q(review_lease_until__isnull=True) | Q(review_lease_until__lt=now)
    return bool(HIT.objects.filter(free, pk=hit_pk).update(review_lease_until=now + HIT_LEASE))


def _release(hit_pk: int, **reviewed: object) -> None:
    """Let go of the lease, recording what the review concluded in the same UPDATE (on PostgreSQL
    the advisory lock is let go of by that UPDATE too)."""
    rows = HIT.objects.filter(pk=hit_pk)
    if locks.available():
        rows = rows.filter(locks.release_condition("hit", hit_pk))
    rows.update(review_lease_until=None, **reviewed)
