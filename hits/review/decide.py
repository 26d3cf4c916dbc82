"""Deciding: what the task type says of the stored assignments (by completion or by consensus).

Every decision is claimed with a conditional update inside `hits.payments`, so two reviewers
never decide the same assignment; an agreed answer is claimed on the Outsourcer first. The task
type's follow-ups are owed by the ledger once the platform took the decision (`hits.followups`):
the reviewer runs them at once when it can, and the next cycle does when it could not (a
temporary failure, or the process killed in between).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from hits import followups, payments
from hits.consensus import Group, check_for_agreement, group_assignments
from hits.flags import outsourcer_flag
from hits.models import HIT, Assignment, Outsourcer
from hits.review.report import CycleReport
from hits.task_types import AssignmentDict, TaskType, get_task_type

logger = logging.getLogger("hits.review")

STALE_AFTER = timedelta(days=2)
Decision = Assignment.Decision


def with_decision_state(hits: QuerySet[HIT]) -> QuerySet[HIT]:
    """HITs read with what deciding needs to know first: whether their Outsourcer has undecided work
    (`undecided_work`) and which of its HITs is the current one (`current_hit`: the live HIT of the
    latest batch), so a review with nothing to decide asks nothing more."""
    undecided = Assignment.objects.undecided().filter(hit__outsourcer=OuterRef("outsourcer"), problem="")
    return hits.annotate(
        undecided_work=Exists(undecided),
        current_hit=Subquery(_live_batches(OuterRef("outsourcer")).values("pk")[:1]),
    )


def review_outsourcer(outsourcer: Outsourcer, report: CycleReport, *, hit: HIT | None = None) -> None:
    """Decide what can be decided for one Outsourcer (as just loaded), across all its HITs.

    `hit`: the HIT under review, read with its Outsourcer (and `with_decision_state`); its
    assignments need not read it again."""
    if outsourcer.needs_review:
        return
    task = get_task_type(outsourcer.task_type, outsourcer.task_config)
    undecided = _undecided(outsourcer, hit)
    if not undecided:
        return
    dicts = [task.create_assignment_dict(a) for a in undecided]
    if not outsourcer.active:
        _judge_late_answers(outsourcer, task, dicts, report)
    elif task.decides_by == "completion":
        _judge_completions(outsourcer, task, dicts, report)
    else:
        _review_by_consensus(outsourcer, task, dicts, report, reviewed=hit)


def _undecided(outsourcer: Outsourcer, hit: HIT | None) -> list[Assignment]:
    """The Outsourcer's undecided assignments, oldest first, with their HIT, Outsourcer, account and
    worker (those of `hit` taken as read; any other HIT of the Outsourcer read in one query)."""
    rows = (
        Assignment.objects.undecided()
        .filter(hit__outsourcer=outsourcer, problem="")
        .order_by("submit_time", "pk")
    )
    if hit is None:
        return list(rows.select_related("hit__outsourcer__account", "worker"))
    undecided = list(rows.select_related("worker"))
    hits = {hit.pk: hit}
    others = {a.hit_id for a in undecided} - set(hits)
    if others:  # an earlier batch's late answers (a reopened Outsourcer)
        hits.update(HIT.objects.in_bulk(others))
    for assignment in undecided:
        assignment.hit = hits[assignment.hit_id]
        assignment.hit.outsourcer = outsourcer
    return undecided


def _review_by_consensus(
    outsourcer: Outsourcer,
    task: TaskType,
    dicts: list[AssignmentDict],
    report: CycleReport,
    *,
    reviewed: HIT | None,
) -> None:
    new = [d for d in dicts if d["assignment"].after_last_reopen]
    old = [d for d in dicts if not d["assignment"].after_last_reopen]
    hit = _current_hit(outsourcer, reviewed)
    if hit is None:
        return  # no live HIT to judge by (every one failed or was deleted)
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
    _decide(
        task,
        [_verdict(task, d, answer, approve=True) for d in agreement.accepted]
        + [_verdict(task, d, answer, approve=False) for d in agreement.rejected],
        "consensus",
        report,
    )


def _judge_late_answers(
    outsourcer: Outsourcer, task: TaskType, dicts: list[AssignmentDict], report: CycleReport
) -> None:
    """Answers that came in after the Outsourcer got its answer are judged against it."""
    if not isinstance(outsourcer.answer, dict):
        return  # deleted without an answer: a person decides (or the platform auto-approves)
    answer = dict(outsourcer.answer)
    verdicts = [_verdict(task, d, answer, approve=task.assignments_agree(answer, d)) for d in dicts]
    _decide(task, verdicts, "consensus (after the answer was found)", report)


def _judge_completions(
    outsourcer: Outsourcer, task: TaskType, dicts: list[AssignmentDict], report: CycleReport
) -> None:
    verdicts = []
    for assignment_dict in dicts:
        judgement = task.judge(assignment_dict)
        if judgement.verdict in {"approve", "reject"}:
            approve = judgement.verdict == "approve"
            verdicts.append(
                _verdict(task, assignment_dict, None, approve=approve, feedback=judgement.feedback)
            )
        elif judgement.verdict == "wait":
            continue  # not decidable yet (e.g. a hosted submission whose items are still judged)
        else:
            Assignment.objects.filter(
                pk=assignment_dict["assignment"].pk, decision=Decision.UNDECIDED
            ).update(problem=judgement.problem or "Needs a person's decision.")
            report.flagged += 1
    _decide(task, verdicts, "completion", report)


def _verdict(
    task: TaskType,
    assignment_dict: AssignmentDict,
    answer: AssignmentDict | None,
    *,
    approve: bool,
    feedback: str = "",
) -> payments.Verdict:
    feedback = feedback or task.create_feedback_message(assignment_dict, answer=answer, reject=not approve)
    return payments.Verdict(assignment_dict["assignment"], approve=approve, feedback=feedback)


def _decide(task: TaskType, verdicts: list[payments.Verdict], by: str, report: CycleReport) -> None:
    """Decide them all at once (`payments.decide_assignments`), then run their follow-ups."""
    decided = payments.decide_assignments(verdicts, decided_by=by)
    report.approved += sum(verdict.approve for verdict in decided)
    report.rejected += sum(not verdict.approve for verdict in decided)
    if decided:
        followups.run_for([verdict.assignment for verdict in decided], task=task)


def _save_agreed_answer(
    outsourcer: Outsourcer, task: TaskType, answer: AssignmentDict, agreements: int
) -> bool:
    """Claim the Outsourcer's answer: only the review worker that saves it goes on to decide."""
    saved = Outsourcer.objects.filter(pk=outsourcer.pk, active=True, needs_review=False).update(
        answer=task.answer_of(answer),
        answer_source=f"consensus of {agreements}",
        agreements=agreements,
        active=False,
        last_updated=timezone.now(),
    )
    if saved:
        outsourcer.active = False
    return bool(saved)


