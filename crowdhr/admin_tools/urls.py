"""The admin's own URLs of a ModelAdmin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import reverse


def admin_url(modeladmin: admin.ModelAdmin, view: str, *args: Any) -> str:
    """reverse() of one of `modeladmin`'s own admin URLs ("changelist", "change", "button", ...)."""
    opts = modeladmin.model._meta
    return reverse(f"{modeladmin.admin_site.name}:{opts.app_label}_{opts.model_name}_{view}", args=args)
