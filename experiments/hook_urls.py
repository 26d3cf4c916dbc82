"""Where platforms deliver hooks, under /hooks/ (see crowdhr/urls.py and experiments.hooks)."""

from __future__ import annotations

from django.urls import path

from experiments import hook_views

app_name = "hooks"

urlpatterns = [
    path("prolific/<int:account_id>/", hook_views.prolific_hook, name="prolific"),
]
