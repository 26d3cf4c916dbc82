"""Thin Celery tasks: take ids, call one service."""

from __future__ import annotations

from celery import shared_task

from hits import review


@shared_task(acks_late=True)
def review_active_hits() -> dict[str, int]:
    """The review cycle that Celery beat runs every minute."""
    report = review.review_active_hits()
    return {
        "hits": report.hits,
        "stored": report.stored,
        "approved": report.approved,
        "rejected": report.rejected,
        "flagged": report.flagged,
        "errors": len(report.errors),
    }
