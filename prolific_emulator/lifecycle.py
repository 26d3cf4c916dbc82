"""What happens with time: time-outs and Prolific's automatic approval.

Applied lazily from stored timestamps (every API call and participant page runs `process_due`),
so tests move time by shifting timestamps into the past (see `clock`).
- An ACTIVE submission past the study's `maximum_allowed_time` becomes TIMED-OUT and frees its
  place (Prolific's submission object).
- A submission left AWAITING REVIEW is approved automatically after Prolific's review window.
  The window's length is guessed (Prolific's help centre has said 21 days; it has changed
  over the years); one constant here.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from prolific_emulator import studies, submissions
from prolific_emulator.models import Submission

AUTO_APPROVE_AFTER = timedelta(days=21)


def process_due() -> int:
    """Apply every time-out and automatic approval that is due; returns how many happened."""
    return _time_out_due() + _auto_approve_due()


def _time_out_due() -> int:
    done = 0
    for submission in Submission.objects.filter(status=Submission.ACTIVE).select_related("study"):
        limit = submission.started_at + timedelta(minutes=submission.study.maximum_allowed_time)
        if limit < timezone.now():
            done += _apply(submission.pk, Submission.ACTIVE, _time_out)
    return done


def _auto_approve_due() -> int:
    cutoff = timezone.now() - AUTO_APPROVE_AFTER
    due = Submission.objects.filter(status=Submission.AWAITING_REVIEW, completed_at__lt=cutoff)
    return sum(
        _apply(pk, Submission.AWAITING_REVIEW, submissions.auto_approve)
        for pk in due.values_list("pk", flat=True)
    )


def _apply(pk: str, expected: str, change) -> int:
    """Run `change` on the submission if it is still in `expected` (another process may have won)."""
    with transaction.atomic():
        submission = Submission.objects.select_for_update().select_related("study__workspace").get(pk=pk)
        if submission.status != expected:
            return 0
        change(submission)
    return 1


def _time_out(submission: Submission) -> None:
    submissions.set_status(submission, Submission.TIMED_OUT)
    studies.settle(submission.study)
