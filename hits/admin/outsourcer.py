"""Outsourcers: the item or study behind a group of HITs (read-only records)."""

from __future__ import annotations

from django.contrib import admin

from crowdhr.admin_tools import (
    HistoryAdmin,
    OwnedAdmin,
)
from hits import exports
from hits.admin.filters import OutsourcerExperimentFilter
from hits.models import Outsourcer

OUTSOURCER_FIELDS = [
    "id", "target", "task_type", "experiment__name", "active", "needs_review", "problem", "inputs", "answer",
    "answer_source", "agreements", "last_updated", "created",
]  # fmt: skip


@admin.register(Outsourcer)
class OutsourcerAdmin(HistoryAdmin, OwnedAdmin):
    list_display = ["target", "task_type", "experiment", "state", "answer_source", "created"]
    list_filter = [OutsourcerExperimentFilter, "active", "needs_review", "task_type", "created"]
    list_select_related = ["experiment"]
    search_fields = ["target"]
    show_full_result_count = False
    readonly_fields = [
        "owner", "account", "experiment", "target", "task_type", "task_config", "inputs", "active",
        "needs_review", "problem", "answer", "answer_source", "last_updated", "created",
    ]  # fmt: skip
    actions = [
        exports.export_action(
            "outsourcers.csv", exports.field_rows(OUTSOURCER_FIELDS), "Download selected Outsourcers as CSV"
        ),
        exports.export_action(
            "results.csv",
            exports.results_rows,
            "Download results of selected Outsourcers (inputs, every answer, the agreed answer)",
            name="export_results_csv",
        ),
    ]
