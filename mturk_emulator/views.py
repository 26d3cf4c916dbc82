"""The worker marketplace of the local Mechanical Turk: pages a person clicks through.

A simulated worker is chosen once and kept in the session. Work happens as on MTurk: the
ExternalQuestion page in an iframe with assignmentId, hitId, workerId and turkSubmitTo in its
query, answers coming back through /emulator/mturk/externalSubmit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escapejs
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mturk_emulator import lifecycle, qualifications, workers
from mturk_emulator.models import (
    HIT,
    Assignment,
    BonusPayment,
    Qualification,
    QualificationType,
    SimulatedWorker,
    WorkerMessage,
)
from mturk_emulator.protocol import is_storable_text
from mturk_emulator.questions import answers_from_xml, parse_question

SESSION_KEY = "emulator_worker_id"
PREVIEW_ASSIGNMENT = "ASSIGNMENT_ID_NOT_AVAILABLE"
_MTURK_SUBMIT_URLS = re.compile(r"https://(www|workersandbox)\.mturk\.com/mturk/externalSubmit")
_NOT_ANSWERS = {"assignmentId", "csrfmiddlewaretoken"}


def _worker_id(request: HttpRequest) -> str | None:
    return request.session.get(SESSION_KEY)


def _chosen_worker(request: HttpRequest) -> str:
    """The session's worker in a view behind `needs_worker` (which sends visitors without one away)."""
    worker_id = _worker_id(request)
    assert worker_id is not None, "only for views behind needs_worker"
    return worker_id


