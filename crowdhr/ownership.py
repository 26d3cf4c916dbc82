"""Ownership scoping: which rows a researcher may see. Settings-free, used by every app."""

from __future__ import annotations

from typing import Any

from django.db import models


class OwnedQuerySet(models.QuerySet):
    """Rows a researcher may see: their own; a superuser sees everything."""

    owner_path = "owner"

    def visible_to(self, user: Any) -> OwnedQuerySet:
        if user.is_superuser:
            return self
        return self.filter(**{self.owner_path: user})


class AccountOwnedQuerySet(OwnedQuerySet):
    """Rows that belong to a researcher through their platform account."""

    owner_path = "account__owner"
