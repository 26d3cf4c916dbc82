"""Worker-facing pages of hosted-tasks studies, under /study/<pk>/hosted/ (inside the path of the
cookie that binds a place to its browser, see experiments.places)."""

from __future__ import annotations

from django.urls import path

from experiments.workflow import views

app_name = "workflow"

urlpatterns = [
    path("<int:pk>/hosted/", views.landing, name="landing"),
    path("<int:pk>/hosted/work/", views.work, name="work"),
    path("<int:pk>/hosted/intro/", views.intro, name="intro"),
    path("<int:pk>/hosted/answer/", views.answer, name="answer"),
    path("<int:pk>/hosted/task/", views.next_task, name="next_task"),
    path("<int:pk>/hosted/task/save/", views.save_task, name="save_task"),
    path("<int:pk>/hosted/stop/", views.stop, name="stop"),
]
