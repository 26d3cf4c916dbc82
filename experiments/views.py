"""The worker's way through an oTree study: HIT preview, landing, redirect into oTree, done and submit.

The platform sends the worker here with its identity in the link (read and validated by
`platforms.arrivals`: MTurk's `assignmentId`, `hitId`, `workerId`, `turkSubmitTo`). Every parameter is
checked; bad input gets a clear 400/403/404 page and changes nothing. The landing gives this browser
its place (`experiments.places`) and answers with one redirect into oTree: no page in between, no
oTree call (a worker's oTree participant is found by its label, the worker id). The pages after it
(done, submit) answer only to the browser holding the place, never to ids in a query string.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from crowdhr.memo import Memo
from experiments import places, services
from experiments.completion import completion_code
from experiments.models import Experiment, Participant
from platforms.arrivals import Arrival, BadArrival, arrival_from, is_worker_id

SCREEN = re.compile(r"\d{2,5}x\d{2,5}")
MTURK_SUBMIT_HOSTS = ("https://www.mturk.com", "https://workersandbox.mturk.com")


class BadRequest(Exception):
    """A worker-facing request that cannot be served; `status` is 400 or 404."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "experiments/problem.html", {"message": message}, status=status)


STUDY_FIELDS = (
    "kind",
    "title",
    "description",
    "num_participants",
    "otree_session_code",
    "otree_session_wide_url",
    "account_id",
    "otree_site_id",
    "duration_seconds",
)


#: how long worker pages trust what they read of a study (its title, size, oTree link, platform):
#: a change a researcher makes reaches every web process within this time
STUDY_CACHE_SECONDS = 5


_STUDIES: Memo[Experiment] = Memo(STUDY_CACHE_SECONDS)


def _study(pk: int) -> Experiment:
    """A published oTree study, with only what worker pages show (the landing is a hot path: read
    at most every STUDY_CACHE_SECONDS by each web process, and shared by its threads: read-only)."""
    experiment = _STUDIES.get_or_make(
        pk,
        lambda: (
            Experiment.objects.filter(pk=pk, kind=Experiment.Kind.OTREE)
            .exclude(otree_session_wide_url="")
            .select_related("account")
            .only(*STUDY_FIELDS, "account__platform", "account__environment")
            .first()
        ),
    )
    if experiment is None:
        raise BadRequest("There is no such study. Please return the HIT.", status=404)
    return experiment


def arrival_of(request: HttpRequest) -> Arrival:
    try:
        return arrival_from(request.GET)
    except BadArrival as error:
        raise BadRequest(str(error)) from error


def allowed_submit_bases(request: HttpRequest) -> set[str]:
    """Where a worker's assignment may be submitted: MTurk, or crowdhr's own local Mechanical Turk."""
    allowed = set(MTURK_SUBMIT_HOSTS)
    if settings.EMULATOR_ENABLED:
        emulator = settings.MTURK_EMULATOR_URL.rstrip("/").removesuffix("/mturk")
        allowed |= {emulator, settings.SITE_URL + "/emulator", request.build_absolute_uri("/emulator")}
    return {base.rstrip("/") for base in allowed}


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _is_local_emulator(value: str) -> bool:
    """The local Mechanical Turk on this machine, whichever loopback name the browser used."""
    parts = urlsplit(value)
    return (
        settings.EMULATOR_ENABLED
        and parts.scheme in ("http", "https")
        and parts.hostname in LOOPBACK_HOSTS
        and parts.path == "/emulator"
        and not (parts.query or parts.fragment or parts.username or parts.password)
    )


def claim_place(request: HttpRequest, experiment: Experiment, arrival: Arrival) -> places.Claim:
    """The place a (non-preview) arrival claims for this browser: the one check of platform, submit
    address and HIT that every worker-facing landing makes before `places.place_claim`."""
    if arrival.platform != experiment.account.platform:
        raise BadRequest("This study is not posted on that platform.", status=404)
    submit_base = _submit_base(request, arrival.submit_to) if arrival.submit_to else ""
    duration = services.study_hit_duration(experiment, arrival.work_id)
    if duration is None:
        raise BadRequest("This HIT does not belong to this study. Please open this study from its HIT.")
    landing = places.Landing(
        worker_id=arrival.worker_id,
        assignment_id=arrival.assignment_id,
        hit_id=arrival.work_id,
        submit_to=submit_base,
        duration=duration,
        user_agent=request.headers.get("User-Agent", ""),
    )
    try:
        return places.place_claim(
            experiment=experiment, held=places.held_place(request, experiment), landing=landing
        )
    except places.WrongWorker as error:
        raise BadRequest(f"{error} Please open this study from its HIT.") from error


def _submit_base(request: HttpRequest, value: str) -> str:
    if value not in allowed_submit_bases(request) and not _is_local_emulator(value):
        raise BadRequest("The link's turkSubmitTo is not Mechanical Turk.")
    return value


NOT_YOURS = (
    "This page belongs to the browser in which the study was started. "
    "Please continue in that browser (or open the study again from the platform)."
)
REFUSALS = {
    "elsewhere": (
        "Your place in this study is open in another browser. Please continue there. If you cannot, "
        "return the HIT; once the platform has taken the assignment back, accept it again to continue here.",
        403,
    ),
    "other-worker": ("This browser already takes part in this study as another worker.", 403),
    "unconfirmed": (
        "The platform does not show you taking part in this study. Please open it from there.",
        403,
    ),
}


