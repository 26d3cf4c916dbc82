"""Researchers see only their own rows.

`OwnedAdmin` scopes a ModelAdmin to the researcher: `get_queryset` goes through the model
queryset's `visible_to(request.user)` (see `crowdhr.ownership`), so every change page,
history page, object button and changelist action of another researcher's row answers 404 (or
the admin's "does not exist" redirect). Foreign-key and many-to-many choices list only the
researcher's own rows, `owner` is set on save, and superusers see everything with an owner
filter::

    @admin.register(Experiment)
    class ExperimentAdmin(OwnedAdmin, admin.ModelAdmin):
        list_display = ["name", "account"]

`HistoryAdmin` is for records that are never added or deleted by hand; its History page is the
audit trail (`AuditHistoryAdmin`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Exists, OuterRef
from django.http import HttpRequest

from crowdhr import audit
from crowdhr.admin_tools.audit import AuditHistoryAdmin

_M = TypeVar("_M", bound=models.Model)


def researcher(request: HttpRequest) -> User:
    """The signed-in person behind an admin request (the admin lets no anonymous visitor in)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def owner_path_of(model: type[models.Model]) -> str | None:
    """The lookup from `model` to its researcher ("owner", "outsourcer__owner", ...), if it has one."""
    queryset = model._default_manager.all()
    return getattr(queryset, "owner_path", None) if hasattr(queryset, "visible_to") else None


def visible_rows(model: type[_M], user: User | AnonymousUser) -> models.QuerySet[_M]:
    """The rows of `model` the user may see (all of them for models without an owner)."""
    queryset = model._default_manager.all()
    return queryset.visible_to(user) if hasattr(queryset, "visible_to") else queryset


def owned(queryset: models.QuerySet[_M], user: User | AnonymousUser) -> models.QuerySet[_M]:
    """`queryset.visible_to(user)` as EXISTS on each row's own id.

    Same rows; but the database can walk the table in page order (or by another index, such as
    the worker of an assignment) and stop early, instead of starting from the owner and sorting
    every row the researcher owns (100,000 HITs) to show one page. Rows that carry their owner
    (an indexed `owner` column) are filtered on it directly.
    """
    if user.is_superuser:
        return queryset
    if getattr(queryset, "owner_path", None) == "owner":
        return queryset.visible_to(user)  # type: ignore[attr-defined]  # owner_path says it is owned
    mine = visible_rows(queryset.model, user).filter(pk=OuterRef("pk"))
    return queryset.filter(Exists(mine))


class OwnerFilter(admin.SimpleListFilter):
    """Superusers: narrow a change list to one researcher's rows."""

    title = "owner"
    parameter_name = "owner"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        users = get_user_model().objects.filter(is_staff=True).order_by("username")
        return [(str(user.pk), user.username) for user in users]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        owner_path = getattr(queryset, "owner_path", None)
        if self.value() and owner_path:
            return queryset.filter(**{f"{owner_path}_id": self.value()})
        return queryset


class OwnedAdmin(admin.ModelAdmin[_M]):
    """A ModelAdmin that shows a researcher only their own rows (superusers: everything)."""

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[_M]:
        queryset = super().get_queryset(request)
        if hasattr(queryset, "visible_to") and not request.user.is_superuser:
            queryset = owned(queryset, request.user)
        return queryset

    def is_visible(self, request: HttpRequest, obj: _M | None) -> bool:
        return obj is None or obj.pk is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_view_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return super().has_view_permission(request, obj) and self.is_visible(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return super().has_change_permission(request, obj) and self.is_visible(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self.is_visible(request, obj)

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser and owner_path_of(self.model):
            filters.append(OwnerFilter)
        return filters

    def get_exclude(self, request: HttpRequest, obj: _M | None = None) -> list[str]:
        excluded = list(super().get_exclude(request, obj) or ())
        if not request.user.is_superuser and _has_owner_field(self.model):
            excluded.append("owner")
        return excluded

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        kwargs.setdefault("queryset", visible_rows(db_field.remote_field.model, request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs: Any):
        kwargs.setdefault("queryset", visible_rows(db_field.remote_field.model, request.user))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: _M, form: Any, change: bool) -> None:
        if _has_owner_field(self.model) and not getattr(obj, "owner_id", None):
            obj.owner = researcher(request)  # type: ignore[attr-defined]  # _has_owner_field checked it
        super().save_model(request, obj, form, change)
        audit.record(
            by=researcher(request),
            action="change" if change else "add",
            obj=obj,
            fields=list(form.changed_data),
        )


class HistoryAdmin(AuditHistoryAdmin[_M]):
    """Rows that are records (HITs, assignments, the ledger): written by services, never added or
    deleted by hand. Without delete permission the "delete selected" action disappears too. Their
    History page is the audit trail."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False


def _has_owner_field(model: type[models.Model]) -> bool:
    return any(f.name == "owner" for f in model._meta.get_fields())
