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
  count kept for seconds by each process (`experiments.in_progress`). A refused landing waits (the
  page retries) instead of being turned away.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Model, Sum
from django.db.models.expressions import Col
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from crowdhr import prepared
from crowdhr.memo import Memo
from experiments.in_progress import in_progress
from experiments.models import Experiment, Participant, Visit
from hits.models import HIT, Assignment
from platforms import PlatformError, platform_for, shows_work_in_progress
from workers.models import Worker

COOKIE_PREFIX = "crowdhr_place_"
COOKIE_SALT = "crowdhr-place"
COOKIE_MAX_AGE = 60 * 60 * 24 * 30
COOKIE_RENEW_AFTER = timedelta(days=1)
FRAMED_SUFFIX = "_framed"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
#: how often a landing that the kept count of work in progress refuses may ask the platform again
IN_PROGRESS_REFRESH_SECONDS = 1
#: the statuses in which a platform that shows work in progress (Prolific) confirms a landing
IN_PROGRESS_STATUSES = ("Reserved", "Active")


class WrongWorker(Exception):
    """The platform (or crowdhr's records) says the assignment belongs to another worker."""


@dataclass
class Claim:
    """What a landing got: the place (None when refused), why not, and whether to set the cookie
    (not for the browser coming back with the cookie that already holds the place)."""

    participant: Participant | None
    refusal: str = ""  # "done", "excluded", "full", "wait", "elsewhere", "other-worker", "unconfirmed"
    bind: bool = False
    at: datetime = field(default_factory=timezone.now)


# --- the browser's cookie ------------------------------------------------------------------------
def cookie_name(experiment_pk: int) -> str:
    return f"{COOKIE_PREFIX}{experiment_pk}"


@functools.lru_cache(maxsize=4096)
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
    participant = _place_by_pk(pk, experiment.pk)
    if participant is None or not participant.browser_key:
        return None
    if not hmac.compare_digest(participant.browser_key.encode(), key.encode()):
        return None
    return participant


@functools.cache
def _place_by_pk_sql() -> str:
    table = connection.ops.quote_name(Participant._meta.db_table)
    listed = ", ".join(
        connection.ops.quote_name(name) for name in _columns(Participant._meta.concrete_fields)
    )
    return f"SELECT {listed} FROM {table} WHERE id = %s AND experiment_id = %s"  # noqa: S608


def _columns(fields: Iterable[Field]) -> list[str]:
    return [f.column for f in fields if f.column]


def _place_by_pk(pk: int, experiment_pk: int) -> Participant | None:
    """The place `pk` of the study: every worker page a holder opens reads it first, so it is read
    without building a query (the model's own columns, two parameters)."""
    with connection.cursor() as cursor:
        prepared.execute(cursor, "crowdhr_place_by_pk", _place_by_pk_sql(), [pk, experiment_pk])
        row = cursor.fetchone()
    if row is None:
        return None
    values = [_from_db(value, converters) for value, converters in zip(row, _place_converters(), strict=True)]
    return Participant.from_db(
        connection.alias, [f.attname for f in Participant._meta.concrete_fields], values
    )