def _held(request: HttpRequest, experiment: Experiment) -> Participant:
    """The place this browser holds in the study; 403 for any other browser."""
    participant = places.held_place(request, experiment)
    if participant is None:
        raise BadRequest(NOT_YOURS, status=403)
    participant.experiment = experiment
    return participant


#: who may frame worker pages: MTurk shows the HIT's page in a frame on its own site (and the local
#: MTurk on this machine); every other page keeps the site-wide `frame-ancestors 'self'`
FRAME_ANCESTORS = ["'self'", *MTURK_SUBMIT_HOSTS]
LOCAL_FRAME_ANCESTORS = ["http://localhost:*", "http://127.0.0.1:*"]


def worker_page(view):
    """Shown inside MTurk's frame; a BadRequest becomes a clear page, never a 500."""

    @xframe_options_exempt
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except BadRequest as error:
            response = _problem(request, error.message, error.status)
        ancestors = FRAME_ANCESTORS + (LOCAL_FRAME_ANCESTORS if settings.EMULATOR_ENABLED else [])
        response._csp_replace = {"frame-ancestors": ancestors}  # django-csp's per-response policy
        return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@require_GET
@worker_page
def landing(request: HttpRequest, pk: int) -> HttpResponse:
    """The HIT's page: the study's description in preview; after accept, one redirect into oTree
    (the session-wide link with the worker's label: the same place on every visit)."""
    experiment = _study(pk)
    arrival = arrival_of(request)
    if arrival.preview:
        return render(request, "experiments/preview.html", {"experiment": experiment})
    claim = claim_place(request, experiment, arrival)
    if claim.participant is None:
        return _refused(request, experiment, claim.refusal)
    response = HttpResponseRedirect(services.otree_link(experiment, claim.participant))
    response._csp_exempt = True  # type: ignore[attr-defined]  # django-csp: a redirect has no page to protect
    if claim.bind:
        places.bind(request, response, claim.participant)
    return response


def _refused(request: HttpRequest, experiment: Experiment, refusal: str) -> HttpResponse:
    if refusal in REFUSALS:
        message, status = REFUSALS[refusal]
        return _problem(request, message, status)
    if refusal == "wait":
        return render(request, "experiments/wait.html", {"experiment": experiment})
    return render(request, "experiments/please_return.html", {"experiment": experiment, "why": refusal})


@csrf_exempt
@require_POST
@worker_page
def screen(request: HttpRequest, pk: int) -> HttpResponse:
    """The done page's script reports the screen resolution, for the place this browser holds."""
    participant = _held(request, _study(pk))
    value = request.POST.get("screen", "")
    if not SCREEN.fullmatch(value):
        raise BadRequest("Not a screen resolution.")
    services.visit_record_screen(participant=participant, screen=value)
    return HttpResponse(status=204)


def _done_participant(request: HttpRequest, pk: int) -> Participant:
    """The place this browser holds; oTree's `participant_label` must name it (the label alone
    opens nothing: another browser gets the same 403 whether or not the label takes part)."""
    experiment = _study(pk)
    label = request.GET.get("participant_label", "")
    if label and not is_worker_id(label):
        raise BadRequest("The participant_label in the link is not valid.")
    participant = _held(request, experiment)
    if (label and label != participant.label) or not participant.assignment_id:
        raise BadRequest(NOT_YOURS, status=403)
    return participant


@require_GET
@worker_page
def done(request: HttpRequest, pk: int) -> HttpResponse:
    """Back from oTree: once oTree confirms the worker finished, the button that submits the HIT."""
    participant = _done_participant(request, pk)
    experiment = participant.experiment
    if participant.excluded or participant.submitted_at:
        return render(request, "experiments/please_return.html", {"experiment": experiment, "why": "done"})
    try:
        finished = services.participant_confirm_finished(participant=participant)
    except services.OtreeUnavailable:
        message = "The study's server does not answer right now. Please reload this page in a minute."
        return _problem(request, message, 503)
    if not finished:
        return render(request, "experiments/not_finished.html", {"experiment": experiment}, status=409)
    context = {
        "experiment": experiment,
        "participant": participant,
        "submitting_url": reverse("experiments:submitting", args=[pk]),
        "screen_url": reverse("experiments:screen", args=[pk]),
        "submit_token": places.submit_token(participant),
        **_hand_back(experiment, participant),
    }
    return render(request, "experiments/done.html", context)


def _hand_back(experiment: Experiment, participant: Participant) -> dict[str, str]:
    """How the finished worker hands the work back: Prolific's completion URL with the study's
    code, or MTurk's externalSubmit with crowdhr's code for this assignment."""
    try:
        completion = services.study_completion(experiment, participant.hit_id)
    except services.ServiceError as error:
        raise BadRequest("The platform does not answer right now. Please reload this page.", 503) from error
    if completion is not None:
        return {"completion_url": completion.url, "code": completion.code}
    return {
        "submit_url": participant.turk_submit_to + "/mturk/externalSubmit",
        "code": completion_code(experiment.pk, participant.assignment_id, participant.worker_id),
    }


@csrf_exempt
@require_POST
@worker_page
def submitting(request: HttpRequest, pk: int) -> HttpResponse:
    """The done page's script says the worker pressed submit (MTurk itself confirms it at review).

    Only the browser holding the place, with the token its done page carries (no cross-site POST)."""
    participant = _held(request, _study(pk))
    if not places.submit_token_ok(participant, request.POST.get("token", "")[:128]):
        raise BadRequest(NOT_YOURS, status=403)
    if participant.completed_at is None:
        raise BadRequest("The study is not finished yet.")
    services.participant_record_submit(participant=participant)
    return HttpResponse(status=204)
