"""The audit trail: every service that changes state records who did it, what, to which object.

    record(by=request.user, action="expire", obj=outsourcer, hits=3)

`by` is the person (a User) or None for the system (the review cycle, Celery beat). The entry
names the object (content type, id, repr at the time) and its owner, so a researcher sees the
entries about their own objects (`AuditEntry.objects.visible_to(user)`) and those they made.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models

from crowdhr.models import AuditEntry

__all__ = ["User", "owner_id_of", "record"]  # User: the person in `by` (AUTH_USER_MODEL is Django's)


def record(*, by: User | None, action: str, obj: models.Model, **details: Any) -> AuditEntry:
    """Write one audit entry; `details` are JSON (Decimals and dates are fine)."""
    return AuditEntry.objects.create(
        by=by if by is not None and by.pk else None,
        action=action,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        owner_id=owner_id_of(obj),
        details=details,
    )


def owner_id_of(obj: models.Model) -> int | None:
    """The id of the researcher an object belongs to, following its queryset's `owner_path`."""
    owner_path = getattr(type(obj)._default_manager.all(), "owner_path", None)
    if owner_path is None:
        return getattr(obj, "owner_id", None)
    return type(obj)._default_manager.filter(pk=obj.pk).values_list(f"{owner_path}_id", flat=True).first()


def label(by: User | None, system: str = "system") -> str:
    """The text columns that name who acted (the ledger's `triggered_by`): a username or `system`."""
    return f"person: {by.get_username()}" if by is not None else system
