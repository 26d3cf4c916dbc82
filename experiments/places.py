"""A worker's place in a study, bound to the browser that took it and to the platform's identity.

The ids in a platform's link (worker, assignment, HIT; Prolific's PID, SESSION_ID, STUDY_ID) are
typed by anyone: a HIT id is public and a worker id is easy to learn. So a place is held by a browser:
the first landing that gets a place sets a signed, HttpOnly cookie scoped to the study's pages
(`/study/<pk>/`) carrying the place and a random key kept on the place. Pages that show a completion
code, record a submission or lead into oTree answer only to the browser whose cookie carries the key.

Rules (the threat model is in the README's security section):

- A landing never changes the assignment, HIT or submit address of a place another browser holds.
  The holder's own browser may move its place to a new assignment (returned and accepted again):
  a new, unverified claim, decided when the platform reports which assignment the worker submitted.
- Another browser gets a held place only through a way a stranger cannot take: the platform shows
  the pair in progress (Prolific shows a participant's active submission), or the old claim is
  known to be abandoned (unverified past the HIT's assignment duration, when MTurk has taken the
  assignment back). The old browser's key is then replaced, so its cookie holds nothing.
- A claim the platform cannot confirm yet (MTurk shows assignments only once submitted) holds a
  place for at most the HIT's assignment duration, and unconfirmed claims are bounded by the work
  the platform reports in progress plus the study's spare places (`spare_places`), the platform's
  count cached for seconds. A refused landing waits (the page retries) instead of being turned away.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from experiments.models import Experiment, Participant
from hits.models import HIT, Assignment
from platforms import PlatformError, platform_for

COOKIE_PREFIX = "crowdhr_place_"
COOKIE_SALT = "crowdhr-place"
COOKIE_MAX_AGE = 60 * 60 * 24 * 30
FRAMED_SUFFIX = "_framed"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
#: how long the platform's count of work in progress is trusted, and how often a landing that the
#: cached count refuses may ask again
IN_PROGRESS_SECONDS = 10
IN_PROGRESS_REFRESH_SECONDS = 1
#: an older count is kept this long, served while one thread counts again (which may take this long
#: before another may try), and a thread with no count at all waits this long for it
IN_PROGRESS_KEEP_SECONDS = 60
IN_PROGRESS_LOCK_SECONDS = 30
IN_PROGRESS_WAIT_SECONDS = 5
#: the statuses in which a platform that shows work in progress (Prolific) confirms a landing
IN_PROGRESS_STATUSES = ("Reserved", "Active")


class WrongWorker(Exception):
    """The platform (or crowdhr's records) says the assignment belongs to another worker."""


@dataclass
class Claim:
    """What a landing got: the place (None when refused), why not, and whether to set the cookie."""

    participant: Participant | None
    refusal: str = ""  # "done", "excluded", "full", "wait", "elsewhere", "other-worker", "unconfirmed"
    bind: bool = False
    at: datetime = field(default_factory=timezone.now)


# --- the browser's cookie ------------------------------------------------------------------------
def cookie_name(experiment_pk: int) -> str:
    return f"{COOKIE_PREFIX}{experiment_pk}"


def cookie_path(experiment_pk: int) -> str:
    return reverse("experiments:landing", args=[experiment_pk])


def held_place(request: HttpRequest, experiment: Experiment) -> Participant | None:
    """The place in `experiment` this browser holds (its cookie carries the place's current key)."""
    name = cookie_name(experiment.pk)
    for value in (request.COOKIES.get(name, ""), request.COOKIES.get(name + FRAMED_SUFFIX, "")):
        participant = _place_of(value, experiment)
        if participant is not None:
            return participant
    return None


def _place_of(value: str, experiment: Experiment) -> Participant | None:
    if not value or len(value) > 512:
        return None
    try:
        pk, key = signing.loads(value, salt=COOKIE_SALT)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not isinstance(pk, int) or not isinstance(key, str):
        return None
    participant = Participant.objects.filter(pk=pk, experiment_id=experiment.pk).first()
    if participant is None or not participant.browser_key:
        return None
    if not hmac.compare_digest(participant.browser_key.encode(), key.encode()):
        return None
    return participant


def bind(request: HttpRequest, response: HttpResponse, participant: Participant) -> None:
    """Give this browser the place: a signed, HttpOnly cookie for the study's pages only.

    Over https it is Secure and SameSite=None, so MTurk's frame (another site) may send it. Over
    plain http (only on this machine) it is SameSite=Lax, plus, on a loopback address, a Secure and
    SameSite=None copy that browsers accept from localhost: the local MTurk frames crowdhr and
    oTree (another port, another host name) as MTurk does, and a Lax cookie is not sent there.
    """
    value = signing.dumps([participant.pk, participant.browser_key], salt=COOKIE_SALT)
    name, path = cookie_name(participant.experiment_id), cookie_path(participant.experiment_id)

    def put(cookie: str, *, secure: bool, samesite: Literal["Lax", "None"]) -> None:
        response.set_cookie(
            cookie, value, max_age=COOKIE_MAX_AGE, path=path, httponly=True, secure=secure, samesite=samesite
        )

    if request.is_secure() or settings.SESSION_COOKIE_SECURE:
        put(name, secure=True, samesite="None")
        return
    put(name, secure=False, samesite="Lax")
    if request.get_host().rsplit(":", 1)[0].strip("[]") in LOOPBACK_HOSTS:
        put(name + FRAMED_SUFFIX, secure=True, samesite="None")


def submit_token(participant: Participant) -> str:
    """A value only the holder's done page knows: the submit beacon carries it (no cross-site POST)."""
    message = f"crowdhr-submit:{participant.pk}:{participant.browser_key}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, "sha256").hexdigest()


def submit_token_ok(participant: Participant, token: str) -> bool:
    return bool(participant.browser_key) and hmac.compare_digest(submit_token(participant), token or "")


# --- places a study has, and how many unconfirmed claims it takes ---------------------------------
def posted_assignments(experiment: Experiment) -> int:
    total = HIT.objects.filter(outsourcer__experiment=experiment).aggregate(n=Sum("max_assignments"))["n"]
    return total or experiment.assignments_wanted


def spare_places(experiment: Experiment) -> int:
    """oTree places beyond the assignments posted: the reserve that keeps real workers from being
    turned away while forged claims hold places."""
    return max((experiment.num_participants or 0) - posted_assignments(experiment), 0)


def _holding(now: datetime) -> Q:
    """Places that count: confirmed, finished, submitted, or a claim still within its time."""
    return Q(excluded=False) & (
        Q(verified=True)
        | Q(completed_at__isnull=False)
        | Q(submitted_at__isnull=False)
        | Q(claim_expires_at__isnull=True)
        | Q(claim_expires_at__gt=now)
    )


def _unconfirmed(now: datetime) -> Q:
    return Q(
        excluded=False,
        verified=False,
        completed_at__isnull=True,
        submitted_at__isnull=True,
        claim_expires_at__gt=now,
    )


def places_held(experiment: Experiment, now: datetime | None = None) -> int:
    return Participant.objects.filter(_holding(now or timezone.now()), experiment=experiment).count()


def in_progress(experiment: Experiment, *, fresh: bool = False) -> int:
    """Work the platform reports in progress on the study's live HITs (cached for seconds).

    Counted by one thread at a time: when the count is older than IN_PROGRESS_SECONDS, the first
    thread to see it counts again while the others keep the last count (seconds stale, by design);
    with no count at all yet, they wait for that one thread (or, past IN_PROGRESS_WAIT_SECONDS,
    count themselves). `fresh` counts now (the caller asks at most once a second per study)."""
    key = f"crowdhr-in-progress:{experiment.pk}"
    if fresh:
        return _count_in_progress(experiment, key)
    cached = cache.get(key)
    if cached is not None and time.time() - cached[1] < IN_PROGRESS_SECONDS:
        return cached[0]
    lock = f"{key}:counting"
    deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
    while not cache.add(lock, 1, IN_PROGRESS_LOCK_SECONDS):
        if cached is not None:
            return cached[0]  # another thread is counting: the last count until it is done
        if time.monotonic() > deadline:
            return _count_in_progress(experiment, key)
        time.sleep(0.02)
        cached = cache.get(key)
        if cached is not None:
            return cached[0]  # the count the other thread just made
    try:
        return _count_in_progress(experiment, key)
    finally:
        cache.delete(lock)


def _count_in_progress(experiment: Experiment, key: str) -> int:
    platform = platform_for(experiment.account)
    count = 0
    for hit_id in HIT.objects.filter(outsourcer__experiment=experiment, status=HIT.Status.LIVE).values_list(
        "hit_id", flat=True
    ):
        try:
            count += platform.in_progress(hit_id)
        except PlatformError:
            continue  # unknown counts as nothing in progress: the spare places still admit
    cache.set(key, (count, time.time()), IN_PROGRESS_KEEP_SECONDS)
    return count


def _room_for_unconfirmed(experiment: Experiment, now: datetime, place_pk: int | None) -> bool:
    others = Participant.objects.filter(_unconfirmed(now), experiment=experiment)
    unconfirmed = (others.exclude(pk=place_pk) if place_pk else others).count()
    spare = spare_places(experiment)
    if unconfirmed < in_progress(experiment) + spare:
        return True
    # the cached count may predate this worker's accept: ask again, at most once a second per study
    if cache.add(f"crowdhr-in-progress-asked:{experiment.pk}", 1, IN_PROGRESS_REFRESH_SECONDS):
        return unconfirmed < in_progress(experiment, fresh=True) + spare
    return False


# --- confirming an identity with the platform -----------------------------------------------------
def _confirmed(experiment: Experiment, worker_id: str, assignment_id: str, hit_id: str) -> bool | None:
    """True when the platform (or crowdhr's records) shows this worker's assignment; None when the
    platform cannot say yet (MTurk before submit); WrongWorker when it is someone else's."""
    recorded = Assignment.objects.filter(assignment_id=assignment_id).values_list(
        "worker__worker_id", flat=True
    )
    for owner in recorded:
        if owner != worker_id:
            raise WrongWorker("This assignment belongs to another worker.")
        return True
    platform = platform_for(experiment.account)
    if not platform.shows_work_in_progress:
        return None  # MTurk shows only submitted assignments: nothing to ask at landing
    try:
        reported = platform.get_assignment(assignment_id)
    except PlatformError:
        return False
    if reported.worker_id != worker_id:
        raise WrongWorker("This assignment belongs to another worker.")
    return reported.hit_id in ("", hit_id) and reported.status in IN_PROGRESS_STATUSES


# --- landing ------------------------------------------------------------------------------------------
def place_claim(
    *,
    experiment: Experiment,
    held: Participant | None,
    worker_id: str,
    assignment_id: str,
    hit_id: str,
    submit_to: str,
) -> Claim:
    """The place a landing gets (see the module's rules). `held` is the place this browser holds."""
    now = timezone.now()
    if held is not None and held.worker_id != worker_id:
        return Claim(None, "other-worker")
    participant = held or Participant.objects.filter(experiment=experiment, worker_id=worker_id).first()
    if participant is not None and participant.is_done:
        return Claim(None, "excluded" if participant.excluded else "done")
    claim = (assignment_id, hit_id, submit_to)
    if participant is not None and participant == held:
        if (participant.assignment_id, participant.hit_id, participant.turk_submit_to) == claim:
            return Claim(participant, bind=True, at=now)
        confirmed = _confirmed(experiment, worker_id, assignment_id, hit_id)
        return _move(experiment, participant, claim, confirmed, now, rebind=False)
    confirmed = _confirmed(experiment, worker_id, assignment_id, hit_id)
    if confirmed is False:
        return Claim(None, "unconfirmed")
    if participant is None:
        return _first(experiment, worker_id, claim, confirmed, now)
    if participant.browser_key and not confirmed and _still_held(participant, now):
        return Claim(None, "elsewhere")
    return _move(experiment, participant, claim, confirmed, now, rebind=True)


def _still_held(participant: Participant, now: datetime) -> bool:
    """Whether the place's claim still stands for its browser (confirmed, or unconfirmed in its time)."""
    if participant.verified or participant.completed_at:
        return True
    return participant.claim_expires_at is None or participant.claim_expires_at > now


def _admits(experiment: Experiment, confirmed: bool | None, now: datetime, place: Participant | None) -> str:
    """ "" when a claim (on `place`, if it has one) may have a place; else why not ("full", "wait")."""
    counted = place is not None and Participant.objects.filter(_holding(now), pk=place.pk).exists()
    if places_held(experiment, now) - (1 if counted else 0) >= (experiment.num_participants or 0):
        # places held on trust may still be given up: wait for them rather than be turned away
        others = Participant.objects.filter(_unconfirmed(now), experiment=experiment)
        return "wait" if (others.exclude(pk=place.pk) if place else others).exists() else "full"
    if not confirmed and not _room_for_unconfirmed(experiment, now, place.pk if place else None):
        return "wait"
    return ""


def _claim_fields(claim: tuple[str, str, str], confirmed: bool | None, experiment: Experiment, now):
    assignment_id, hit_id, submit_to = claim
    duration = (
        HIT.objects.filter(outsourcer__experiment=experiment, hit_id=hit_id)
        .values_list("duration_seconds", flat=True)
        .first()
    ) or experiment.duration_seconds
    return {
        "assignment_id": assignment_id,
        "hit_id": hit_id,
        "turk_submit_to": submit_to,
        "verified": bool(confirmed),
        "claim_expires_at": now + timedelta(seconds=duration),
    }


def _first(experiment: Experiment, worker_id: str, claim, confirmed: bool | None, now) -> Claim:
    refusal = _admits(experiment, confirmed, now, None)
    if refusal:
        return Claim(None, refusal)
    fields = _claim_fields(claim, confirmed, experiment, now)
    try:
        with transaction.atomic():
            participant = Participant.objects.create(
                experiment=experiment, worker_id=worker_id, browser_key=_fresh_key(), landed_at=now, **fields
            )
    except IntegrityError:  # another tab of this worker got there first: that browser holds it
        return Claim(None, "elsewhere")
    return Claim(participant, bind=True, at=now)


def _move(
    experiment: Experiment, participant: Participant, claim, confirmed: bool | None, now, *, rebind: bool
) -> Claim:
    """Move the place to a new claim: by its own browser, or (`rebind`) to this browser once the
    old claim is released; the change is conditional on the place not having changed meanwhile."""
    refusal = _admits(experiment, confirmed, now, participant)
    if refusal:
        return Claim(None, refusal)
    fields = _claim_fields(claim, confirmed, experiment, now)
    if rebind:
        fields["browser_key"] = _fresh_key()
    moved = Participant.objects.filter(pk=participant.pk, browser_key=participant.browser_key).update(
        landed_at=participant.landed_at or now, **fields
    )
    if not moved:
        return Claim(None, "elsewhere")
    participant.refresh_from_db()
    return Claim(participant, bind=True, at=now)


def _fresh_key() -> str:
    return secrets.token_urlsafe(32)
