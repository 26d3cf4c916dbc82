"""Moving time for tests and demos: pretend things happened earlier, then apply what is due.

clock.age_submission(submission.id, minutes=61)   # past maximum_allowed_time -> TIMED-OUT
clock.age_submission(submission.id, days=22)      # past the review window -> APPROVED
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from prolific_emulator import lifecycle
from prolific_emulator.models import Submission

SUBMISSION_TIMES = ("started_at", "completed_at", "decided_at")


def age_submission(submission_id: str, *, days: float = 0, minutes: float = 0, seconds: float = 0) -> None:
    """Shift the submission's timestamps into the past, then apply what became due."""
    shift = timedelta(days=days, minutes=minutes, seconds=seconds)
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission_id)
        for field in SUBMISSION_TIMES:
            value = getattr(submission, field)
            if value is not None:
                setattr(submission, field, value - shift)
        submission.save(update_fields=list(SUBMISSION_TIMES))
    process_due()


def age_study(study_id: str, *, days: float = 0, minutes: float = 0, seconds: float = 0) -> None:
    """Age every submission of a study."""
    for pk in Submission.objects.filter(study_id=study_id).values_list("pk", flat=True):
        age_submission(pk, days=days, minutes=minutes, seconds=seconds)


def process_due() -> int:
    """Apply the time-outs and automatic approvals that are due by now."""
    return lifecycle.process_due()
