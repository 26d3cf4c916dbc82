"""Ownership scoping: which rows a researcher may see. Settings-free, used by every app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self, TypeVar

from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

_M = TypeVar("_M", bound=models.Model)


class OwnedQuerySet(models.QuerySet[_M]):
    """Rows a researcher may see: their own; a superuser sees everything."""

    owner_path = "owner"

    def visible_to(self, user: User | AnonymousUser) -> Self:
        if user.is_superuser:
            return self
        return self.filter(**{self.owner_path: user})


class AccountOwnedQuerySet(OwnedQuerySet[_M]):
    """Rows that belong to a researcher through their platform account."""

    owner_path = "account__owner"
