"""Thin Celery tasks for hosted tasks."""

from __future__ import annotations

from celery import shared_task

from experiments.workflow.services import failed_tests_record, places_left, places_settle


@shared_task(acks_late=True)
def end_places_left() -> dict[str, int]:
    """Places not ended within the assignment duration end as 'left' (their open tasks freed);
    failed tests not yet on the platform's exclusion list are put there; workers who left without
    handing their work in are paid on another assignment, or flagged for the researcher."""
    return {
        "left": places_left(),
        "failed_tests_recorded": failed_tests_record(),
        "settled": places_settle(),
    }
