"""Batches hosted by crowdhr: the persistent queue that gives each participant their set of items.

On a platform without HTML forms (Prolific) a batch is one study whose participants answer its
items on crowdhr's own pages. Each participant who lands (Prolific's PROLIFIC_PID, STUDY_ID,
SESSION_ID) is allotted `items_per_participant` items as `HostedAnswer` rows:

- the same set on every visit of the same session (the rows are the set);
- never an item the participant was given before (unique per item and participant);
- items that still lack answers first, and no item beyond the answers its consensus needs
  (`assignments_required`), counting answers given and allotments still within the time allowed;
- an unanswered allotment older than the study's time allowed, or of a session the platform
  reports returned or timed out, is freed (`release_expired`, `release_session`) for others.

Allotments of one batch are serialised by locking the Experiment row, so two participants landing
at once never take the last answer an item needs twice.

The pages (`experiments.hosted_views`) bind a session to the browser whose landing the platform
confirmed (`session_place`, the cookie of `experiments.places`) and keep only the answers the item's
form can send (`clean_answers`). Review (the "hosted_batch" task type) turns a submission's answers
into assignments of the items' hosted HITs (`hits.hosted`), decided by consensus as on MTurk, and
decides the submission once they all are (`judge_submission`); a participant approved on the
platform despite rejected items is told the agreed answers in a message (`tell_agreed_answers`).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from experiments.models import Experiment, HostedAnswer, Participant
from hits.hosted import HOSTED_HIT_TYPE, hosted_assignment_store
from hits.models import HIT, Assignment, Outsourcer
from hits.task_types import COMMENTS_FIELD, CONFUSED_FIELD, Judgement, TaskType, get_task_type
from platforms import PlatformError, platform_for
from workers.models import Message
from workers.services import MESSAGE_BODY_LIMIT, MESSAGE_SUBJECT_LIMIT, workers_message

#: places posted beyond the exact need, for participants who return or time out
RESERVE_SHARE = 0.1


class NothingLeft(Exception):
    """Every item has the answers it needs, or the participant has seen all the others."""


def study_places(experiment: Experiment, items: int) -> int:
    """Places of the batch's one study: every item answered `assignments_required` times, in sets
    of `items_per_participant`, plus a small reserve."""
    exact = math.ceil(items * experiment.assignments_required / experiment.items_per_participant)
    return exact + max(1, math.ceil(exact * RESERVE_SHARE))


def participant_items(
    *, experiment: Experiment, worker_id: str, session_id: str, study_id: str, now: datetime | None = None
) -> list[HostedAnswer]:
    """The participant's set for this session: allotted on the first visit, the same afterwards.
    Raises `NothingLeft` when no item can be given (the participant should return the study)."""
    now = now or timezone.now()
    current = list(HostedAnswer.objects.filter(experiment=experiment, session_id=session_id))
    if current:
        if any(row.worker_id != worker_id for row in current):
            raise PermissionError("This session belongs to another participant.")
        return current
    with transaction.atomic():
        Experiment.objects.select_for_update().filter(pk=experiment.pk).first()
        current = list(HostedAnswer.objects.filter(experiment=experiment, session_id=session_id))
        if current:
            return current
        release_expired(experiment=experiment, now=now)
        chosen = _items_for(experiment, worker_id)
        if not chosen:
            raise NothingLeft("Every item of this batch has the answers it needs.")
        return [
            HostedAnswer.objects.create(
                experiment=experiment,
                outsourcer_id=outsourcer_pk,
                worker_id=worker_id,
                session_id=session_id,
                study_id=study_id,
                position=position,
                allotted_at=now,
            )
            for position, outsourcer_pk in enumerate(chosen, start=1)
        ]


def _items_for(experiment: Experiment, worker_id: str) -> list[int]:
    """Up to `items_per_participant` open items this participant has not seen, neediest first."""
    seen = HostedAnswer.objects.filter(experiment=experiment, worker_id=worker_id).values("outsourcer_id")
    open_items = (
        Outsourcer.objects.filter(experiment=experiment, active=True, needs_review=False)
        .exclude(target=experiment.outsourcer_target)  # the study itself is no item
        .exclude(pk__in=seen)
        .annotate(taken=Count("hosted_answers", filter=Q(hosted_answers__experiment=experiment)))
        .filter(taken__lt=experiment.assignments_required)
        .order_by("taken", "pk")
        .values_list("pk", flat=True)
    )
    return list(open_items[: experiment.items_per_participant])


def release_expired(*, experiment: Experiment, now: datetime | None = None) -> int:
    """Free unanswered allotments older than the study's time allowed; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=experiment.duration_seconds)
    stale = HostedAnswer.objects.filter(
        experiment=experiment, answered_at__isnull=True, assignment__isnull=True, allotted_at__lt=cutoff
    )
    return stale.delete()[0]


