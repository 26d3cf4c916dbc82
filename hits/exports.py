"""CSV rows of HITs, assignments, workers, payments and a batch's results.

Each exporter takes a queryset (already scoped to the researcher) and yields rows;
`crowdhr.admin_tools.exports` streams them (and keeps a worker's text from running as a formula).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from crowdhr.admin_tools.exports import CHUNK, csv_response, export_action, field_rows, safe_cell
from hits.models import Assignment, Outsourcer
from hits.selectors import hits_with_progress

__all__ = ["csv_response", "export_action", "field_rows", "safe_cell"]


def hit_rows(hits: QuerySet) -> Iterator[list[Any]]:
    yield [
        "id", "hit_id", "target", "title", "environment", "status", "active", "expired", "needs_review",
        "reward", "assignments_required", "max_assignments", "assignments_done", "money_spent",
        "num_new_assignments", "create_date", "last_reopen_time", "last_updated",
    ]  # fmt: skip
    annotated = hits_with_progress(hits.select_related("outsourcer").order_by("pk"))
    for hit in annotated.iterator(chunk_size=CHUNK):
        yield [
            hit.pk, hit.hit_id, hit.outsourcer.target, hit.title, hit.environment, hit.status, hit.active,
            hit.expired, hit.outsourcer.needs_review, hit.reward, hit.assignments_required,
            hit.max_assignments, hit.assignments_done, hit.money_spent, hit.num_new_assignments,
            hit.create_date, hit.last_reopen_time, hit.last_updated,
        ]  # fmt: skip


def assignment_rows(assignments: QuerySet) -> Iterator[list[Any]]:
    """One row per assignment, every answer field a column of its own."""
    keys: set[str] = set()
    for answers in assignments.values_list("answers", flat=True).iterator(chunk_size=CHUNK):
        if isinstance(answers, dict):
            keys.update(answers)
    answer_columns = sorted(keys)
    yield [
        "assignment_id", "hit_id", "target", "worker_id", "platform_status", "decision", "decided_by",
        "accept_time", "submit_time", "work_seconds", "confused", "comments", "feedback",
        *[f"answer:{key}" for key in answer_columns],
    ]  # fmt: skip
    rows = assignments.select_related("hit__outsourcer", "worker").order_by("pk")
    for a in rows.iterator(chunk_size=CHUNK):
        answers = a.answers if isinstance(a.answers, dict) else {}
        yield [
            a.assignment_id, a.hit.hit_id, a.hit.outsourcer.target, a.worker.worker_id, a.platform_status,
            a.decision, a.decided_by, a.accept_time, a.submit_time, a.work_seconds, a.confused, a.comments,
            a.feedback, *[answers.get(key, "") for key in answer_columns],
        ]  # fmt: skip


def worker_rows(workers: Iterable[Any]) -> Iterator[list[Any]]:
    """Workers (with the viewer's counts set on them, see the Worker admin) as CSV rows."""
    yield ["worker_id", "platform", "first_seen", "assignments", "approved", "rejected"]
    for w in workers:
        yield [
            w.worker_id, w.platform, w.first_seen, getattr(w, "assignments_done", ""),
            getattr(w, "approvals", ""), getattr(w, "rejections", ""),
        ]  # fmt: skip


def payment_rows(payments: QuerySet) -> Iterator[list[Any]]:
    yield [
        "id", "kind", "status", "amount", "fee", "worker_id", "assignment_id", "experiment", "account",
        "token", "reason", "triggered_by", "created", "done_at", "error",
    ]  # fmt: skip
    rows = payments.select_related("worker", "assignment", "experiment", "account").order_by("pk")
    for p in rows.iterator(chunk_size=CHUNK):
        yield [
            p.pk, p.kind, p.status, p.amount, p.fee, p.worker.worker_id, p.assignment.assignment_id,
            p.experiment.name if p.experiment else "", p.account.name, p.token, p.reason, p.triggered_by,
            p.created, p.done_at, p.error,
        ]  # fmt: skip


def _keys(values: Iterable[Any]) -> list[str]:
    keys: set[str] = set()
    for value in values:
        if isinstance(value, dict):
            keys.update(value)
    return sorted(keys)


def results_rows(outsourcers: QuerySet[Outsourcer]) -> Iterator[list[Any]]:
    """A batch's results as MTurk's "Download results" gives them: one row per worker's answer, with the
    item's inputs and the agreed answer beside it (an item nobody answered yet gets one row)."""
    outsourcers = outsourcers.order_by("pk")
    assignments = Assignment.objects.filter(hit__outsourcer__in=outsourcers)
    inputs = _keys(outsourcers.values_list("inputs", flat=True).iterator(chunk_size=CHUNK))
    answers = _keys(
        [*outsourcers.values_list("answer", flat=True), *assignments.values_list("answers", flat=True)]
    )
    yield [
        "item", "active", "answer_source", *[f"input:{k}" for k in inputs], *[f"agreed:{k}" for k in answers],
        "hit_id", "assignment_id", "worker_id", "submit_time", "work_seconds", "decision",
        *[f"answer:{k}" for k in answers],
    ]  # fmt: skip
    for outsourcer in outsourcers.iterator(chunk_size=CHUNK):
        item = [
            outsourcer.target, outsourcer.active, outsourcer.answer_source,
            *_values(outsourcer.inputs, inputs), *_values(outsourcer.answer, answers),
        ]  # fmt: skip
        rows = assignments.filter(hit__outsourcer=outsourcer).select_related("hit", "worker").order_by("pk")
        empty = True
        for a in rows:
            empty = False
            yield [
                *item, a.hit.hit_id, a.assignment_id, a.worker.worker_id, a.submit_time, a.work_seconds,
                a.decision, *_values(a.answers, answers),
            ]  # fmt: skip
        if empty:
            yield [*item, "", "", "", "", "", "", *_values(None, answers)]


def _values(row: Any, keys: list[str]) -> list[Any]:
    return [row.get(key, "") if isinstance(row, dict) else "" for key in keys]
