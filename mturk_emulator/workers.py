"""The worker side of the local Mechanical Turk: find, accept, return and submit HITs.

The marketplace pages and the `emulator_worker` command use these functions, and tests call
them directly to play workers in-process:

    assignment_id = workers.accept(hit_id, "AWORKER1")
    workers.submit(assignment_id, {"answer": "cat"})
    # or both at once:
    workers.work(hit_id, "AWORKER1", {"answer": "cat"})

A refusal (blocked, not qualified, no slot left, wrong state) raises `WorkRefused` with a
message fit to show the worker.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TypedDict

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django_stubs_ext import WithAnnotations

from mturk_emulator import lifecycle, qualifications
from mturk_emulator.models import (
    HIT,
    Assignment,
    Qualification,
    QualificationRequest,
    QualificationType,
    SimulatedWorker,
    WorkerBlock,
    new_worker_id,
)
from mturk_emulator.questions import answers_xml

WORKER_ID = re.compile(r"^A[A-Z0-9]+$")


class WorkRefused(Exception):
    """The marketplace refused what the worker tried to do; the message says why."""


def worker_id_from_name(name: str) -> str:
    """A valid MTurk worker id from what a person typed: "alice 2" becomes "AALICE2", "AW1" stays."""
    name = name.strip()
    if WORKER_ID.match(name) and len(name) <= 64:
        return name
    cleaned = re.sub(r"[^A-Z0-9]", "", name.upper())[:63]
    if not cleaned:
        raise WorkRefused("A worker name needs at least one letter or digit.")
    return f"A{cleaned}"


def ensure_worker(worker_id: str) -> SimulatedWorker:
    """The simulated worker with this id, created on first use."""
    if not WORKER_ID.match(worker_id) or len(worker_id) > 64:
        raise WorkRefused(f"{worker_id!r} is not a worker id (an A followed by capital letters and digits).")
    worker, _ = SimulatedWorker.objects.get_or_create(worker_id=worker_id)
    return worker


def new_random_worker() -> str:
    """A fresh simulated worker with a random id."""
    return ensure_worker(new_worker_id()).worker_id


def set_locale(worker_id: str, country: str, subdivision: str = "") -> None:
    """Move a simulated worker to another country (and optional subdivision) for locale requirements."""
    worker = ensure_worker(worker_id)
    worker.country = country.upper()
    worker.subdivision = subdivision.upper()
    worker.save(update_fields=["country", "subdivision"])


class Taken(TypedDict):
    taken: int  # assignments holding a place


def marketplace_hits(worker_id: str | None = None) -> list[WithAnnotations[HIT, Taken]]:
    """The HITs a worker can find: assignable HITs of every requester, newest first."""
    lifecycle.process_due()
    now = timezone.now()
    hits = (
        HIT.objects.filter(disposed=False, reviewing=False, expiration__gt=now)
        .annotate(taken=Count("assignments", filter=Q(assignments__status__in=Assignment.HOLDING_A_SLOT)))
        .select_related("account", "hit_type")
    )
    open_hits = [hit for hit in hits if hit.taken < hit.max_assignments]
    if worker_id:
        open_hits = [
            hit
            for hit in open_hits
            if not qualifications.unmet_requirement(hit.qualification_requirements, worker_id, "Discover")
        ]
    return open_hits


def preview_refusal(hit: HIT, worker_id: str | None) -> str | None:
    """Why the worker may not preview this HIT, or None."""
    if not worker_id:
        return None
    unmet = qualifications.unmet_requirement(hit.qualification_requirements, worker_id, "Preview")
    return (
        f"You need the qualification \u201c{qualifications.describe(unmet)}\u201d to preview this HIT."
        if unmet
        else None
    )


def accept(hit_id: str, worker_id: str) -> str:
    """Accept a HIT for the worker and return the assignment id (the same one if already accepted)."""
    ensure_worker(worker_id)
    lifecycle.process_due()
    with transaction.atomic():
        hit = HIT.objects.select_for_update().filter(hit_id=hit_id).first()
        if hit is None or hit.disposed:
            raise WorkRefused(f"There is no HIT {hit_id}.")
        current = hit.assignments.filter(worker_id=worker_id, status__in=Assignment.HOLDING_A_SLOT).first()
        if current and current.status == Assignment.ACCEPTED:
            return current.assignment_id
        if current:
            raise WorkRefused("You have already submitted this HIT; each worker can do it only once.")
        _check_may_accept(hit, worker_id)
        now = timezone.now()
        assignment = Assignment.objects.create(
            hit=hit,
            worker_id=worker_id,
            accept_time=now,
            deadline=now + timedelta(seconds=hit.assignment_duration),
        )
        return assignment.assignment_id


def _check_may_accept(hit: HIT, worker_id: str) -> None:
    if WorkerBlock.objects.filter(account=hit.account, worker_id=worker_id).exists():
        raise WorkRefused("The requester of this HIT has blocked you from working on their HITs.")
    _grant_auto_granted(hit, worker_id)
    unmet = qualifications.unmet_requirement(hit.qualification_requirements, worker_id, "Accept")
    if unmet:
        raise WorkRefused(
            f"You do not meet the qualification requirement \u201c{qualifications.describe(unmet)}\u201d of this HIT."
        )
    if hit.reviewing or hit.is_expired():
        raise WorkRefused("This HIT is no longer available.")
    if lifecycle.hit_counts(hit).available < 1:
        raise WorkRefused("All assignments of this HIT have been taken by other workers.")


def _grant_auto_granted(hit: HIT, worker_id: str) -> None:
    """MTurk's one-click request: an auto-granted type a HIT requires is granted on the worker's first try."""
    required = {r["QualificationTypeId"] for r in hit.qualification_requirements}
    for qtype in QualificationType.objects.filter(
        qualification_type_id__in=required, auto_granted=True, deleted=False, status="Active"
    ):
        if not Qualification.objects.filter(qualification_type=qtype, worker_id=worker_id).exists():
            Qualification.objects.create(
                qualification_type=qtype,
                worker_id=worker_id,
                integer_value=qtype.auto_granted_value or 1,
                status=Qualification.GRANTED,
            )


def _open_assignment(assignment_id: str) -> Assignment:
    lifecycle.process_due()
    assignment = (
        Assignment.objects.select_for_update()
        .select_related("hit")
        .filter(assignment_id=assignment_id)
        .first()
    )
    if assignment is None:
        raise WorkRefused(f"There is no assignment {assignment_id}.")
    if assignment.status == Assignment.ABANDONED:
        raise WorkRefused("The time allotted for this assignment ran out; it has been released.")
    if assignment.status != Assignment.ACCEPTED:
        raise WorkRefused(f"This assignment is {assignment.status.lower()}; it can no longer be changed.")
    return assignment


def submit(assignment_id: str, answers: dict[str, str] | str) -> None:
    """Submit an accepted assignment with its answers (a dict of fields, or ready QuestionFormAnswers XML)."""
    with transaction.atomic():
        assignment = _open_assignment(assignment_id)
        now = timezone.now()
        assignment.answer = answers if isinstance(answers, str) else answers_xml(answers)
        assignment.status = Assignment.SUBMITTED
        assignment.submit_time = now
        assignment.auto_approval_time = now + timedelta(seconds=assignment.hit.auto_approval_delay)
        assignment.save()


def return_assignment(assignment_id: str) -> None:
    """Give an accepted assignment back, freeing its slot for another worker."""
    with transaction.atomic():
        assignment = _open_assignment(assignment_id)
        assignment.status = Assignment.RETURNED
        assignment.save(update_fields=["status"])


def work(hit_id: str, worker_id: str, answers: dict[str, str] | str) -> str:
    """Accept a HIT and submit it at once; the assignment id."""
    assignment_id = accept(hit_id, worker_id)
    submit(assignment_id, answers)
    return assignment_id


def request_qualification(qualification_type_id: str, worker_id: str, answer: str = "") -> str:
    """Ask for a qualification: granted at once if the type is auto-granted, else a pending request id."""
    ensure_worker(worker_id)
    with transaction.atomic():
        qtype = QualificationType.objects.filter(
            qualification_type_id=qualification_type_id, deleted=False, status="Active"
        ).first()
        if qtype is None or not qtype.is_requestable:
            raise WorkRefused("This qualification cannot be requested.")
        _check_may_request(qtype, worker_id)
        if qtype.auto_granted:
            qualifications.grant(qtype, worker_id, qtype.auto_granted_value or 1)
            return ""
        request = QualificationRequest.objects.create(
            qualification_type=qtype, worker_id=worker_id, test=qtype.test, answer=answer
        )
        return request.request_id


def _check_may_request(qtype: QualificationType, worker_id: str) -> None:
    if Qualification.objects.filter(qualification_type=qtype, worker_id=worker_id, status="Granted").exists():
        raise WorkRefused("You already hold this qualification.")
    if qtype.requests.filter(worker_id=worker_id, status=QualificationRequest.PENDING).exists():
        raise WorkRefused("Your request for this qualification is waiting for the requester.")
    last = qtype.requests.filter(worker_id=worker_id).exclude(status=QualificationRequest.PENDING).last()
    if last is None:
        return
    if qtype.retry_delay is None:
        raise WorkRefused("This qualification cannot be requested again.")
    retry_at = (last.decided_time or last.submit_time) + timedelta(seconds=qtype.retry_delay)
    if timezone.now() < retry_at:
        raise WorkRefused(f"You can request this qualification again after {retry_at:%Y-%m-%d %H:%M} UTC.")
