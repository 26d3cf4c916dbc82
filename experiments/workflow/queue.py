"""Each worker's persistent queue of real tasks in a hosted-tasks study.

The queue is the worker's `Task` rows: an item once given stays theirs (same place, same
position) until saved, skipped, stopped or timed out, so closing the browser and coming back
(same platform identity, same bound browser) resumes at exactly the next unanswered item.

Allotting an item (`next_task`):
- a worker's open task comes first (the one they left);
- a worker gets at most `tasks_per_worker` tasks and never the same item twice (a unique
  constraint on place and item);
- the neediest item first: the one with the fewest answers saved plus tasks still open, and never
  one that already has the `answers_per_item` its consensus needs (open tasks count, so two
  workers are never given the last answer an item needs). Tasks of workers who stopped or left
  are closed (stopped, timed out) and free their item for someone else.

Allotments of one study are serialised by a write on the study row at the start of the
transaction (PostgreSQL locks the row until commit; SQLite takes its write lock at BEGIN).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from experiments.workflow.models import HostedStudy, Item, Task, TaskStatus, WorkerPlace

OPEN = (Task.Status.ASSIGNED, Task.Status.STARTED)
COUNTED = (*OPEN, Task.Status.SAVED)


def open_task(place: WorkerPlace, kind: str = Item.Kind.TASK) -> Task | None:
    return place.tasks.filter(kind=kind, status__in=OPEN).select_related("item").order_by("position").first()


def tasks_given(place: WorkerPlace) -> int:
    """Real tasks the worker has answered or passed by (open ones are not counted)."""
    return place.tasks.filter(kind=Item.Kind.TASK).exclude(status__in=OPEN).count()


def next_task(place: WorkerPlace, *, now: datetime | None = None) -> Task | None:
    """The worker's current real task: the open one, else a newly allotted one; None when their
    queue is done (their share answered, or no item they have not seen still needs answers)."""
    found = open_task(place)
    if found is not None:
        return found
    study = place.study
    if tasks_given(place) >= study.tasks_per_worker:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        HostedStudy.objects.filter(pk=study.pk).update(queue_turn=F("queue_turn") + 1)
        found = open_task(place)  # another tab of this worker allotted one meanwhile
        if found is not None:
            return found
        item = _neediest(study, place)
        if item is None:
            return None
        position = (place.tasks.aggregate(last=Max("position"))["last"] or 0) + 1
        task = Task.objects.create(
            place=place, item=item, kind=Item.Kind.TASK, position=position, assigned_at=now
        )
        TaskStatus.objects.create(task=task, status=Task.Status.ASSIGNED, at=now)
    return task


def _neediest(study: HostedStudy, place: WorkerPlace) -> Item | None:
    seen = Task.objects.filter(place=place).values("item_id")
    return (
        Item.objects.filter(study=study, kind=Item.Kind.TASK)
        .exclude(pk__in=seen)
        .annotate(taken=Count("tasks", filter=Q(tasks__status__in=COUNTED)))
        .filter(taken__lt=study.answers_per_item)
        .order_by("taken", "number")
        .first()
    )


def item_progress(study: HostedStudy) -> list[tuple[Item, int, int]]:
    """Per real item: (item, answers saved, tasks open now)."""
    items = Item.objects.filter(study=study, kind=Item.Kind.TASK).annotate(
        saved=Count("tasks", filter=Q(tasks__status=Task.Status.SAVED)),
        open=Count("tasks", filter=Q(tasks__status__in=OPEN)),
    )
    return [(item, item.saved, item.open) for item in items.order_by("number")]
