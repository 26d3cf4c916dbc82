"""Flagging an Outsourcer for a person's review: the one way, used by the admin and the review.

A flag records the problem, stops the review worker from deciding the Outsourcer, leaves an
audit entry, and tells the owner by e-mail (once: flagging a flagged Outsourcer changes nothing).
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail

from crowdhr import audit
from crowdhr.audit import User
from hits.models import Outsourcer

logger = logging.getLogger("hits.review")


def outsourcer_flag(*, outsourcer: Outsourcer, problem: str, by: User | None) -> bool:
    """Mark for human review; False when it was flagged already (then nothing is sent)."""
    flagged = Outsourcer.objects.filter(pk=outsourcer.pk, needs_review=False).update(
        needs_review=True, problem=problem
    )
    if not flagged:
        return False
    logger.info("outsourcer needs review", extra={"outsourcer": outsourcer.pk, "problem": problem})
    audit.record(by=by, action="flag", obj=outsourcer, problem=problem)
    _tell_owner(outsourcer, problem)
    return True


def outsourcer_unflag(*, outsourcer: Outsourcer, by: User | None) -> bool:
    """The review picks the Outsourcer up again; False when it was not flagged."""
    unflagged = Outsourcer.objects.filter(pk=outsourcer.pk, needs_review=True).update(
        needs_review=False, problem=""
    )
    if unflagged:
        audit.record(by=by, action="unflag", obj=outsourcer)
    return bool(unflagged)


def _tell_owner(outsourcer: Outsourcer, problem: str) -> None:
    owner = outsourcer.owner
    if owner.email:
        send_mail(
            subject=f"crowdhr: {outsourcer} needs your review",
            message=f"{problem}\n\nOpen the admin to look at the answers and decide.",
            from_email=None,
            recipient_list=[owner.email],
            fail_silently=True,
        )
