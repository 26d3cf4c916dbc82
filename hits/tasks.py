"""Thin Celery tasks: take ids, call one service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import shared_task
from django.db import transaction

from hits.bulk import OPERATIONS, run_operation
from hits.models import Progress
from hits.review import cycle as review
from hits.review.cycle import review_active_hits as review_cycle
from hits.review.news import Look


@shared_task(acks_late=True)
def review_active_hits(full: bool = False) -> dict[str, int]:
    """The review cycle beat runs every minute (`full`: the hourly sweep of every active HIT):
    finds the HITs with news and queues their review as shard tasks."""

    def queue(shard: list[Look]) -> None:
        review_shard.delay([look.as_task_argument() for look in shard])

    return review_cycle(full=full, fan_out=queue).counts()


@shared_task(acks_late=True)
def review_shard(looks: list[list[Any]]) -> dict[str, int]:
    """Review one shard of a cycle's HITs; any number of worker processes share a cycle's shards."""
    return review.review_shard([Look(*look) for look in looks]).counts()


@shared_task(acks_late=True)
def run_admin_operation(progress_id: int, operation: str, ids: list[int], data: dict) -> int:
    """A researcher's operation on many HITs (see `hits.bulk`), recording its Progress; the
    researcher who started it (the Progress's owner) is who acted."""
    progress = Progress.objects.filter(pk=progress_id).select_related("owner").first()
    if progress is None or progress.finished:
        return 0
    return run_operation(operation, ids, data=data, by=progress.owner, progress=progress).changed


def start_in_background(
    *, owner: Any, operation: str, ids: Sequence[int], data: dict[str, Any], what: str
) -> Progress:
    """Record the Progress of a long operation and queue its Celery task once the request commits."""
    progress = Progress.objects.create(
        owner=owner, description=f"{OPERATIONS[operation].verb.capitalize()}: {what}", total=len(ids)
    )
    ids = list(ids)
    transaction.on_commit(lambda: run_admin_operation.delay(progress.pk, operation, ids, data))
    return progress
