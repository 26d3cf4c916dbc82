"""The local Mechanical Turk's tables in the admin: for looking, not for editing.

State changes go through the requester API or the marketplace, like on MTurk; only the
simulated workers' properties and the injected faults are editable here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from mturk_emulator import lifecycle
from mturk_emulator.models import (
    HIT,
    Account,
    Assignment,
    BonusPayment,
    FaultSettings,
    HITType,
    LedgerEntry,
    Qualification,
    QualificationRequest,
    QualificationType,
    RequestToken,
    ScheduledFault,
    SimulatedWorker,
    WorkerBlock,
    WorkerMessage,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only admin: the emulator's state changes through its APIs."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LedgerInline(ReadOnlyInline):
    model = LedgerEntry
    fields = ["created", "amount", "balance_after", "description", "hit_id"]
    ordering = ["-created", "-id"]
    max_num = 0


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    """Requester accounts (opened with `manage.py emulator_requester`); the secret is never shown."""

    list_display = ["access_key_id", "sandbox", "balance", "created"]
    list_filter = ["sandbox"]
    exclude = ["secret_access_key"]
    search_fields = ["access_key_id"]
    inlines = [LedgerInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created", "account", "amount", "balance_after", "description"]
    list_filter = ["account"]
    search_fields = ["description", "hit_id"]


@admin.register(SimulatedWorker)
class SimulatedWorkerAdmin(admin.ModelAdmin):
    list_display = ["worker_id", "country", "subdivision", "is_adult", "created"]
    search_fields = ["worker_id"]
    readonly_fields = ["created"]


@admin.register(HITType)
class HITTypeAdmin(ReadOnlyAdmin):
    list_display = ["hit_type_id", "title", "reward", "account", "created"]
    search_fields = ["hit_type_id", "title"]
    exclude = ["fingerprint"]


class AssignmentInline(ReadOnlyInline):
    model = Assignment
    fields = ["assignment_id", "worker_id", "status", "accept_time", "submit_time"]


@admin.register(HIT)
class HITAdmin(ReadOnlyAdmin):
    list_display = [
        "hit_id",
        "title",
        "status",
        "reward",
        "max_assignments",
        "account",
        "created",
        "expiration",
    ]
    list_filter = ["disposed", "question_kind", "account"]
    search_fields = ["hit_id", "title", "requester_annotation"]
    inlines = [AssignmentInline]

    @admin.display(description="HIT status")
    def status(self, hit: HIT) -> str:
        return lifecycle.hit_status(hit)


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["assignment_id", "worker_id", "status", "hit", "accept_time", "submit_time"]
    list_filter = ["status"]
    search_fields = ["assignment_id", "worker_id", "hit__hit_id"]
    list_select_related = ["hit"]


@admin.register(BonusPayment)
class BonusPaymentAdmin(ReadOnlyAdmin):
    list_display = ["grant_time", "worker_id", "amount", "assignment", "account"]
    search_fields = ["worker_id", "assignment__assignment_id"]


@admin.register(QualificationType)
class QualificationTypeAdmin(ReadOnlyAdmin):
    list_display = ["qualification_type_id", "name", "status", "account", "deleted", "created"]
    search_fields = ["qualification_type_id", "name"]


@admin.register(Qualification)
class QualificationAdmin(ReadOnlyAdmin):
    list_display = ["worker_id", "qualification_type", "integer_value", "status", "grant_time"]
    list_filter = ["status"]
    search_fields = ["worker_id", "qualification_type__name"]


@admin.register(QualificationRequest)
class QualificationRequestAdmin(ReadOnlyAdmin):
    list_display = ["request_id", "worker_id", "qualification_type", "status", "submit_time"]
    list_filter = ["status"]


@admin.register(WorkerBlock)
class WorkerBlockAdmin(ReadOnlyAdmin):
    list_display = ["worker_id", "account", "reason", "created"]
    search_fields = ["worker_id"]


@admin.register(WorkerMessage)
class WorkerMessageAdmin(ReadOnlyAdmin):
    list_display = ["sent", "worker_id", "subject", "account"]
    search_fields = ["worker_id", "subject"]


@admin.register(RequestToken)
class RequestTokenAdmin(ReadOnlyAdmin):
    list_display = ["created", "purpose", "token", "result", "account"]
    search_fields = ["token", "result"]


@admin.register(FaultSettings)
class FaultSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "operations", "seed", "calls"]
    readonly_fields = ["calls"]


@admin.register(ScheduledFault)
class ScheduledFaultAdmin(admin.ModelAdmin):
    list_display = ["operation", "kind", "remaining", "created"]
