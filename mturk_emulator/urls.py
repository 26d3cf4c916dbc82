"""The local Mechanical Turk under /emulator/: requester API, external submit, faults, marketplace."""

from __future__ import annotations

from django.urls import path

from mturk_emulator import api

app_name = "mturk_emulator"

urlpatterns = [
    path("mturk/", api.requester_api, name="requester_api"),
    path("mturk", api.requester_api),
    path("faults/", api.fault_control, name="faults"),
]