@functools.cache
def _place_converters() -> tuple[tuple[Col, tuple[Callable[..., Any], ...]], ...]:
    """What the database's values of a place's columns go through to become the model's (SQLite
    gives times as text, for instance): the converters Django's own queries apply."""
    table = Participant._meta.db_table
    columns = [f.get_col(table) for f in Participant._meta.concrete_fields]
    return tuple(
        (col, tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
        for col in columns
    )


def _from_db(value: Any, converters: tuple[Col, tuple[Callable[..., Any], ...]]) -> Any:
    col, functions = converters
    for function in functions:
        value = function(value, col, connection)
    return value


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
#: how long a landing trusts the number of assignments posted (it changes only when HITs are posted)
POSTED_SECONDS = 10


def posted_assignments(experiment: Experiment) -> int:
    total = HIT.objects.filter(outsourcer__experiment=experiment).aggregate(n=Sum("max_assignments"))["n"]
    return total or experiment.assignments_wanted


def spare_places(experiment: Experiment) -> int:
    """oTree places beyond the assignments posted: the reserve that keeps real workers from being
    turned away while forged claims hold places."""
    return max((experiment.num_participants or 0) - posted_assignments(experiment), 0)


_POSTED: Memo[int] = Memo(POSTED_SECONDS)
_ASKED: Memo[bool] = Memo(IN_PROGRESS_REFRESH_SECONDS)


def _spare_places_at_landing(experiment: Experiment) -> int:
    """`spare_places`, with the assignments posted counted at most every POSTED_SECONDS."""
    posted = _POSTED.get_or_make(experiment.pk, lambda: posted_assignments(experiment)) or 0
    return max((experiment.num_participants or 0) - posted, 0)


#: which places count, in SQL (read by the landing's one query, `_facts`):
#: holding: confirmed, finished, submitted, or a claim still within its time (%(now)s)
HOLDING_SQL = (
    "NOT p.excluded AND (p.verified OR p.completed_at IS NOT NULL OR p.submitted_at IS NOT NULL"
    " OR p.claim_expires_at IS NULL OR p.claim_expires_at > %(now)s)"
)
#: unconfirmed: held on trust only, within the claim's time
UNCONFIRMED_SQL = (
    "NOT p.excluded AND NOT p.verified AND p.completed_at IS NULL AND p.submitted_at IS NULL"
    " AND p.claim_expires_at > %(now)s"
)


@dataclass(frozen=True)
class Facts:
    """What a landing needs to know of the database, read in one query (`_facts`).

    `holding` and `unconfirmed` count the study's places other than this worker's; `place_pk` is
    this worker's place, if any; `assignment_worker` is whom crowdhr's records give the
    assignment to (None when no submission is recorded)."""

    holding: int
    unconfirmed: int
    place_pk: int | None
    assignment_worker: str | None


@functools.cache
def _facts_sql() -> str:
    participants = connection.ops.quote_name(Participant._meta.db_table)
    assignments = connection.ops.quote_name(Assignment._meta.db_table)
    workers = connection.ops.quote_name(Worker._meta.db_table)
    holding, unconfirmed = HOLDING_SQL % {"now": "%s"}, UNCONFIRMED_SQL % {"now": "%s"}
    # only table names from the models and these constants are formatted in; values are parameters
    return (
        f"SELECT COUNT(CASE WHEN {holding} THEN 1 END), COUNT(CASE WHEN {unconfirmed} THEN 1 END),"  # noqa: S608
        f" (SELECT mine.id FROM {participants} mine WHERE mine.experiment_id = %s AND mine.worker_id = %s),"
        f" (SELECT w.worker_id FROM {assignments} a JOIN {workers} w ON w.id = a.worker_id"
        f" WHERE a.assignment_id = %s)"
        f" FROM {participants} p WHERE p.experiment_id = %s AND p.worker_id <> %s"
    )


def _facts(experiment: Experiment, worker_id: str, assignment_id: str, now: datetime) -> Facts:
    """One query instead of four: a landing is the hottest path crowdhr serves (bench/landing_burst.py)."""
    at = connection.ops.adapt_datetimefield_value(now)
    params = (at, at, experiment.pk, worker_id, assignment_id, experiment.pk, worker_id)
    with connection.cursor() as cursor:
        prepared.execute(cursor, "crowdhr_landing_facts", _facts_sql(), params)
        holding, unconfirmed, place_pk, assignment_worker = cursor.fetchone()
    return Facts(holding, unconfirmed, place_pk, assignment_worker)


def _room_for_unconfirmed(experiment: Experiment, unconfirmed: int) -> bool:
    spare = _spare_places_at_landing(experiment)
    if unconfirmed < in_progress(experiment) + spare:
        return True
    # the kept count may predate this worker's accept: ask again, at most once a second per study
    if _ASKED.add(experiment.pk, True):
        return unconfirmed < in_progress(experiment, fresh=True) + spare
    return False


# --- confirming an identity with the platform -----------------------------------------------------
def _confirmed(experiment: Experiment, landing: Landing, facts: Facts) -> bool | None:
    """True when the platform (or crowdhr's records) shows this worker's assignment; None when the
    platform cannot say yet (MTurk before submit); WrongWorker when it is someone else's."""
    if facts.assignment_worker is not None:
        if facts.assignment_worker != landing.worker_id:
            raise WrongWorker("This assignment belongs to another worker.")
        return True
    if not shows_work_in_progress(experiment.account):
        return None  # MTurk shows only submitted assignments: nothing to ask at landing
    try:
        reported = platform_for(experiment.account).get_assignment(landing.assignment_id)
    except PlatformError:
        return False
    if reported.worker_id != landing.worker_id:
        raise WrongWorker("This assignment belongs to another worker.")
    return reported.hit_id in ("", landing.hit_id) and reported.status in IN_PROGRESS_STATUSES


# --- landing ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Landing:
    """What a (non-preview) arrival asks for: this worker's place, on this assignment of this HIT,
    handed back to `submit_to`; `duration` is the HIT's assignment duration in seconds, and
    `user_agent` what the browser says it is (kept on the visit)."""

    worker_id: str
    assignment_id: str
    hit_id: str
    submit_to: str
    duration: int
    user_agent: str = ""

    @property
    def claim(self) -> tuple[str, str, str]:
        return (self.assignment_id, self.hit_id, self.submit_to)


def place_claim(*, experiment: Experiment, held: Participant | None, landing: Landing) -> Claim:
    """The place a landing gets (see the module's rules). `held` is the place this browser holds.

    The holder coming back on the same assignment costs only the read of its place; any other
    landing reads what it needs in one query (`_facts`) before it writes."""
    now = timezone.now()
    if held is not None and held.worker_id != landing.worker_id:
        return Claim(None, "other-worker")
    if held is not None and held.is_done:
        return Claim(None, "excluded" if held.excluded else "done")
    if held is not None and (held.assignment_id, held.hit_id, held.turk_submit_to) == landing.claim:
        # its cookie already holds the place; renewed once a day, so it lasts COOKIE_MAX_AGE from
        # the worker's latest day of work rather than from the first landing
        return Claim(held, bind=_cookie_due(held, now), at=now)
    facts = _facts(experiment, landing.worker_id, landing.assignment_id, now)
    if held is not None:
        return _move(
            experiment, held, landing, facts, _confirmed(experiment, landing, facts), now, rebind=False
        )
    participant = _place_by_pk(facts.place_pk, experiment.pk) if facts.place_pk else None
    if participant is not None and participant.is_done:
        return Claim(None, "excluded" if participant.excluded else "done")
    confirmed = _confirmed(experiment, landing, facts)
    if confirmed is False:
        return Claim(None, "unconfirmed")
    if participant is None:
        return _first(experiment, landing, facts, confirmed, now)
    if participant.browser_key and not confirmed and _still_held(participant, now):
        return Claim(None, "elsewhere")
    return _move(experiment, participant, landing, facts, confirmed, now, rebind=True)


def _cookie_due(held: Participant, now: datetime) -> bool:
    return held.landed_at is None or now - held.landed_at > COOKIE_RENEW_AFTER


def _still_held(participant: Participant, now: datetime) -> bool:
    """Whether the place's claim still stands for its browser (confirmed, or unconfirmed in its time)."""
    if participant.verified or participant.completed_at:
        return True
    return participant.claim_expires_at is None or participant.claim_expires_at > now


def _admits(experiment: Experiment, facts: Facts, confirmed: bool | None) -> str:
    """ "" when this worker's claim may have a place; else why not ("full", "wait")."""
    if facts.holding >= (experiment.num_participants or 0):
        # places held on trust may still be given up: wait for them rather than be turned away
        return "wait" if facts.unconfirmed else "full"
    if not confirmed and not _room_for_unconfirmed(experiment, facts.unconfirmed):
        return "wait"
    return ""


def _claim_fields(landing: Landing, confirmed: bool | None, now: datetime) -> dict[str, object]:
    return {
        "assignment_id": landing.assignment_id,
        "hit_id": landing.hit_id,
        "turk_submit_to": landing.submit_to,
        "verified": bool(confirmed),
        "claim_expires_at": now + timedelta(seconds=landing.duration),
    }


def _first(
    experiment: Experiment, landing: Landing, facts: Facts, confirmed: bool | None, now: datetime
) -> Claim:
    refusal = _admits(experiment, facts, confirmed)
    if refusal:
        return Claim(None, refusal)
    participant = Participant(
        experiment=experiment,
        worker_id=landing.worker_id,
        browser_key=_fresh_key(),
        landed_at=now,
        redirected_at=now,
        **_claim_fields(landing, confirmed, now),
    )
    try:
        _write_with_first_visit(participant, _new_visit(participant, landing, now))
    except IntegrityError:  # another tab of this worker got there first: that browser holds it
        return Claim(None, "elsewhere")
    return Claim(participant, bind=True, at=now)


def _new_visit(participant: Participant, landing: Landing, now: datetime) -> Visit:
    """A new stay of a browser on an assignment (its first landing, another assignment, a place
    taken over), written with the claim; the holder coming back on the same one is not a new visit.
    The landing sends the worker into oTree at once, so the visit left for oTree when it landed."""
    return Visit(
        participant=participant,
        assignment_id=landing.assignment_id,
        user_agent=landing.user_agent[:500],
        landed_at=now,
        redirected_at=now,
    )


def _write_with_first_visit(participant: Participant, visit: Visit) -> None:
    """Write a new place and its first visit together (the first landing is the hottest write
    crowdhr makes, so its statements are built once): on PostgreSQL in one statement, elsewhere in
    one transaction. A second place for the same worker raises IntegrityError and writes nothing."""
    inserts = _first_visit_inserts()
    place_values = _values(participant, inserts.place_fields)
    visit_values = _values(visit, inserts.visit_fields)
    with connection.cursor() as cursor:
        if inserts.together:
            # inside a caller's transaction, a savepoint: a lost race must not spoil the caller's work
            with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
                prepared.execute(cursor, "crowdhr_first_place", inserts.together, place_values + visit_values)
                participant.pk, visit.pk = cursor.fetchone()
        else:
            with transaction.atomic():
                cursor.execute(inserts.place, place_values)
                participant.pk = connection.ops.last_insert_id(cursor, Participant._meta.db_table, "id")
                cursor.execute(inserts.visit, [participant.pk, *visit_values])
                visit.pk = connection.ops.last_insert_id(cursor, Visit._meta.db_table, "id")
    for written in (participant, visit):
        written._state.adding, written._state.db = False, connection.alias
    visit.participant = participant


@dataclass(frozen=True)
class _Inserts:
    place_fields: tuple[Field, ...]
    visit_fields: tuple[Field, ...]  # without the visit's place, which comes first
    place: str
    visit: str
    together: str  # PostgreSQL: the place's INSERT as a data-modifying WITH, the visit's reading its id


@functools.cache
def _first_visit_inserts() -> _Inserts:
    quote = connection.ops.quote_name
    place_fields = tuple(f for f in Participant._meta.concrete_fields if not f.primary_key)
    visit_fields = tuple(
        f for f in Visit._meta.concrete_fields if not f.primary_key and f.name != "participant"
    )
    (participant_column,) = _columns([Visit._meta.get_field("participant")])
    places, visits = quote(Participant._meta.db_table), quote(Visit._meta.db_table)

    def listed(fields: tuple[Field, ...]) -> str:
        return ", ".join(quote(column) for column in _columns(fields))

    def slots(fields: tuple[Field, ...]) -> str:
        return ", ".join(["%s"] * len(fields))

    # only the models' table and column names are formatted in; every value is a parameter
    place = f"INSERT INTO {places} ({listed(place_fields)}) VALUES ({slots(place_fields)})"  # noqa: S608
    visit_columns = f"{visits} ({quote(participant_column)}, {listed(visit_fields)})"
    together = (
        f"WITH place AS ({place} RETURNING id) INSERT INTO {visit_columns}"  # noqa: S608
        f" VALUES ((SELECT id FROM place), {slots(visit_fields)}) RETURNING {quote(participant_column)}, id"
    )
    return _Inserts(
        place_fields=place_fields,
        visit_fields=visit_fields,
        place=place,
        visit=f"INSERT INTO {visit_columns} VALUES (%s, {slots(visit_fields)})",  # noqa: S608
        together=together if connection.vendor == "postgresql" else "",
    )


def _values(instance: Model, fields: tuple[Field, ...]) -> list[Any]:
    """The instance's values as Django would write them on insert."""
    return [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]


def _move(
    experiment: Experiment,
    participant: Participant,
    landing: Landing,
    facts: Facts,
    confirmed: bool | None,
    now: datetime,
    *,
    rebind: bool,
) -> Claim:
    """Move the place to a new claim: by its own browser, or (`rebind`) to this browser once the
    old claim is released; the change is conditional on the place not having changed meanwhile."""
    refusal = _admits(experiment, facts, confirmed)
    if refusal:
        return Claim(None, refusal)
    fields = _claim_fields(landing, confirmed, now)
    if rebind:
        fields["browser_key"] = _fresh_key()
    fields["landed_at"] = participant.landed_at or now
    fields["redirected_at"] = participant.redirected_at or now
    with transaction.atomic():
        moved = Participant.objects.filter(pk=participant.pk, browser_key=participant.browser_key).update(
            **fields
        )
        if moved:
            _new_visit(participant, landing, now).save(force_insert=True)
    if not moved:
        return Claim(None, "elsewhere")
    for name, value in fields.items():
        setattr(participant, name, value)
    return Claim(participant, bind=True, at=now)


def _fresh_key() -> str:
    return secrets.token_urlsafe(32)
