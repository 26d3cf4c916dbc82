"""The local Mechanical Turk under /emulator/: requester API, external submit, faults, marketplace."""

from __future__ import annotations

from django.urls import path, register_converter

from mturk_emulator import api, views


class EntityIdConverter:
    """MTurk ids are letters and digits: anything else in the path (a NUL byte, say) is a 404."""

    regex = "[A-Za-z0-9]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(EntityIdConverter, "mturk_id")

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
        "qualifications/<mturk_id:qualification_type_id>/request/",
        views.qualification_request,
        name="qual_request",
    ),
    path("hits/<mturk_id:hit_id>/", views.hit_preview, name="hit_preview"),
    path("hits/<mturk_id:hit_id>/accept/", views.hit_accept, name="hit_accept"),
    path("hits/<mturk_id:hit_id>/html/", views.hit_html, name="hit_html"),
    path("assignments/<mturk_id:assignment_id>/", views.assignment_work, name="assignment_work"),
    path("assignments/<mturk_id:assignment_id>/return/", views.assignment_return, name="assignment_return"),
    path("assignments/<mturk_id:assignment_id>/submitted/", views.submitted, name="submitted"),
]
