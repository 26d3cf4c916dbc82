"""The review flow for one HIT: store what the platform reports, then decide.

`review_active_hits` is what Celery beat (and `manage.py process_hits`) runs every cycle:
finish half-done work from earlier cycles, then `handle_hit` for every active HIT whose
Outsourcer is not waiting for a person, then send changed qualification scores.

Decisions are exactly-once: a HIT is leased to one review worker at a time, every assignment
decision is claimed with a conditional update, and money goes through `hits.payments`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from django import db
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from hits import payments
from hits.consensus import Group, check_for_agreement, group_assignments
from hits.models import HIT, Assignment, Outsourcer
from hits.task_types import AssignmentDict, TaskType, get_task_type
from platforms import PlatformAssignment, PlatformError, platform_for
from workers import scoring
from workers.models import Worker

logger = logging.getLogger(__name__)

HIT_LEASE = timedelta(minutes=5)
STALE_AFTER = timedelta(days=2)
Decision = Assignment.Decision


@dataclass
class CycleReport:
    """What one review cycle did, for logs and the admin."""

    hits: int = 0
    stored: int = 0
    approved: int = 0
    rejected: int = 0
    flagged: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The report as numbers, for log lines and task results."""
        return {
            "hits": self.hits,
            "stored": self.stored,
            "approved": self.approved,
            "rejected": self.rejected,
            "flagged": self.flagged,
            "errors": len(self.errors),
        }

    @classmethod
    def combined(cls, reports: Sequence[CycleReport]) -> CycleReport:
        total = cls()
        for report in reports:
            total.hits += report.hits
            total.stored += report.stored
            total.approved += report.approved
            total.rejected += report.rejected
            total.flagged += report.flagged
            total.errors += report.errors
        return total


# --- the cycle ---------------------------------------------------------------------------------
def review_active_hits(*, limit: int | None = None) -> CycleReport:
    """One review cycle over every HIT that may have news.

    HITs are reviewed by `REVIEW_THREADS` threads at once: most of a review is waiting for the
    platform, and the HIT lease keeps two reviewers (threads or processes) off the same HIT.
    """
    from hits.services import hits_finish_creating

    hits_finish_creating()
    payments.settle_pending()
    ids = HIT.objects.to_review().order_by("review_lease_until", "pk").values_list("pk", flat=True)
    ids = list(ids[:limit] if limit else ids)
    threads = max(1, min(settings.REVIEW_THREADS, len(ids)))
    if threads == 1:
        reports = [_review_safely(hit_pk) for hit_pk in ids]
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="review") as pool:
            reports = list(pool.map(_review_in_thread, ids))
    report = CycleReport.combined(reports)
    scoring.sync_qualifications()
    logger.info("review cycle", extra=report.counts())
    return report


def _review_safely(hit_pk: int) -> CycleReport:
    report = CycleReport()
    try:
        handle_hit(hit_pk, report)
    except PlatformError as error:
        report.errors.append(f"HIT {hit_pk}: {error}")
        logger.warning("review of a HIT failed", extra={"hit": hit_pk, "error": str(error)})
    return report


def _review_in_thread(hit_pk: int) -> CycleReport:
    try:
        return _review_safely(hit_pk)
    finally:
        db.connections.close_all()


def handle_hit(hit_pk: int, report: CycleReport | None = None) -> bool:
    """Review one HIT if no other worker holds it. Returns False when another worker had it."""
    report = report or CycleReport()
    if not _lease(hit_pk):
        return False
    try:
        hit = HIT.objects.select_related("outsourcer__account", "outsourcer__owner").get(pk=hit_pk)
        report.stored += fetch_assignments(hit)
        report.hits += 1
        review_outsourcer(hit.outsourcer, report)
        _retire_if_finished(hit)
    finally:
        HIT.objects.filter(pk=hit_pk).update(review_lease_until=None)
    return True


def _lease(hit_pk: int) -> bool:
    now = timezone.now()
    free = Q(review_lease_until__isnull=True) | Q(review_lease_until__lt=now)
    return bool(HIT.objects.filter(free, pk=hit_pk).update(review_lease_until=now + HIT_LEASE))