def release_session(*, experiment: Experiment, session_id: str) -> int:
    """The platform reports the session returned or timed out: its items go to others (its answers
    too, since nobody is paid for them). Items already judged stay as they are."""
    rows = HostedAnswer.objects.filter(experiment=experiment, session_id=session_id, assignment__isnull=True)
    return rows.delete()[0]


def answer_item(*, row: HostedAnswer, answers: dict[str, str], now: datetime | None = None) -> bool:
    """Save the participant's answer to one item of their set, once; False when it was answered."""
    return bool(
        HostedAnswer.objects.filter(pk=row.pk, answered_at__isnull=True).update(
            answers=answers, answered_at=now or timezone.now()
        )
    )


def next_item(rows: list[HostedAnswer]) -> HostedAnswer | None:
    """The first item of the set still unanswered; None when the set is done."""
    return next((row for row in sorted(rows, key=lambda r: r.position) if row.answered_at is None), None)


# --- the participant's pages: whose session a browser holds, and what an answer may be ---------------
#: submission statuses in which the platform shows a participant working on the study
IN_PROGRESS_STATUSES = ("Reserved", "Active")
#: the longest answer a field takes (comments may be longer)
MAX_ANSWER = 1000
MAX_COMMENTS = 5000
#: how often a landing asks the platform which sessions were returned or timed out
RETURNED_CHECK_SECONDS = 10


class NotYours(Exception):
    """The platform does not show this participant working on this study in this session."""


def study_hit(experiment: Experiment) -> HIT | None:
    """The batch's one study on the platform (the HIT participants take part in)."""
    return (
        HIT.objects.filter(outsourcer__experiment=experiment, outsourcer__target=experiment.outsourcer_target)
        .exclude(hit_type_id=HOSTED_HIT_TYPE)
        .order_by("-batch_number")
        .first()
    )


def session_place(
    *, experiment: Experiment, held: Participant | None, worker_id: str, session_id: str, study_id: str
) -> Participant:
    """The participant's place for this session, to bind to this browser (`experiments.places`).

    The browser already holding this session keeps it without any platform call. Any other landing
    is confirmed with the platform (Prolific shows a submission while it is being worked on: its
    participant, study and status), then gets the place with a fresh key, so an older browser's
    cookie holds nothing. Raises NotYours otherwise.
    """
    if held is not None and held.worker_id != worker_id:
        raise NotYours("This browser already takes part in this study as another participant.")
    if held is not None and held.assignment_id == session_id and held.hit_id == study_id:
        return held
    hit = study_hit(experiment)
    if hit is None or hit.hit_id != study_id:
        raise NotYours("This link is not for this study. Please open it from Prolific.")
    try:
        reported = platform_for(experiment.account).get_assignment(session_id)
    except PlatformError as error:
        raise NotYours("The platform does not show you taking part in this study right now.") from error
    if (
        reported.worker_id != worker_id
        or reported.hit_id not in ("", study_id)
        or reported.status not in IN_PROGRESS_STATUSES
    ):
        raise NotYours("The platform does not show you taking part in this study. Please open it from there.")
    now = timezone.now()
    participant, _ = Participant.objects.get_or_create(
        experiment=experiment, worker_id=worker_id, defaults={"landed_at": now}
    )
    Participant.objects.filter(pk=participant.pk).update(
        assignment_id=session_id, hit_id=study_id, verified=True, browser_key=secrets.token_urlsafe(32)
    )
    participant.refresh_from_db()
    return participant