def needs_worker(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send a visitor without a chosen worker back to the marketplace to choose one."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _worker_id(request):
            messages.error(request, "Choose a worker first.")
            return redirect("mturk_emulator:market")
        return view(request, *args, **kwargs)

    return wrapped


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    """Render a marketplace page; the header always shows who is working."""
    context = {"worker_id": _worker_id(request)} | context
    return render(request, f"mturk_emulator/{template}", context, status=status)


def _problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return _page(request, "problem.html", {"message": message}, status=status)


def turk_submit_to(request: HttpRequest) -> str:
    """The base URL MTurk passes as turkSubmitTo: + "/mturk/externalSubmit" is the submit path."""
    return request.build_absolute_uri(reverse("mturk_emulator:market")).rstrip("/")


def with_query(url: str, params: dict[str, str]) -> str:
    """`url` with `params` added to its query string (keeping what it already has)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _task_params(request: HttpRequest, hit: HIT, assignment_id: str, worker_id: str | None) -> dict[str, str]:
    params = {"assignmentId": assignment_id, "hitId": hit.hit_id}
    if assignment_id != PREVIEW_ASSIGNMENT and worker_id:
        params |= {"workerId": worker_id, "turkSubmitTo": turk_submit_to(request)}
    return params


def _task_frame(
    request: HttpRequest, hit: HIT, assignment_id: str, worker_id: str | None
) -> dict[str, object]:
    """How the task is shown: an iframe URL (external or HTML question) or question form fields."""
    params = _task_params(request, hit, assignment_id, worker_id)
    height = hit.frame_height or 600
    if hit.question_kind == "ExternalQuestion":
        return {"frame_url": with_query(hit.external_url, params), "frame_height": height}
    if hit.question_kind == "HTMLQuestion":
        url = reverse("mturk_emulator:hit_html", args=[hit.hit_id])
        return {"frame_url": with_query(url, params), "frame_height": height}
    if hit.question_kind == "QuestionForm":
        return {"form_fields": parse_question(hit.question).form_fields}
    return {"form_fields": (("answer", "Your answer"),)}


# --- Choosing a worker --------------------------------------------------------------------


@require_GET
def market(request: HttpRequest) -> HttpResponse:
    """The marketplace: who you are, the HITs you can find, the work you have accepted."""
    worker_id = _worker_id(request)
    hits = workers.marketplace_hits(worker_id)
    mine = (
        Assignment.objects.filter(worker_id=worker_id, status=Assignment.ACCEPTED).select_related("hit")
        if worker_id
        else []
    )
    context = {
        "worker_id": worker_id,
        "known_workers": SimulatedWorker.objects.order_by("worker_id").values_list("worker_id", flat=True)[
            :200
        ],
        "hits": [(hit, hit.max_assignments - hit.taken) for hit in hits],
        "accepted": mine,
        "unread": WorkerMessage.objects.filter(worker_id=worker_id).count() if worker_id else 0,
    }
    return _page(request, "market.html", context)


@require_POST
def choose_worker(request: HttpRequest) -> HttpResponse:
    """Become a simulated worker: an existing one, a typed name, or a fresh random id."""
    choice = request.POST.get("worker_id") or request.POST.get("name", "")
    try:
        if not is_storable_text(choice):
            raise workers.WorkRefused("A worker name cannot contain NUL characters.")
        worker_id = (
            workers.new_random_worker() if request.POST.get("random") else workers.worker_id_from_name(choice)
        )
        workers.ensure_worker(worker_id)
    except workers.WorkRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("mturk_emulator:market")
    request.session[SESSION_KEY] = worker_id
    messages.success(request, f"You are now working as {worker_id}.")
    return redirect("mturk_emulator:market")


@require_POST
def forget_worker(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return redirect("mturk_emulator:market")


# --- A HIT: preview, accept, work, return -------------------------------------------------


def _find_hit(hit_id: str) -> HIT | None:
    return HIT.objects.select_related("account").filter(hit_id=hit_id, disposed=False).first()


@require_GET
def hit_preview(request: HttpRequest, hit_id: str) -> HttpResponse:
    """A HIT as a worker previews it, with the task shown as ASSIGNMENT_ID_NOT_AVAILABLE."""
    hit = _find_hit(hit_id)
    if hit is None:
        return _problem(request, f"There is no HIT {hit_id}.", 404)
    worker_id = _worker_id(request)
    refusal = workers.preview_refusal(hit, worker_id)
    context = {
        "hit": hit,
        "worker_id": worker_id,
        "refusal": refusal,
        "status": lifecycle.hit_status(hit),
        "available": lifecycle.hit_counts(hit).available,
        "requirements": [qualifications.describe(r) for r in hit.qualification_requirements],
        "task": {} if refusal else _task_frame(request, hit, PREVIEW_ASSIGNMENT, worker_id),
    }
    return _page(request, "preview.html", context)


@require_POST
@needs_worker
def hit_accept(request: HttpRequest, hit_id: str) -> HttpResponse:
    """Accept a HIT as the session's worker; a refusal comes back as a message on the preview."""
    worker_id = _chosen_worker(request)
    try:
        assignment_id = workers.accept(hit_id, worker_id)
    except workers.WorkRefused as refusal:
        messages.error(request, str(refusal))
        if _find_hit(hit_id) is None:
            return redirect("mturk_emulator:market")
        return redirect("mturk_emulator:hit_preview", hit_id=hit_id)
    return redirect("mturk_emulator:assignment_work", assignment_id=assignment_id)


def _own_assignment(request: HttpRequest, assignment_id: str) -> Assignment | HttpResponse:
    assignment = Assignment.objects.select_related("hit").filter(assignment_id=assignment_id).first()
    if assignment is None:
        return _problem(request, f"There is no assignment {assignment_id}.", 404)
    if assignment.worker_id != _worker_id(request):
        return _problem(request, "This assignment belongs to another worker.", 403)
    return assignment


@require_GET
def assignment_work(request: HttpRequest, assignment_id: str) -> HttpResponse:
    """Work on an accepted assignment: the task, a timer, and a way to return it."""
    lifecycle.process_due()
    assignment = _own_assignment(request, assignment_id)
    if isinstance(assignment, HttpResponse):
        return assignment
    if assignment.status != Assignment.ACCEPTED:
        messages.info(request, f"This assignment is {assignment.status.lower()}.")
        return redirect("mturk_emulator:market")
    context = {
        "assignment": assignment,
        "hit": assignment.hit,
        "worker_id": assignment.worker_id,
        "task": _task_frame(request, assignment.hit, assignment.assignment_id, assignment.worker_id),
        "submit_url": reverse("mturk_emulator:external_submit"),
    }
    return _page(request, "work.html", context)


@require_POST
def assignment_return(request: HttpRequest, assignment_id: str) -> HttpResponse:
    """Give the assignment back so another worker can take it."""
    assignment = _own_assignment(request, assignment_id)
    if isinstance(assignment, HttpResponse):
        return assignment
    try:
        workers.return_assignment(assignment_id)
    except workers.WorkRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, f"You returned \u201c{assignment.hit.title}\u201d.")
    return redirect("mturk_emulator:market")


