"""The landing benchmark's baseline: what a bare redirector does, served by the same gunicorn.

One `get_or_create` on a (study, worker) row and a 302 into oTree, in the style of oTree HR: no
validation, no place bound to the browser, no platform. Served only by the benchmark (its settings
module `bench._baseline_settings` adds this URL to crowdhr's), never by crowdhr itself.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import include, path

SESSION_WIDE_URL = "http://127.0.0.1:9/join/benchmark"


def bare_landing(request: HttpRequest, pk: int) -> HttpResponse:
    from experiments.models import Participant  # the benchmark imports this module before Django is set up

    worker_id = request.GET.get("workerId", "")
    Participant.objects.get_or_create(experiment_id=pk, worker_id=worker_id)
    return HttpResponseRedirect(f"{SESSION_WIDE_URL}?{urlencode({'participant_label': worker_id})}")


urlpatterns = [
    path("baseline/<int:pk>/", bare_landing),
    path("", include("crowdhr.urls")),
]