# --- storing -----------------------------------------------------------------------------------
def fetch_assignments(hit: HIT) -> int:
    """List the HIT's assignments on the platform and store them; returns how many were new."""
    return store_assignments(hit, platform_for(hit.outsourcer.account).list_assignments(hit.hit_id))


def store_assignments(hit: HIT, listed: Sequence[PlatformAssignment]) -> int:
    """Store every reported assignment before anything is decided; returns how many were new."""
    if not listed:
        return 0
    known = dict(
        Assignment.objects.filter(assignment_id__in=[a.assignment_id for a in listed]).values_list(
            "assignment_id", "platform_status"
        )
    )
    fresh = [a for a in listed if a.assignment_id not in known]
    if fresh:
        _create_assignments(hit, fresh)
    changed = [a for a in listed if a.assignment_id in known and known[a.assignment_id] != a.status]
    for reported in changed:
        _record_platform_status(reported)
    seen = Assignment.objects.filter(hit=hit).count()
    new = Assignment.objects.filter(hit=hit, after_last_reopen=True).count()
    HIT.objects.filter(pk=hit.pk).update(
        assignments_seen=seen, num_new_assignments=new, **({"last_updated": timezone.now()} if fresh else {})
    )
    hit.assignments_seen, hit.num_new_assignments = seen, new
    return len(fresh)


def _create_assignments(hit: HIT, fresh: Sequence[PlatformAssignment]) -> None:
    Worker.objects.bulk_create(
        [Worker(platform="mturk", worker_id=a.worker_id) for a in fresh], ignore_conflicts=True
    )
    workers = dict(
        Worker.objects.filter(platform="mturk", worker_id__in={a.worker_id for a in fresh}).values_list(
            "worker_id", "pk"
        )
    )
    reopened = _last_reopen_time(hit.outsourcer)
    rows = [
        Assignment(
            hit=hit,
            assignment_id=a.assignment_id,
            worker_id=workers[a.worker_id],
            platform_status=a.status,
            answers=a.answers,
            answer_xml=a.answer_xml,
            confused=a.answers.get("confused", "").strip().lower() in {"yes", "on", "true", "1"},
            comments=a.answers.get("comments", "").strip(),
            accept_time=a.accept_time,
            submit_time=a.submit_time,
            auto_approval_time=a.auto_approval_time,
            after_last_reopen=reopened is None or (a.submit_time is not None and a.submit_time >= reopened),
        )
        for a in fresh
    ]
    Assignment.objects.bulk_create(rows, ignore_conflicts=True)
    comments = [
        f"{a.worker_id}: {a.answers['comments'].strip()}"
        for a in fresh
        if a.answers.get("comments", "").strip()
    ]
    if comments:
        HIT.objects.filter(pk=hit.pk).update(comments="\n".join(filter(None, [hit.comments, *comments])))
    for a in fresh:
        if a.status != Assignment.PlatformStatus.SUBMITTED:
            _record_platform_status(a)


def _last_reopen_time(outsourcer: Outsourcer):
    return outsourcer.hits.aggregate(last=Max("last_reopen_time"))["last"]


def _record_platform_status(reported: PlatformAssignment) -> None:
    """The platform decided on its own (auto-approval after the delay): record it as it stands."""
    assignment = Assignment.objects.select_related("hit__outsourcer", "worker").get(
        assignment_id=reported.assignment_id
    )
    Assignment.objects.filter(pk=assignment.pk).update(platform_status=reported.status)
    if reported.status in {Assignment.PlatformStatus.APPROVED, Assignment.PlatformStatus.REJECTED}:
        payments.record_platform_decision(
            assignment, approved=reported.status == Assignment.PlatformStatus.APPROVED
        )


