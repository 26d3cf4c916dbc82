"""The Celery app: tasks are discovered in each app's tasks.py, schedules live in the database."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crowdhr.settings")

app = Celery("crowdhr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
