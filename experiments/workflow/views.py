"""The worker's pages of a hosted-tasks study: landing, intro, qualification, training, tasks, finish.

The landing takes the platform's identity (Prolific's PROLIFIC_PID, STUDY_ID, SESSION_ID; MTurk's
workerId, assignmentId, hitId, turkSubmitTo) and gives this browser its place by the rules of
`experiments.places` (the same cookie, scoped to /study/<pk>/). Every page after it answers only to
the browser holding the place; every POST also carries the place's token, so another site cannot
post for the worker. Real tasks load one after another without a page reload (`next_task` and
`save_task` answer JSON); the stop button is on every task page.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from experiments import places
from experiments import services as study_services
from experiments.completion import completion_code
from experiments.views import NOT_YOURS, REFUSALS, BadRequest, arrival_of, claim_place, worker_page
from experiments.workflow import services
from experiments.workflow.models import HostedStudy, Item, Stage, Task, WorkerPlace
from experiments.workflow.packages import render_item

TRACKED = ("language", "timezone")


def _study(pk: int) -> HostedStudy:
    study = (
        HostedStudy.objects.filter(experiment_id=pk, experiment__published_at__isnull=False)
        .select_related("experiment__account")
        .first()
    )
    if study is None:
        raise BadRequest("There is no such study. Please return it.", status=404)
    return study


def _place(request: HttpRequest, pk: int) -> WorkerPlace:
    study = _study(pk)
    participant = places.held_place(request, study.experiment)
    place = None if participant is None else WorkerPlace.objects.filter(participant=participant).first()
    if place is None:
        raise BadRequest(NOT_YOURS, status=403)
    place.study = study
    return place


def _posted(request: HttpRequest, pk: int) -> WorkerPlace:
    """The place of a POST: the holder's browser, with the token its pages carry."""
    place = _place(request, pk)
    if not places.submit_token_ok(place.participant, request.POST.get("token", "")[:128]):
        raise BadRequest(NOT_YOURS, status=403)
    return place


def _urls(pk: int) -> dict[str, str]:
    names = ("work", "intro", "answer", "next_task", "save_task", "stop")
    return {f"{name}_url": reverse(f"workflow:{name}", args=[pk]) for name in names}


@require_GET
@worker_page
def landing(request: HttpRequest, pk: int) -> HttpResponse:
    """Where the platform sends the worker: their place, bound to this browser, then the workflow."""
    study = _study(pk)
    experiment = study.experiment
    arrival = arrival_of(request)
    if arrival.preview:
        return render(request, "workflow/preview.html", {"experiment": experiment, "study": study})
    claim = claim_place(request, experiment, arrival)
    if claim.participant is None:
        return _refused(request, study, claim.refusal)
    services.place_open(study=study, participant=claim.participant, at=claim.at)
    response = HttpResponseRedirect(reverse("workflow:work", args=[pk]))
    places.bind(request, response, claim.participant)
    return response


def _refused(request: HttpRequest, study: HostedStudy, refusal: str) -> HttpResponse:
    if refusal in REFUSALS:
        message, status = REFUSALS[refusal]
        raise BadRequest(message, status=status)
    if refusal == "wait":
        return render(request, "experiments/wait.html", {"experiment": study.experiment})
    if refusal == "done":  # handed in already: the finish page says how it ended
        return render(request, "workflow/message.html", {"experiment": study.experiment, "message": DONE})
    return render(request, "experiments/please_return.html", {"experiment": study.experiment, "why": refusal})


DONE = "You have finished this study already. Thank you!"


@require_GET
@worker_page
def work(request: HttpRequest, pk: int) -> HttpResponse:
    """The worker's current page: whatever their stage is, on every visit (resume)."""
    place = _place(request, pk)
    context: dict[str, Any] = {
        "experiment": place.study.experiment,
        "study": place.study,
        "token": places.submit_token(place.participant),
        **_urls(pk),
    }
    if place.ended:
        return _finish(request, place, context)
    page = place.stage
    task = None
    if page == Stage.QUALIFICATION:
        task = services.qualification_current(place)
    elif page == Stage.TRAINING:
        task = services.training_current(place)
    view = services.page_shown(
        place=place, page=page, task=task, user_agent=request.headers.get("User-Agent", "")
    )
    context["view"] = view.pk
    if page == Stage.INTRO:
        return render(request, "workflow/intro.html", context)
    if page == Stage.TASKS:
        return render(request, "workflow/tasks.html", context)
    if task is None:  # the stage's last answer was saved a moment ago (another tab)
        return HttpResponseRedirect(reverse("workflow:work", args=[pk]))
    context.update(task=task, item_html=render_item(place.study, task.item.inputs), stage=page)
    context["count"] = place.tasks.filter(kind=task.kind).count()
    return render(request, "workflow/question.html", context)