# --- deciding ----------------------------------------------------------------------------------
def review_outsourcer(outsourcer: Outsourcer, report: CycleReport) -> None:
    """Decide what can be decided for one Outsourcer, across all its HITs."""
    outsourcer.refresh_from_db()
    if outsourcer.needs_review:
        return
    task = get_task_type(outsourcer.task_type, outsourcer.task_config)
    undecided = list(
        Assignment.objects.undecided()
        .filter(hit__outsourcer=outsourcer, problem="")
        .select_related("hit__outsourcer__account", "worker")
        .order_by("submit_time", "pk")
    )
    if not undecided:
        return
    dicts = [task.create_assignment_dict(a) for a in undecided]
    if not outsourcer.active:
        _judge_late_answers(outsourcer, task, dicts, report)
    elif task.decides_by == "completion":
        _judge_completions(outsourcer, task, dicts, report)
    else:
        _review_by_consensus(outsourcer, task, dicts, report)


def _review_by_consensus(
    outsourcer: Outsourcer, task: TaskType, dicts: list[AssignmentDict], report: CycleReport
) -> None:
    new = [d for d in dicts if d["assignment"].after_last_reopen]
    old = [d for d in dicts if not d["assignment"].after_last_reopen]
    hit = _current_hit(outsourcer)
    required = hit.agreements_required
    if len(new) < required:
        if new and timezone.now() - hit.create_date > STALE_AFTER:
            _flag(outsourcer, f"Only {len(new)} answer(s) after two days; {required} must agree.", report)
        return
    agreement, groups = check_for_agreement(
        new,
        old,
        agree=task.assignments_agree,
        agreements_required=required,
        secondary_majority_check=task.secondary_majority_check,
    )
    if agreement is None:
        if _all_assignments_in(outsourcer):
            _flag(outsourcer, f"No agreement: {describe_groups(task, groups)}.", report)
        return
    answer = agreement.answer
    if not task.answer_is_valid(answer, agreement.num_agreements):
        _flag(outsourcer, task.invalid_answer_problem(answer), report)
        return
    # Before the answer is saved, so a crash in between repeats it rather than skipping it:
    # process_answer runs at least once and must be safe to repeat.
    task.process_answer(answer)
    if not _save_agreed_answer(outsourcer, task, answer, agreement.num_agreements):
        return
    for assignment_dict in agreement.accepted:
        _approve(task, assignment_dict, answer, "consensus", report)
    for assignment_dict in agreement.rejected:
        _reject(task, assignment_dict, answer, "consensus", report)


def _judge_late_answers(
    outsourcer: Outsourcer, task: TaskType, dicts: list[AssignmentDict], report: CycleReport
) -> None:
    """Answers that came in after the Outsourcer got its answer are judged against it."""
    if not isinstance(outsourcer.answer, dict):
        return  # deleted without an answer: a person decides (or the platform auto-approves)
    answer = dict(outsourcer.answer)
    for assignment_dict in dicts:
        if task.assignments_agree(answer, assignment_dict):
            _approve(task, assignment_dict, answer, "consensus (after the answer was found)", report)
        else:
            _reject(task, assignment_dict, answer, "consensus (after the answer was found)", report)


def _judge_completions(
    outsourcer: Outsourcer, task: TaskType, dicts: list[AssignmentDict], report: CycleReport
) -> None:
    for assignment_dict in dicts:
        judgement = task.judge(assignment_dict)
        if judgement.verdict == "approve":
            _approve(task, assignment_dict, None, "completion", report, feedback=judgement.feedback)
        elif judgement.verdict == "reject":
            _reject(task, assignment_dict, None, "completion", report, feedback=judgement.feedback)
        else:
            Assignment.objects.filter(
                pk=assignment_dict["assignment"].pk, decision=Decision.UNDECIDED
            ).update(problem=judgement.problem or "Needs a person's decision.")
            report.flagged += 1


def _approve(task, assignment_dict, answer, by, report, feedback: str = "") -> None:
    feedback = feedback or task.create_feedback_message(assignment_dict, answer=answer, reject=False)
    if payments.approve_assignment(assignment_dict["assignment"], feedback=feedback, decided_by=by):
        report.approved += 1
        task.perform_additional_approval_tasks(assignment_dict)


