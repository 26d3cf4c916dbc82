"""Worker-facing pages of oTree studies, under /study/ (see crowdhr/urls.py)."""

from __future__ import annotations

from django.urls import path

from experiments import views

app_name = "experiments"

urlpatterns = [
    path("<int:pk>/", views.landing, name="landing"),
    path("<int:pk>/screen/<str:token>/", views.screen, name="screen"),
    path("<int:pk>/go/<str:token>/", views.go, name="go"),
    path("<int:pk>/done/", views.done, name="done"),
    path("<int:pk>/submitting/", views.submitting, name="submitting"),
]
