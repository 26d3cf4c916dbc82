"""crowdhr core's one model: the audit trail of every change a person (or the system) made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """A researcher sees the entries about their own objects and the entries they made."""

    def visible_to(self, user: User | AnonymousUser) -> Self:
        if user.is_superuser:
            return self
        return self.filter(Q(owner=user) | Q(by=user))

    def about(self, *objects: models.Model) -> Self:
        """The entries about any of `objects`."""
        about = Q(pk__in=[])
        for obj in objects:
            about |= Q(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))
        return self.filter(about)


class AuditEntry(models.Model):
    """Who did what to which object, when; written by the services through `crowdhr.audit.record`."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries_made",
        help_text="Empty: the system (review, schedules).",
    )
    action = models.CharField(max_length=64, db_index=True)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries_about",
        help_text="The researcher the object belongs to.",
    )
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        who = self.by.get_username() if self.by is not None else "system"
        return f"{who} {self.action} {self.object_repr}"
