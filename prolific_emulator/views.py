"""The participant pages of the local Prolific (the stand-in for app.prolific.com).

A participant is chosen once and kept in a signed cookie, the browser's identity: taking part,
completing (`/emulator/prolific/submissions/complete?cc=<code>`, the stand-in for
`https://app.prolific.com/submissions/complete?cc=<code>`) and returning all act for the
participant in that cookie, never for an id in the query string.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from prolific_emulator import participants
from prolific_emulator.models import Submission

COOKIE = "prolific_emulator_pid"
COOKIE_SALT = "prolific_emulator.participant"
COOKIE_AGE = 60 * 60 * 24 * 30


def current_participant(request: HttpRequest) -> str | None:
    value = request.get_signed_cookie(COOKIE, default=None, salt=COOKIE_SALT)
    return value if value and participants.PARTICIPANT_ID.match(value) else None


def _remember(response: HttpResponse, participant_id: str) -> HttpResponse:
    response.set_signed_cookie(
        COOKIE, participant_id, salt=COOKIE_SALT, max_age=COOKIE_AGE, httponly=True, samesite="Lax"
    )
    return response


def participant_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        participant_id = current_participant(request)
        if participant_id is None:
            messages.error(request, "Choose who you are first.")
            return redirect("prolific_emulator:home")
        return view(request, participant_id, *args, **kwargs)

    return wrapper


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    participant_id = current_participant(request)
    studies = participants.eligible_studies(participant_id) if participant_id else []
    return render(
        request, "prolific_emulator/home.html", {"participant_id": participant_id, "studies": studies}
    )


@require_POST
def choose_participant(request: HttpRequest) -> HttpResponse:
    given = request.POST.get("participant_id", "").strip().lower()
    try:
        participant_id = (
            participants.ensure_participant(given).pk if given else participants.new_participant()
        )
    except participants.Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("prolific_emulator:home")
    return _remember(redirect("prolific_emulator:home"), participant_id)


@require_POST
def forget_participant(request: HttpRequest) -> HttpResponse:
    response = redirect("prolific_emulator:home")
    response.delete_cookie(COOKIE)
    return response


@require_POST
@participant_required
def take_part(request: HttpRequest, participant_id: str, study_id: str) -> HttpResponse:
    try:
        submission = participants.take_part(study_id, participant_id)
    except participants.Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("prolific_emulator:home")
    return _remember(redirect(participants.study_link(submission)), participant_id)


@require_GET
def complete(request: HttpRequest) -> HttpResponse:
    participant_id = current_participant(request)
    if participant_id is None:
        return render(
            request,
            "prolific_emulator/problem.html",
            {"problem": "Sign in first: we do not know who you are."},
            status=400,
        )
    try:
        submission = participants.complete_for_participant(participant_id, request.GET.get("cc"))
    except participants.Refused as refusal:
        return render(request, "prolific_emulator/problem.html", {"problem": str(refusal)}, status=400)
    return render(request, "prolific_emulator/completed.html", {"submission": submission})


@require_POST
@participant_required
def return_submission(request: HttpRequest, participant_id: str, submission_id: str) -> HttpResponse:
    submission = Submission.objects.filter(pk=submission_id, participant_id=participant_id).first()
    if submission is None:
        messages.error(request, "This is not one of your submissions.")
        return redirect("prolific_emulator:dashboard")
    try:
        participants.return_submission(submission)
        messages.success(request, "Returned: the place is free for someone else.")
    except participants.Refused as refusal:
        messages.error(request, str(refusal))
    return redirect("prolific_emulator:dashboard")


@require_GET
@participant_required
def dashboard(request: HttpRequest, participant_id: str) -> HttpResponse:
    context = {
        "participant_id": participant_id,
        "submissions": [
            {
                "submission": submission,
                "link": participants.study_link(submission),
                "reward": Decimal(submission.study.reward) / 100,
                "bonuses": [
                    (Decimal(bonus.amount) / 100, bonus.created) for bonus in submission.bonuses.all()
                ],
            }
            for submission in participants.my_submissions(participant_id)
        ],
        "messages_received": participants.my_messages(participant_id),
        "earned": participants.my_earnings(participant_id),
    }
    return render(request, "prolific_emulator/dashboard.html", context)


@require_POST
@participant_required
def reply(request: HttpRequest, participant_id: str) -> HttpResponse:
    try:
        participants.send_reply(
            participant_id, request.POST.get("study_id", ""), request.POST.get("body", "")
        )
        messages.success(request, "Message sent.")
    except participants.Refused as refusal:
        messages.error(request, str(refusal))
    return redirect("prolific_emulator:dashboard")