def release_returned(*, experiment: Experiment) -> int:
    """Free the items of sessions the platform reports returned or timed out (asked at most once
    every RETURNED_CHECK_SECONDS per batch); returns how many allotments were freed."""
    open_sessions = set(
        HostedAnswer.objects.filter(experiment=experiment, assignment__isnull=True).values_list(
            "session_id", flat=True
        )
    )
    hit = study_hit(experiment)
    if not open_sessions or hit is None:
        return 0
    if not cache.add(f"crowdhr-hosted-returned:{experiment.pk}", 1, RETURNED_CHECK_SECONDS):
        return 0
    gone = platform_for(experiment.account).list_assignments(hit.hit_id, statuses=("Returned", "TimedOut"))
    sessions = {a.assignment_id for a in gone} & open_sessions
    return sum(release_session(experiment=experiment, session_id=session) for session in sessions)


def item_task(row: HostedAnswer) -> TaskType:
    return get_task_type(row.outsourcer.task_type, row.outsourcer.task_config)


def item_form_body(row: HostedAnswer) -> str:
    """The item's question form, as the platform would show it (the researcher's HTML with the
    item's values escaped, plus the confused and comments questions)."""
    return item_task(row).html_form(row.outsourcer.inputs).body


class BadAnswer(ValueError):
    """A posted answer that the item's form could not have sent; the message says what is wrong."""


def clean_answers(task: TaskType, posted: Mapping[str, str]) -> dict[str, str]:
    """The answers to keep from a posted form: only the task's answer fields (each required) and
    the confused and comments questions, each within its length; anything else is ignored."""
    answers: dict[str, str] = {}
    for name in task.answer_fields:
        value = str(posted.get(name, "")).strip()
        if not value:
            raise BadAnswer("Please answer the question before going on.")
        if len(value) > MAX_ANSWER:
            raise BadAnswer(f"An answer may be at most {MAX_ANSWER} characters long.")
        answers[name] = value
    confused = str(posted.get(CONFUSED_FIELD, "")).strip().lower()
    if confused in {"yes", "on", "true", "1"}:
        answers[CONFUSED_FIELD] = "yes"
    comments = str(posted.get(COMMENTS_FIELD, "")).strip()
    if len(comments) > MAX_COMMENTS:
        raise BadAnswer(f"Comments may be at most {MAX_COMMENTS} characters long.")
    if comments:
        answers[COMMENTS_FIELD] = comments
    return answers


# --- review: a submission is decided by its items ------------------------------------------------------
DECIDED = (Assignment.Decision.APPROVED, Assignment.Decision.REJECTED)
#: the longest text of agreed answers a participant is sent (Prolific messages; MTurk allows 4096)
MAX_TOLD = 3500


def judge_submission(*, experiment: Experiment, assignment: Assignment) -> Judgement:
    """The verdict on a participant's submission of a hosted batch.

    Its answered items become assignments of their items' hosted HITs (once; consensus decides them
    with everyone else's); items left unanswered are freed for others. It waits until every item is
    decided, then is approved when at least half of its items agree with the consensus, else
    rejected with a message stating the agreed answers (Prolific asks for 100 characters or more).
    """
    rows = list(
        HostedAnswer.objects.filter(experiment=experiment, session_id=assignment.assignment_id)
        .select_related("outsourcer", "assignment")
        .order_by("position")
    )
    if any(row.worker_id != assignment.worker.worker_id for row in rows):
        return Judgement("review", problem="crowdhr's pages recorded this session for another participant.")
    unanswered = [row.pk for row in rows if row.answered_at is None and row.assignment_id is None]
    if unanswered:  # handed in without them: others may answer them
        HostedAnswer.objects.filter(
            pk__in=unanswered, answered_at__isnull=True, assignment__isnull=True
        ).delete()
    answered = [row for row in rows if row.answered_at is not None]
    if not answered:
        return Judgement("review", problem="The participant answered none of their items on crowdhr's pages.")
    items = [(row, row.assignment or _store_item(row, assignment)) for row in answered]
    if any(item.decision not in DECIDED for _, item in items):
        return Judgement("wait")
    agreed = sum(item.decision == Assignment.Decision.APPROVED for _, item in items)
    told = _agreed_answers(items)
    if agreed * 2 >= len(items):
        feedback = f"Thank you for taking part in \u201c{experiment.title}\u201d! "
        if agreed == len(items):
            return Judgement(
                "approve", feedback=feedback + "All your answers agreed with the other participants'."
            )
        return Judgement(
            "approve",
            feedback=f"{feedback}{agreed} of your {len(items)} answers agreed with the other participants'. {told}",
        )
    return Judgement(
        "reject",
        feedback=(
            f"Fewer than half of your answers in \u201c{experiment.title}\u201d agreed with the answers the "
            f"other participants agreed on ({agreed} of {len(items)}). {told}"
        ),
        problem=f"{agreed} of {len(items)} answers agreed with the consensus.",
    )


