"""Thin Celery tasks of the workers app."""

from __future__ import annotations

from celery import shared_task

from workers import scoring


@shared_task(acks_late=True)
def repair_score_drift() -> list[str]:
    """Beat's periodic check: scores on the platform that drifted from crowdhr's, re-sent."""
    return [str(drift) for drift in scoring.repair_score_drift()]
