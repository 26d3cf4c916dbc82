"""Worker-facing pages of oTree studies and hosted batches, under /study/ (see crowdhr/urls.py)."""

from __future__ import annotations

from django.urls import path

from experiments import hosted_views, views

app_name = "experiments"

urlpatterns = [
    path("<int:pk>/", views.landing, name="landing"),
    path("<int:pk>/screen/", views.screen, name="screen"),
    path("<int:pk>/done/", views.done, name="done"),
    path("<int:pk>/submitting/", views.submitting, name="submitting"),
    # a batch hosted by crowdhr (Prolific): experiments.hosted_views
    path("<int:pk>/items/", hosted_views.start, name="hosted_start"),
    path("<int:pk>/items/<int:position>/", hosted_views.item, name="hosted_item"),
    path("<int:pk>/items/done/", hosted_views.done, name="hosted_done"),
]