@require_GET
@xframe_options_sameorigin
def hit_html(request: HttpRequest, hit_id: str) -> HttpResponse:
    """An HTMLQuestion's page, served inside the task frame; MTurk's submit URL points here."""
    hit = _find_hit(hit_id)
    if hit is None or hit.question_kind != "HTMLQuestion":
        return _problem(request, f"There is no HTML question for HIT {hit_id}.", 404)
    submit_url = request.build_absolute_uri(reverse("mturk_emulator:external_submit"))
    content = _MTURK_SUBMIT_URLS.sub(submit_url, hit.html_content)
    assignment_id = escapejs(request.GET.get("assignmentId", PREVIEW_ASSIGNMENT))
    # HTMLQuestion pages expect MTurk to fill the hidden assignmentId field.
    filler = (
        "<script>document.addEventListener('DOMContentLoaded',function(){"
        "document.querySelectorAll('input[name=assignmentId]').forEach(function(el){"
        f"if(!el.value){{el.value='{assignment_id}';}}}});}});</script>"
    )
    response = HttpResponse(filler + content)
    # Requester HTML runs in an opaque origin, as on MTurk's separate domain: it cannot read our cookies.
    response["Content-Security-Policy"] = "sandbox allow-scripts allow-forms allow-popups allow-modals"
    return response


# --- Submitting ---------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
@xframe_options_sameorigin
def external_submit(request: HttpRequest) -> HttpResponse:
    """MTurk's externalSubmit: every field but assignmentId becomes a QuestionFormAnswers answer."""
    data = request.POST if request.method == "POST" else request.GET
    assignment_id = data.get("assignmentId", "")
    if not all(is_storable_text(text) for key, value in data.lists() for text in (key, *value)):
        return _problem(request, "The submission contains NUL characters or unpaired surrogates.", 400)
    if not assignment_id or assignment_id == PREVIEW_ASSIGNMENT:
        return _problem(request, "The submission has no assignmentId: accept the HIT before submitting.", 400)
    if not Assignment.objects.filter(assignment_id=assignment_id).exists():
        return _problem(request, f"There is no assignment {assignment_id}.", 404)
    answers = {key: data[key] for key in data if key not in _NOT_ANSWERS}  # the last value, as MTurk
    try:
        workers.submit(assignment_id, answers)
    except workers.WorkRefused as refusal:
        return _problem(request, str(refusal), 400)
    return redirect("mturk_emulator:submitted", assignment_id=assignment_id)


@require_GET
@xframe_options_sameorigin
def submitted(request: HttpRequest, assignment_id: str) -> HttpResponse:
    """The page after a submission: what was sent, and the way back to the marketplace."""
    assignment = Assignment.objects.select_related("hit").filter(assignment_id=assignment_id).first()
    if assignment is None:
        return _problem(request, f"There is no assignment {assignment_id}.", 404)
    context = {"assignment": assignment, "answers": answers_from_xml(assignment.answer)}
    return _page(request, "submitted.html", context)


# --- The worker's own page ----------------------------------------------------------------


@require_GET
@needs_worker
def worker_dashboard(request: HttpRequest) -> HttpResponse:
    """The session worker's earnings, bonuses, messages, qualifications and past work."""
    worker_id = _chosen_worker(request)
    held = Qualification.objects.filter(worker_id=worker_id).select_related("qualification_type")
    context = {
        "worker_id": worker_id,
        "messages_received": WorkerMessage.objects.filter(worker_id=worker_id)[:50],
        "qualifications": held,
        "requestable": [
            qtype
            for qtype in QualificationType.objects.filter(deleted=False, status="Active").exclude(
                scores__worker_id=worker_id, scores__status=Qualification.GRANTED
            )
            if qtype.is_requestable
        ],
        "history": Assignment.objects.filter(worker_id=worker_id)
        .select_related("hit")
        .order_by("-accept_time")[:50],
        "bonuses": BonusPayment.objects.filter(worker_id=worker_id)
        .select_related("assignment__hit")
        .order_by("-grant_time")[:50],
        **_earnings(worker_id),
    }
    return _page(request, "worker.html", context)


def _earnings(worker_id: str) -> dict[str, Decimal]:
    """What the worker earned: rewards of approved assignments and bonuses."""
    rewards = Assignment.objects.filter(worker_id=worker_id, status=Assignment.APPROVED).aggregate(
        total=Sum("hit__reward")
    )["total"] or Decimal("0.00")
    bonuses = BonusPayment.objects.filter(worker_id=worker_id).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal("0.00")
    return {"earned_rewards": rewards, "earned_bonuses": bonuses, "earned_total": rewards + bonuses}


@require_POST
@needs_worker
def qualification_request(request: HttpRequest, qualification_type_id: str) -> HttpResponse:
    """Ask a requester for a qualification as the session worker."""
    worker_id = _chosen_worker(request)
    try:
        answer = request.POST.get("answer", "")
        if not is_storable_text(answer):
            raise workers.WorkRefused("The answer contains NUL characters or unpaired surrogates.")
        request_id = workers.request_qualification(qualification_type_id, worker_id, answer)
    except workers.WorkRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request, "Request sent to the requester." if request_id else "Qualification granted."
        )
    return redirect("mturk_emulator:worker")