def _reject(task, assignment_dict, answer, by, report, feedback: str = "") -> None:
    feedback = feedback or task.create_feedback_message(assignment_dict, answer=answer, reject=True)
    if payments.reject_assignment(assignment_dict["assignment"], feedback=feedback, decided_by=by):
        report.rejected += 1
        task.perform_additional_rejection_tasks(assignment_dict)


def _save_agreed_answer(
    outsourcer: Outsourcer, task: TaskType, answer: AssignmentDict, agreements: int
) -> bool:
    """Claim the Outsourcer's answer: only the review worker that saves it goes on to decide."""
    with transaction.atomic():
        saved = Outsourcer.objects.filter(pk=outsourcer.pk, active=True, needs_review=False).update(
            answer=task.answer_of(answer),
            answer_source=f"consensus of {agreements}",
            agreements=agreements,
            active=False,
            last_updated=timezone.now(),
        )
    return bool(saved)


def _current_hit(outsourcer: Outsourcer) -> HIT:
    return outsourcer.hits.filter(status=HIT.Status.LIVE).order_by("-batch_number").first()


def _all_assignments_in(outsourcer: Outsourcer) -> bool:
    """Every assignment asked for has been submitted (or the HITs were stopped)."""
    for hit in outsourcer.hits.filter(status=HIT.Status.LIVE):
        if hit.assignments_seen < hit.max_assignments and not hit.expired:
            return False
    return True


def _flag(outsourcer: Outsourcer, problem: str, report: CycleReport) -> None:
    flagged = Outsourcer.objects.filter(pk=outsourcer.pk, needs_review=False).update(
        needs_review=True, problem=problem
    )
    if not flagged:
        return
    report.flagged += 1
    logger.info("outsourcer needs review", extra={"outsourcer": outsourcer.pk, "problem": problem})
    owner = outsourcer.owner
    if owner.email:
        send_mail(
            subject=f"crowdhr: {outsourcer} needs your review",
            message=f"{problem}\n\nOpen the admin to look at the answers and decide.",
            from_email=None,
            recipient_list=[owner.email],
            fail_silently=True,
        )


def _retire_if_finished(hit: HIT) -> None:
    """A HIT with nothing more to come and every assignment decided needs no more review.

    Nothing more comes when every assignment asked for is in, or when the HIT expired and the
    time a worker has for an assignment accepted just before has passed too. A consensus HIT
    whose Outsourcer still waits for an answer stays: a reopen adds to it.
    """
    hit.refresh_from_db()
    outsourcer = Outsourcer.objects.get(pk=hit.outsourcer_id)
    task = get_task_type(outsourcer.task_type, outsourcer.task_config)
    if outsourcer.active and task.decides_by == "consensus":
        return
    last_accept = hit.expiration  # set to the moment of expiry when a HIT is expired early
    stopped = (
        last_accept is not None and last_accept + timedelta(seconds=hit.duration_seconds) <= timezone.now()
    )
    everyone_in = hit.assignments_seen >= hit.max_assignments or stopped
    in_flight = Assignment.objects.filter(hit=hit).exclude(
        decision__in=[Decision.APPROVED, Decision.REJECTED]
    )
    if everyone_in and not in_flight.exists():
        HIT.objects.filter(pk=hit.pk).update(active=False)


def describe_groups(task: TaskType, groups: Sequence[Group[AssignmentDict]]) -> str:
    """'cat (2), dog (1)': what the workers said, for problems and the admin."""
    return ", ".join(f"{task.describe_answer(g.representative) or '(empty)'} ({g.size})" for g in groups)


def consensus_groups(outsourcer: Outsourcer) -> list[Group[AssignmentDict]]:
    """The groups the consensus check finds among the latest round's answers (for the admin)."""
    task = get_task_type(outsourcer.task_type, outsourcer.task_config)
    assignments = (
        Assignment.objects.filter(hit__outsourcer=outsourcer, after_last_reopen=True)
        .select_related("worker")
        .order_by("submit_time", "pk")
    )
    return group_assignments([task.create_assignment_dict(a) for a in assignments], task.assignments_agree)
