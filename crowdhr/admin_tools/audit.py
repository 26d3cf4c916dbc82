"""The History page of an object: its audit trail (`crowdhr.audit`), instead of Django's LogEntry.

Every state-changing service records an `AuditEntry`; the admin's own "History" link on a change
form shows them for that object. The object is looked up through the admin's scoped queryset,
so another researcher's object answers 404.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db import models
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse

from crowdhr.models import AuditEntry

_M = TypeVar("_M", bound=models.Model)


class AuditHistoryAdmin(admin.ModelAdmin[_M]):
    """A ModelAdmin whose History page lists the object's audit entries, newest first."""

    def audited_objects(self, obj: _M) -> list[models.Model]:
        """Whose entries the page shows: the object's own (a HIT adds its Outsourcer's)."""
        return [obj]

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        obj = self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404("No such object.")
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.model._meta,
            "entries": AuditEntry.objects.about(*self.audited_objects(obj)).select_related("by")[:500],
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/crowdhr/audit_history.html", context)
