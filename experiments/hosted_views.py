"""The participant's pages of a batch crowdhr hosts (Prolific), under /study/<pk>/items/.

- `start`: Prolific's link (PROLIFIC_PID, STUDY_ID, SESSION_ID, read by `platforms.arrivals`). The
  platform confirms the session (`experiments.hosted.session_place`), this browser is bound to the
  participant's place (`experiments.places`, the cookie of the study's pages), the session's set of
  items is allotted (`experiments.hosted`), and the participant goes to their first unanswered
  item. Without the link's parameters, the browser holding a place resumes where it was.
- `item`: one item's question form (the researcher's template, rendered as the platform would render
  it, under the site's Content-Security-Policy: scripts run only with the page's nonce), posted
  with CSRF; only the items of the session this browser holds, each answered once, the answers
  checked against the task's fields and lengths.
- `done`: every item answered: Prolific's completion URL with the study's code.
"""

from __future__ import annotations

import contextlib

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from experiments import hosted, places, services
from experiments.models import Experiment, HostedAnswer, Participant
from experiments.views import BadRequest, arrival_of, worker_page
from platforms import PlatformError

NOT_YOURS = (
    "These pages belong to the browser in which the study was started. "
    "Please continue in that browser (or open the study again from Prolific)."
)


def _batch(pk: int) -> Experiment:
    experiment = (
        Experiment.objects.filter(pk=pk, kind=Experiment.Kind.BATCH, published_at__isnull=False)
        .select_related("account")
        .first()
    )
    if experiment is None:
        raise BadRequest("There is no such study. Please return it on Prolific.", status=404)
    return experiment


def _held(request: HttpRequest, experiment: Experiment) -> Participant:
    participant = places.held_place(request, experiment)
    if participant is None or not participant.assignment_id:
        raise BadRequest(NOT_YOURS, status=403)
    return participant


def _rows(experiment: Experiment, participant: Participant) -> list[HostedAnswer]:
    return list(
        HostedAnswer.objects.filter(
            experiment=experiment, session_id=participant.assignment_id, worker_id=participant.worker_id
        )
    )


def _next_url(experiment: Experiment, rows: list[HostedAnswer]) -> str:
    row = hosted.next_item(rows)
    if row is None:
        return reverse("experiments:hosted_done", args=[experiment.pk])
    return reverse("experiments:hosted_item", args=[experiment.pk, row.position])


@require_GET
@worker_page
def start(request: HttpRequest, pk: int) -> HttpResponse:
    """Prolific's link: the participant's place bound to this browser, their items allotted."""
    experiment = _batch(pk)
    held = places.held_place(request, experiment)
    if held is not None and held.assignment_id and "PROLIFIC_PID" not in request.GET:
        participant = held  # the browser holding the place comes back
    else:
        arrival = arrival_of(request)
        if arrival.preview or arrival.platform != experiment.account.platform:
            raise BadRequest("This study is not posted on that platform.", status=404)
        try:
            participant = hosted.session_place(
                experiment=experiment,
                held=held,
                worker_id=arrival.worker_id,
                session_id=arrival.assignment_id,
                study_id=arrival.work_id,
            )
        except hosted.NotYours as error:
            raise BadRequest(str(error), status=403) from error
    rows = _rows(experiment, participant)
    if not rows:
        with contextlib.suppress(PlatformError):  # the time allowed frees them too
            hosted.release_returned(experiment=experiment)
        try:
            rows = hosted.participant_items(
                experiment=experiment,
                worker_id=participant.worker_id,
                session_id=participant.assignment_id,
                study_id=participant.hit_id,
            )
        except hosted.NothingLeft:
            response = render(request, "experiments/hosted_return.html", {"experiment": experiment})
            places.bind(request, response, participant)
            return response
        except PermissionError as error:
            raise BadRequest(NOT_YOURS, status=403) from error
    response = HttpResponseRedirect(_next_url(experiment, rows))
    places.bind(request, response, participant)
    return response


@require_http_methods(["GET", "POST"])
@worker_page
def item(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    """One item of the set this browser's session holds: its form, and saving its answer once."""
    experiment = _batch(pk)
    participant = _held(request, experiment)
    rows = _rows(experiment, participant)
    row = next((r for r in rows if r.position == position), None)
    if row is None:
        raise BadRequest("This item is not one of yours.", status=404)
    if row.answered_at is not None:
        return HttpResponseRedirect(_next_url(experiment, rows))
    error = ""
    if request.method == "POST":
        try:
            answers = hosted.clean_answers(hosted.item_task(row), request.POST)
        except hosted.BadAnswer as problem:
            error = str(problem)
        else:
            hosted.answer_item(row=row, answers=answers)
            return HttpResponseRedirect(_next_url(experiment, _rows(experiment, participant)))
    context = {
        "experiment": experiment,
        "body": hosted.item_form_body(row),
        "position": row.position,
        "count": len(rows),
        "error": error,
    }
    return render(request, "experiments/hosted_item.html", context, status=400 if error else 200)


@require_GET
@worker_page
def done(request: HttpRequest, pk: int) -> HttpResponse:
    """Every item answered: hand the submission in at Prolific's completion URL."""
    experiment = _batch(pk)
    participant = _held(request, experiment)
    rows = _rows(experiment, participant)
    if not rows:
        raise BadRequest(NOT_YOURS, status=403)
    if hosted.next_item(rows) is not None:
        return HttpResponseRedirect(_next_url(experiment, rows))
    try:
        completion = services.study_completion(experiment, participant.hit_id)
    except services.ServiceError as error:
        raise BadRequest("The platform does not answer right now. Please reload this page.", 503) from error
    if completion is None:
        raise BadRequest("This study is handed in on its platform.", status=404)
    context = {"experiment": experiment, "completion_url": completion.url, "code": completion.code}
    return render(request, "experiments/hosted_done.html", context)
