"""Thin Celery tasks for hosted tasks."""

from __future__ import annotations

from celery import shared_task

from experiments.workflow.services import places_left


@shared_task(acks_late=True)
def end_places_left() -> int:
    """Places not ended within the assignment duration end as 'left' (their open tasks freed)."""
    return places_left()
