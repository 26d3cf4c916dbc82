"""The local Mechanical Turk under /emulator/: requester API, external submit, faults, marketplace."""

from __future__ import annotations

from django.urls import path

from mturk_emulator import api, views

app_name = "mturk_emulator"

urlpatterns = [
    path("mturk/", api.requester_api, name="requester_api"),
    path("mturk", api.requester_api),
    path("mturk/externalSubmit", views.external_submit, name="external_submit"),
    path("faults/", api.fault_control, name="faults"),
    path("", views.market, name="market"),
    path("worker/", views.choose_worker, name="choose_worker"),
    path("worker/forget/", views.forget_worker, name="forget_worker"),
    path("me/", views.worker_dashboard, name="worker"),
    path(
        "qualifications/<str:qualification_type_id>/request/",
        views.qualification_request,
        name="qual_request",
    ),
    path("hits/<str:hit_id>/", views.hit_preview, name="hit_preview"),
    path("hits/<str:hit_id>/accept/", views.hit_accept, name="hit_accept"),
    path("hits/<str:hit_id>/html/", views.hit_html, name="hit_html"),
    path("assignments/<str:assignment_id>/", views.assignment_work, name="assignment_work"),
    path("assignments/<str:assignment_id>/return/", views.assignment_return, name="assignment_return"),
    path("assignments/<str:assignment_id>/submitted/", views.submitted, name="submitted"),
]
