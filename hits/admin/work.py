"""Run a HIT or assignment operation now, or in the background with a progress page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponseRedirect

from crowdhr.admin_tools import (
    admin_url,
    report,
)
from hits import bulk, tasks
from hits.admin.progress import ProgressAdmin
from hits.models import Progress


def operate(modeladmin, request: HttpRequest, operation: str, hit_ids: list[int], data: dict) -> Any:
    """Run an operation on HITs now, or in the background when it touches many HITs."""
    targets = bulk.targets_of(operation, hit_ids)
    background = len(hit_ids) > bulk.BACKGROUND_OVER
    return start(modeladmin, request, operation, targets, data, f"{len(hit_ids)} HITs", background)


def start(
    modeladmin, request, operation: str, targets: list[int], data: dict, what: str, background: bool
) -> Any:
    """Run now and report, or start a Celery task and show its progress page (enqueued after commit)."""
    verb = bulk.OPERATIONS[operation].verb
    if background:
        progress = tasks.start_in_background(
            owner=request.user, operation=operation, ids=targets, data=_json_safe(data), what=what
        )
        modeladmin.message_user(request, f"Working on {what} in the background.")
        return HttpResponseRedirect(
            admin_url(ProgressAdmin(Progress, modeladmin.admin_site), "change", progress.pk)
        )
    outcome = bulk.run_operation(operation, targets, data=data, by=request.user)
    report(modeladmin, request, f"{outcome.changed} {verb}.", outcome.errors)
    return None


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != "nonce"}
