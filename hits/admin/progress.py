"""Long admin work: its progress page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from crowdhr.admin_tools import (
    HistoryAdmin,
    OwnedAdmin,
)
from hits.models import Progress


@admin.register(Progress)
class ProgressAdmin(HistoryAdmin, OwnedAdmin):
    """Long admin work: done/total and errors; the page refreshes itself until the work is done."""

    list_display = ["description", "bar", "error_count", "started", "finished"]
    readonly_fields = ("description", "bar", "total", "done", "error_list", "started", "finished")
    fields = readonly_fields
    change_form_template = "admin/hits/progress/change_form.html"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="progress")
    def bar(self, progress: Progress) -> str:
        percent = 100 if not progress.total else round(100 * progress.done / progress.total)
        return format_html(
            '<div class="crowdhr-progress" title="{}%"><div style="width:{}%"></div></div> {}/{}',
            percent,
            percent,
            progress.done,
            progress.total,
        )

    @admin.display(description="errors")
    def error_count(self, progress: Progress) -> int:
        return len(progress.errors or [])

    @admin.display(description="errors")
    def error_list(self, progress: Progress) -> str:
        errors = progress.errors or []
        return format_html("<br>".join(["{}"] * len(errors)), *errors) if errors else "none"
