"""Researchers: staff accounts that see only their own work."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

RESEARCHERS_GROUP = "Researchers"
RESEARCHER_APPS = ("crowdhr", "platforms", "hits", "workers", "experiments", "workflow", "django_celery_beat")


def researchers_group() -> Group:
    """The group every researcher belongs to, with the permissions the admin needs."""
    group, _ = Group.objects.get_or_create(name=RESEARCHERS_GROUP)
    permissions = Permission.objects.filter(content_type__app_label__in=RESEARCHER_APPS)
    group.permissions.set(permissions)
    return group
