"""crowdhr core's admin: the audit trail, and django-celery-beat's pages for superusers only.

The audit trail is read-only; a researcher sees the entries about their own objects and those
they made. Django imports this module after django_celery_beat's admin (INSTALLED_APPS order),
and replaces each registered beat ModelAdmin with a subclass that refuses non-superusers
(their pages show every researcher's tasks).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django_celery_beat import models as beat

from crowdhr.admin_tools import OwnedAdmin
from crowdhr.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(OwnedAdmin[AuditEntry]):
    """Who did what, when: written by the services, never by hand."""

    list_display = ["at", "by", "action", "content_type", "object_repr"]
    list_filter = ["action", "content_type", "at"]
    list_select_related = ["by", "content_type"]
    search_fields = ["object_repr", "action", "by__username"]
    show_full_result_count = False
    list_per_page = 100

    def get_readonly_fields(self, request: HttpRequest, obj: AuditEntry | None = None) -> list[str]:
        return [f.name for f in AuditEntry._meta.concrete_fields if f.name != "id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False


def _superusers_only_beat_admin() -> None:
    """django-celery-beat's own pages show every researcher's tasks: superusers only."""
    for model in [
        beat.PeriodicTask,
        beat.ClockedSchedule,
        beat.CrontabSchedule,
        beat.SolarSchedule,
        beat.IntervalSchedule,
    ]:
        if not admin.site.is_registered(model):
            continue
        original = type(admin.site.get_model_admin(model))

        class SuperusersOnly(original):  # type: ignore[valid-type, misc]
            def has_module_permission(self, request):
                return request.user.is_superuser and super().has_module_permission(request)

            def has_view_permission(self, request, obj=None):
                return request.user.is_superuser and super().has_view_permission(request, obj)

            def has_change_permission(self, request, obj=None):
                return request.user.is_superuser and super().has_change_permission(request, obj)

            def has_add_permission(self, request):
                return request.user.is_superuser and super().has_add_permission(request)

            def has_delete_permission(self, request, obj=None):
                return request.user.is_superuser and super().has_delete_permission(request, obj)

        admin.site.unregister(model)
        admin.site.register(model, SuperusersOnly)


_superusers_only_beat_admin()