def _store_item(row: HostedAnswer, submission: Assignment) -> Assignment:
    hit = HIT.objects.get(outsourcer_id=row.outsourcer_id, hit_type_id=HOSTED_HIT_TYPE)
    item = hosted_assignment_store(
        hit=hit,
        worker=submission.worker,
        submission_id=row.session_id,
        position=row.position,
        answers=row.answers or {},
        accept_time=row.allotted_at,
        submit_time=row.answered_at,
    )
    HostedAnswer.objects.filter(pk=row.pk, assignment__isnull=True).update(assignment=item)
    return item


def _agreed_answers(items: list[tuple[HostedAnswer, Assignment]]) -> str:
    """'Item 2 (Lyon, France): you answered "no"; the agreed answer was "yes".' per rejected item."""
    lines = []
    for row, item in items:
        if item.decision != Assignment.Decision.REJECTED:
            continue
        task = item_task(row)
        given: dict[str, Any] = {}
        task.add_answers_to_assignment_dict(given, row.answers or {})
        answer = row.outsourcer.answer
        agreed = task.describe_answer(answer) if isinstance(answer, dict) else "(none agreed yet)"
        shown = ", ".join(str(v) for v in (row.outsourcer.inputs or {}).values())[:80]
        lines.append(
            f"Item {row.position}{f' ({shown})' if shown else ''}: you answered "
            f"\u201c{task.describe_answer(given) or '(nothing)'}\u201d; the agreed answer was \u201c{agreed}\u201d."
        )
    text = " ".join(lines)
    return text if len(text) <= MAX_TOLD else text[: MAX_TOLD - 1] + "\u2026"


def tell_agreed_answers(*, experiment: Experiment, assignment: Assignment) -> None:
    """After the submission's decision: a participant approved on the platform (approved, or
    rejected under "pay anyway") reads no feedback there, so when any of their items was rejected
    they are sent the feedback, with the agreed answers, as a message through the platform (once;
    a follow-up that runs again finds the message sent)."""
    assignment.refresh_from_db(fields=["decision", "paid_despite_rejection", "feedback"])
    on_platform_approved = assignment.decision == Assignment.Decision.APPROVED or (
        assignment.decision == Assignment.Decision.REJECTED and assignment.paid_despite_rejection
    )
    rejected_items = HostedAnswer.objects.filter(
        experiment=experiment,
        session_id=assignment.assignment_id,
        assignment__decision=Assignment.Decision.REJECTED,
    )
    if not on_platform_approved or not rejected_items.exists():
        return
    body = assignment.feedback[:MESSAGE_BODY_LIMIT]
    if Message.objects.filter(account=experiment.account, workers=assignment.worker, body=body).exists():
        return
    workers_message(
        account=experiment.account,
        workers=[assignment.worker],
        subject=f"Your answers in \u201c{experiment.title}\u201d"[:MESSAGE_SUBJECT_LIMIT],
        body=body,
        by=None,
    )
