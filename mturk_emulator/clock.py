"""Moving time for tests and demos: age HITs and assignments, then let due work happen.

MTurk's clock-driven behaviour (expiry, abandonment, auto-approval) is applied lazily from the
stored timestamps, so "waiting" is shifting those timestamps into the past.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from mturk_emulator import lifecycle
from mturk_emulator.models import HIT, Assignment

ASSIGNMENT_TIMES = (
    "accept_time",
    "deadline",
    "submit_time",
    "auto_approval_time",
    "approval_time",
    "rejection_time",
)


def age_hit(hit_id: str, seconds: float) -> None:
    """Pretend the HIT was created `seconds` earlier (its expiry moves too)."""
    shift = timedelta(seconds=seconds)
    with transaction.atomic():
        hit = HIT.objects.select_for_update().get(hit_id=hit_id)
        hit.created -= shift
        hit.expiration -= shift
        hit.save(update_fields=["created", "expiration"])


def expire_hit(hit_id: str) -> None:
    """Let the HIT's lifetime run out now (as if its expiry had come), then apply what follows."""
    HIT.objects.filter(hit_id=hit_id).update(expiration=timezone.now())
    process_due()


def age_assignment(assignment_id: str, seconds: float) -> None:
    """Pretend everything that happened to the assignment happened `seconds` earlier."""
    shift = timedelta(seconds=seconds)
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(assignment_id=assignment_id)
        for field in ASSIGNMENT_TIMES:
            value = getattr(assignment, field)
            if value is not None:
                setattr(assignment, field, value - shift)
        assignment.save(update_fields=list(ASSIGNMENT_TIMES))


def process_due() -> None:
    """Apply expiry refunds, abandonment and auto-approval that are due by now."""
    lifecycle.process_due()
