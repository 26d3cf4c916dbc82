"""django-celery-beat's own pages show every researcher's tasks: superusers only.

Django imports this module after django_celery_beat's admin (INSTALLED_APPS order), and replaces
each registered beat ModelAdmin with a subclass that refuses non-superusers.
"""

from __future__ import annotations

from django.contrib import admin
from django_celery_beat import models as beat


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
