"""Batches hosted by crowdhr: the persistent queue that gives each participant their set of items.

On a platform without HTML forms (Prolific) a batch is one study whose participants answer its
items on crowdhr's own pages. Each participant who lands (Prolific's PROLIFIC_PID, STUDY_ID,
SESSION_ID) is allotted `items_per_participant` items as `HostedAnswer` rows:

- the same set on every visit of the same session (the rows are the set);
- never an item the participant was given before (unique per item and participant);
- items that still lack answers first, and no item beyond the answers its consensus needs
  (`assignments_required`), counting answers given and allotments still within the time allowed;
- an unanswered allotment older than the study's time allowed, or of a session the platform
  reports returned or timed out, is freed (`release_expired`, `release_session`) for others.

Allotments of one batch are serialised by locking the Experiment row, so two participants landing
at once never take the last answer an item needs twice.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from experiments.models import Experiment, HostedAnswer
from hits.models import Outsourcer

#: places posted beyond the exact need, for participants who return or time out
RESERVE_SHARE = 0.1


class NothingLeft(Exception):
    """Every item has the answers it needs, or the participant has seen all the others."""


def study_places(experiment: Experiment, items: int) -> int:
    """Places of the batch's one study: every item answered `assignments_required` times, in sets
    of `items_per_participant`, plus a small reserve."""
    exact = math.ceil(items * experiment.assignments_required / experiment.items_per_participant)
    return exact + max(1, math.ceil(exact * RESERVE_SHARE))


def participant_items(
    *, experiment: Experiment, worker_id: str, session_id: str, study_id: str, now: datetime | None = None
) -> list[HostedAnswer]:
    """The participant's set for this session: allotted on the first visit, the same afterwards.
    Raises `NothingLeft` when no item can be given (the participant should return the study)."""
    now = now or timezone.now()
    current = list(HostedAnswer.objects.filter(experiment=experiment, session_id=session_id))
    if current:
        if any(row.worker_id != worker_id for row in current):
            raise PermissionError("This session belongs to another participant.")
        return current
    with transaction.atomic():
        Experiment.objects.select_for_update().filter(pk=experiment.pk).first()
        current = list(HostedAnswer.objects.filter(experiment=experiment, session_id=session_id))
        if current:
            return current
        release_expired(experiment=experiment, now=now)
        chosen = _items_for(experiment, worker_id)
        if not chosen:
            raise NothingLeft("Every item of this batch has the answers it needs.")
        return [
            HostedAnswer.objects.create(
                experiment=experiment,
                outsourcer_id=outsourcer_pk,
                worker_id=worker_id,
                session_id=session_id,
                study_id=study_id,
                position=position,
                allotted_at=now,
            )
            for position, outsourcer_pk in enumerate(chosen, start=1)
        ]


def _items_for(experiment: Experiment, worker_id: str) -> list[int]:
    """Up to `items_per_participant` open items this participant has not seen, neediest first."""
    seen = HostedAnswer.objects.filter(experiment=experiment, worker_id=worker_id).values("outsourcer_id")
    open_items = (
        Outsourcer.objects.filter(experiment=experiment, active=True, needs_review=False)
        .exclude(pk__in=seen)
        .annotate(taken=Count("hosted_answers", filter=Q(hosted_answers__experiment=experiment)))
        .filter(taken__lt=experiment.assignments_required)
        .order_by("taken", "pk")
        .values_list("pk", flat=True)
    )
    return list(open_items[: experiment.items_per_participant])


def release_expired(*, experiment: Experiment, now: datetime | None = None) -> int:
    """Free unanswered allotments older than the study's time allowed; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=experiment.duration_seconds)
    stale = HostedAnswer.objects.filter(
        experiment=experiment, answered_at__isnull=True, assignment__isnull=True, allotted_at__lt=cutoff
    )
    return stale.delete()[0]


def release_session(*, experiment: Experiment, session_id: str) -> int:
    """The platform reports the session returned or timed out: its items go to others (its answers
    too, since nobody is paid for them). Items already judged stay as they are."""
    rows = HostedAnswer.objects.filter(experiment=experiment, session_id=session_id, assignment__isnull=True)
    return rows.delete()[0]


def answer_item(*, row: HostedAnswer, answers: dict[str, str], now: datetime | None = None) -> bool:
    """Save the participant's answer to one item of their set, once; False when it was answered."""
    return bool(
        HostedAnswer.objects.filter(pk=row.pk, answered_at__isnull=True).update(
            answers=answers, answered_at=now or timezone.now()
        )
    )


def next_item(rows: list[HostedAnswer]) -> HostedAnswer | None:
    """The first item of the set still unanswered; None when the set is done."""
    return next((row for row in sorted(rows, key=lambda r: r.position) if row.answered_at is None), None)