def _current_hit(outsourcer: Outsourcer, reviewed: HIT | None) -> HIT | None:
    """The live HIT of the latest batch: the one under review when it was so as read."""
    if reviewed is not None and getattr(reviewed, "current_hit", None) == reviewed.pk:
        return reviewed
    return _live_batches(outsourcer).first()


def _live_batches(outsourcer: Outsourcer | OuterRef) -> QuerySet[HIT]:
    return HIT.objects.filter(outsourcer=outsourcer, status=HIT.Status.LIVE).order_by("-batch_number", "-pk")


def _all_assignments_in(outsourcer: Outsourcer) -> bool:
    """Every assignment asked for has been submitted (or the HITs were stopped)."""
    for hit in outsourcer.hits.filter(status=HIT.Status.LIVE):
        if hit.assignments_seen < hit.max_assignments and not hit.expired:
            return False
    return True


def _flag(outsourcer: Outsourcer, problem: str, report: CycleReport) -> None:
    report.flagged += outsourcer_flag(outsourcer=outsourcer, problem=problem, by=None)


def retirement(hit: HIT) -> Case | F:
    """The HIT's `active` once reviewed (for an UPDATE, so retiring costs no query of its own): no
    longer active when nothing more comes and every assignment is decided. `hit` as the review just
    saw it (its Outsourcer and expiry); the assignments seen as stored in the database.

    Nothing more comes when every assignment asked for is in, or when the HIT expired and the
    time a worker has for an assignment accepted just before has passed too. A consensus HIT
    whose Outsourcer still waits for an answer stays: a reopen adds to it.
    """
    outsourcer = hit.outsourcer
    task = get_task_type(outsourcer.task_type, outsourcer.task_config)
    if outsourcer.active and task.decides_by == "consensus":
        return F("active")
    last_accept = hit.expiration  # set to the moment of expiry when a HIT is expired early
    stopped = (
        last_accept is not None and last_accept + timedelta(seconds=hit.duration_seconds) <= timezone.now()
    )
    in_flight = Assignment.objects.filter(hit=OuterRef("pk")).exclude(
        decision__in=[Decision.APPROVED, Decision.REJECTED]
    )
    stays = Q(Exists(in_flight))
    if not stopped:
        stays |= Q(assignments_seen__lt=F("max_assignments"))
    return Case(When(stays, then=F("active")), default=Value(False))


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
