"""What a hosted-tasks study collected: one row per answer with timings and tracking fields, and
the consensus per item (the same agreement rule as review: `hits.consensus` with the template's
fields compared case and white space aside)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Prefetch

from experiments.workflow.models import HostedStudy, Item, Metadata, PageView, Task
from hits.consensus import check_for_agreement
from hits.task_types import TemplateBatch

TRACKING = ("user_agent", "screen", "window")
METADATA = ("language", "timezone")


def _task(study: HostedStudy) -> TemplateBatch:
    return TemplateBatch({"template": study.task_template, "answer_fields": study.fields})


def _columns(study: HostedStudy) -> list[str]:
    columns: list[str] = []
    for inputs in Item.objects.filter(study=study).values_list("inputs", flat=True).iterator(chunk_size=500):
        columns += [c for c in inputs if c not in columns]
    return columns


def _time(value: Any) -> str:
    return value.isoformat() if value else ""


def answer_rows(study: HostedStudy) -> Iterator[list[str]]:
    """The results CSV: one row per answer (real tasks, training and test questions)."""
    columns = _columns(study)
    fields = study.fields
    yield [
        "worker_id",
        "place_stage",
        "kind",
        "item",
        *columns,
        *fields,
        "status",
        "correct",
        "assigned_at",
        "started_at",
        "saved_at",
        "seconds",
        "paid",
        "page_shown_at",
        "page_completed_at",
        *TRACKING,
        *METADATA,
    ]
    tasks = (
        Task.objects.filter(place__study=study)
        .exclude(status__in=[Task.Status.ASSIGNED, Task.Status.STARTED])
        .select_related("item", "place__participant")
        .prefetch_related(
            Prefetch("page_views", queryset=PageView.objects.order_by("-shown_at", "-pk")),
            Prefetch("place__metadata", queryset=Metadata.objects.all()),
        )
        .order_by("place_id", "position")
    )
    for task in tasks.iterator(chunk_size=500):
        view = next(iter(task.page_views.all()), None)
        metadata = {m.name: m.value for m in task.place.metadata.all()}
        answer = task.answer if isinstance(task.answer, dict) else {}
        seconds = (
            (task.saved_at - task.started_at).total_seconds() if task.saved_at and task.started_at else None
        )
        yield [
            task.place.participant.worker_id,
            task.place.stage,
            task.kind,
            str(task.item.number),
            *(str(task.item.inputs.get(c, "")) for c in columns),
            *(str(answer.get(f, "")) for f in fields),
            task.status,
            "" if task.correct is None else str(task.correct).lower(),
            _time(task.assigned_at),
            _time(task.started_at),
            _time(task.saved_at),
            "" if seconds is None else f"{seconds:.3f}",
            str(task.paid).lower(),
            _time(view.shown_at if view else None),
            _time(view.completed_at if view else None),
            *((getattr(view, name) if view else "") for name in TRACKING),
            *(metadata.get(name, "") for name in METADATA),
        ]


def item_consensus(study: HostedStudy) -> list[dict[str, Any]]:
    """Per real item: its answers, the agreed answer (if enough agree) and how many agreed."""
    task = _task(study)
    rows = []
    saved = Task.objects.filter(kind=Item.Kind.TASK, status=Task.Status.SAVED).order_by("saved_at", "pk")
    items = Item.objects.filter(study=study, kind=Item.Kind.TASK).prefetch_related(
        Prefetch("tasks", queryset=saved, to_attr="saved")
    )
    for item in items.order_by("number"):
        answers = [dict(t.answer or {}) for t in item.saved]
        agreement, groups = check_for_agreement(
            answers, [], agree=task.assignments_agree, agreements_required=study.agreements_required
        )
        rows.append(
            {
                "item": item,
                "answers": len(answers),
                "answer": task.answer_of(agreement.answer) if agreement else None,
                "agreements": agreement.num_agreements if agreement else None,
                "groups": ", ".join(f"{task.describe_answer(g.representative)} ({g.size})" for g in groups),
            }
        )
    return rows


def consensus_rows(study: HostedStudy) -> Iterator[list[str]]:
    """The consensus CSV: the item's columns, its agreed answer, agreements and all answers given."""
    columns = _columns(study)
    fields = study.fields
    yield ["item", *columns, *fields, "agreements", "answers", "groups", "status"]
    for row in item_consensus(study):
        answer = row["answer"] or {}
        status = (
            "agreed"
            if row["answer"]
            else ("open" if row["answers"] < study.answers_per_item else "no agreement")
        )
        yield [
            str(row["item"].number),
            *(str(row["item"].inputs.get(c, "")) for c in columns),
            *(str(answer.get(f, "")) for f in fields),
            "" if row["agreements"] is None else str(row["agreements"]),
            str(row["answers"]),
            row["groups"],
            status,
        ]
