"""Outsourcers: the item or study behind a group of HITs (read-only records)."""

from __future__ import annotations

from django.contrib import admin

from crowdhr.admin_tools import (
    HistoryAdmin,
    OwnedAdmin,
)
from hits.models import Outsourcer


@admin.register(Outsourcer)
class OutsourcerAdmin(HistoryAdmin, OwnedAdmin):
    list_display = ["target", "task_type", "experiment", "state", "answer_source", "created"]
    list_filter = ["active", "needs_review", "task_type", "created"]
    list_select_related = ["experiment"]
    search_fields = ["target"]
    show_full_result_count = False
    readonly_fields = [
        "owner", "account", "experiment", "target", "task_type", "task_config", "inputs", "active",
        "needs_review", "problem", "answer", "answer_source", "last_updated", "created",
    ]  # fmt: skip
