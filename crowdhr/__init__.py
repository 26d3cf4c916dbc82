import django_stubs_ext

from .celery import app as celery_app

# Generic classes at run time as django-stubs types them (admin.ModelAdmin[HIT], QuerySet[HIT]).
django_stubs_ext.monkeypatch()

__all__ = ("celery_app",)