def _finish(request: HttpRequest, place: WorkerPlace, context: dict[str, Any]) -> HttpResponse:
    """How the participation ended, and how to hand the work back to the platform."""
    participant = place.participant
    experiment = place.study.experiment
    context.update(place=place, participant=participant, saved=services.paid_tasks(place).count())
    context["pay"] = services.pay_owed(place)
    if not services.place_is_paid_for(place):
        return render(request, "workflow/failed.html", context)
    try:
        completion = study_services.study_completion(experiment, participant.hit_id)
    except study_services.ServiceError as error:
        raise BadRequest("The platform does not answer right now. Please reload this page.", 503) from error
    if completion is not None:
        context.update(completion_url=completion.url, code=completion.code)
    else:
        context.update(
            submit_url=participant.turk_submit_to + "/mturk/externalSubmit",
            code=completion_code(experiment.pk, participant.assignment_id, participant.worker_id),
        )
    return render(request, "workflow/finish.html", context)


def _answer(request: HttpRequest, place: WorkerPlace) -> dict[str, str]:
    return {name: request.POST.get(name, "")[:5000].strip() for name in place.study.fields}


def _track(request: HttpRequest, place: WorkerPlace) -> None:
    services.page_completed(
        place=place,
        view_pk=request.POST.get("view"),
        screen=request.POST.get("screen", ""),
        window=request.POST.get("window", ""),
        extra={name: request.POST[name][:500] for name in TRACKED if request.POST.get(name)},
    )


@csrf_exempt
@require_POST
@worker_page
def intro(request: HttpRequest, pk: int) -> HttpResponse:
    """The worker consented: on to the qualification (if needed), training or tasks."""
    place = _posted(request, pk)
    _track(request, place)
    if request.POST.get("consent") == "yes":
        services.intro_accept(place=place)
    return HttpResponseRedirect(reverse("workflow:work", args=[pk]))


@csrf_exempt
@require_POST
@worker_page
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    """One qualification or training answer; training shows the right answer and why."""
    place = _posted(request, pk)
    _track(request, place)
    task = place.tasks.filter(pk=_int(request.POST.get("task")) or 0).select_related("item").first()
    if task is None or not task.open:
        return HttpResponseRedirect(reverse("workflow:work", args=[pk]))
    given = _answer(request, place)
    if task.kind == Item.Kind.QUALIFICATION and place.stage == Stage.QUALIFICATION:
        services.qualification_answer(place=place, task=task, answer=given)
    elif task.kind == Item.Kind.TRAINING and place.stage == Stage.TRAINING:
        task = services.training_submit(place=place, task=task, answer=given)
        context = {
            "experiment": place.study.experiment,
            "task": task,
            "given": given,
            "expected": task.item.expected or {},
            "item_html": render_item(place.study, task.item.inputs),
            **_urls(pk),
        }
        return render(request, "workflow/training_answer.html", context)
    return HttpResponseRedirect(reverse("workflow:work", args=[pk]))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _task_json(request: HttpRequest, place: WorkerPlace) -> JsonResponse:
    task = services.task_current(place=place)
    if task is None:
        return JsonResponse(
            {"finished": True, "finish_url": reverse("workflow:work", args=[place.study.experiment_id])}
        )
    view = services.page_shown(
        place=place, page=Stage.TASKS, task=task, user_agent=request.headers.get("User-Agent", "")
    )
    done = place.tasks.filter(kind=Item.Kind.TASK, status=Task.Status.SAVED).count()
    return JsonResponse(
        {
            "task": task.pk,
            "view": view.pk,
            "html": render_item(place.study, task.item.inputs),
            "done": done,
            "of": place.study.tasks_per_worker,
        }
    )


@require_GET
@worker_page
def next_task(request: HttpRequest, pk: int) -> HttpResponse:
    """The worker's current task as JSON (the open one, else the next from their queue)."""
    place = _place(request, pk)
    if place.stage != Stage.TASKS:
        return JsonResponse({"finished": True, "finish_url": reverse("workflow:work", args=[pk])})
    return _task_json(request, place)


@csrf_exempt
@require_POST
@worker_page
def save_task(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the answer to the current task, then answer with the next one (no page reload)."""
    place = _posted(request, pk)
    _track(request, place)
    services.task_save(
        place=place,
        task_pk=_int(request.POST.get("task")) or 0,
        answer=_answer(request, place),
        skip=request.POST.get("skip") == "yes",
    )
    place.refresh_from_db()
    if place.stage != Stage.TASKS:
        return JsonResponse({"finished": True, "finish_url": reverse("workflow:work", args=[pk])})
    return _task_json(request, place)


@csrf_exempt
@require_POST
@worker_page
def stop(request: HttpRequest, pk: int) -> HttpResponse:
    """The stop button: the worker's participation ends now, and what they did is paid."""
    place = _posted(request, pk)
    services.place_stop(place=place)
    return HttpResponseRedirect(reverse("workflow:work", args=[pk]))
