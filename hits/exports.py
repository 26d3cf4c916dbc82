"""CSV downloads of any change list selection, streamed row by row so 100,000 rows stay cheap.

Each exporter takes a queryset (already scoped to the researcher) and yields rows; `csv_response`
streams them. Cells a spreadsheet would run as a formula are prefixed with a quote.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from hits.selectors import hits_with_progress

CHUNK = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def safe_cell(value: Any) -> Any:
    """A worker's text never becomes a spreadsheet formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def csv_response(filename: str, rows: Iterable[list[Any]]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    stream = (writer.writerow([safe_cell(cell) for cell in row]) for row in rows)
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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


def export_action(filename: str, rows: Callable[[QuerySet], Iterable[list[Any]]], description: str):
    """A changelist action that downloads the selected rows as CSV."""
    from django.contrib import admin

    @admin.action(description=description, permissions=("view",))
    def export_csv(modeladmin, request, queryset):
        return csv_response(filename, rows(queryset))

    return export_csv
