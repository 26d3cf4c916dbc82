"""Writes on hosted tasks: a worker's way through the workflow, stop and pay, publishing.

Every change of a place's stage or a task's status is a conditional update (so two tabs or two
processes never both make it) followed by its own timestamped history row. A place that has ended
(completed all, stopped, left, failed the qualification, nothing left) never changes again.

Pay, exactly once, through the ledger (`hits.payments`), on the worker's platform assignment
(MTurk's assignment, Prolific's submission) once review sees it:
- the assignment pay is the experiment's reward, paid by approving the assignment; a worker who
  stopped or left is never rejected for it;
- the pay per completed task is one bonus per place (ledger key `hosted-tasks:<place>`) of
  `pay_per_task` x the real tasks saved (plus training tasks, when training is paid); the tasks
  it covers are marked `paid` once the ledger row is done. The place has ended before it is paid,
  so the count cannot change afterwards.
- a worker who left without handing the work in (the platform never received their assignment:
  MTurk's abandoned assignment, Prolific's returned or timed-out submission) cannot be approved or
  paid a bonus on it. Once the assignment duration (plus `SETTLE_GRACE`) is over and the platform
  does not show their assignment, `places_settle` pays the same bonus, under the same ledger key
  (so exactly once, whichever way comes first), on the worker's latest submitted or approved
  assignment for this platform account (`hits.hosted.latest_payable`); with none, the place is
  flagged for the researcher (`pay_problem`) with the amount owed. Their answers still count: they
  go to consensus like everyone's.

Consensus per item: every real item has a hosted HIT (`hits.hosted`, created at publishing), and
every saved answer becomes an assignment of it, decided by consensus in the normal review (rejected
answers lower the worker's Quality Score). A worker's assignment waits until their answers are
decided and is approved when at least half of them agree with the consensus, else rejected under
the experiment's rejection policy (`task_types.HostedTasks`).

A failed qualification test is recorded on the platform (`failed_tests_record`): the worker is put
on the study's exclusion list (MTurk: a qualification type required DoesNotExist by the study's
HITs; Prolific: a participant group the study blocks), so the platform does not offer them the
study, or later studies with the same test, again. The `QualificationResult` row is written first;
its `recorded_at` is set once the platform has it, and whichever process comes next (the periodic
`tasks.end_places_left`, a review of the worker's assignment) finishes what a dead one left.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crowdhr import audit
from crowdhr.audit import User
from experiments.models import Experiment, Participant
from experiments.services import landing_url
from experiments.workflow import qualification
from experiments.workflow.models import (
    ENDED,
    HostedStudy,
    Item,
    Metadata,
    PageView,
    PlaceStatus,
    QualificationResult,
    Stage,
    Task,
    TaskStatus,
    WorkerPlace,
)
from experiments.workflow.queue import OPEN, next_task, open_task
from hits import payments
from hits import services as hit_services
from hits.hosted import HOSTED_HIT_TYPE, hosted_assignment_store, hosted_outsourcer_create, latest_payable
from hits.models import HIT, Assignment, Outsourcer, Payment
from hits.services import HitSettings, ServiceError
from hits.task_types import ConfigError
from platforms import Capability, PlatformError, fees_for, platform_for, supports
from platforms.base import EXCLUDED
from platforms.fees import percent
from platforms.models import PlatformAccount
from workers.models import Worker

logger = logging.getLogger(__name__)

TASK_TYPE = "hosted_tasks"
CENTS = Decimal("0.01")
#: places posted beyond the exact need, for workers who return, leave or fail the test
RESERVE_SHARE = 0.1
#: queue positions: qualification questions from 1, training from here, real tasks after them
TRAINING_POSITIONS = 100_000
#: how long after the assignment duration a place's own assignment may still reach the review
#: before a worker who left is paid on another assignment (`places_settle`)
SETTLE_GRACE = timedelta(minutes=15)
#: the task type that decides each real item by consensus (the study's template and answer fields)
ITEM_TASK_TYPE = "template_batch"


class PayPending(ServiceError):
    """The bonus's ledger row is written but not settled yet: the follow-up is tried again."""


# --- stages --------------------------------------------------------------------------------------
def place_open(*, study: HostedStudy, participant: Participant, at: datetime | None = None) -> WorkerPlace:
    """The worker's place in the workflow (created on their first landing, the same afterwards)."""
    at = at or timezone.now()
    place, created = WorkerPlace.objects.get_or_create(
        participant=participant, defaults={"study": study, "started_at": at}
    )
    if created:
        PlaceStatus.objects.create(place=place, stage=Stage.INTRO, at=at)
    return place


def _move(place: WorkerPlace, stage: str, *, note: str = "", at: datetime | None = None) -> bool:
    """Move a place that has not ended to `stage` (once), with its history row."""
    at = at or timezone.now()
    ending = stage in ENDED
    with transaction.atomic():
        moved = (
            WorkerPlace.objects.filter(pk=place.pk)
            .exclude(stage__in=ENDED)
            .exclude(stage=stage)
            .update(stage=stage, **({"ended_at": at} if ending else {}))
        )
        if moved:
            PlaceStatus.objects.create(place=place, stage=stage, at=at, note=note[:255])
    place.refresh_from_db()
    return bool(moved)


def _task_status(task: Task, status: str, at: datetime, *, allowed=OPEN, **fields: Any) -> bool:
    with transaction.atomic():
        changed = Task.objects.filter(pk=task.pk, status__in=allowed).update(status=status, **fields)
        if changed:
            TaskStatus.objects.create(task=task, status=status, at=at)
    return bool(changed)


def qualification_state(place: WorkerPlace, *, now: datetime | None = None) -> str:
    """'none' (no test), 'passed' (within the validity window, on this platform account),
    'failed' (ever: not asked again) or 'ask'."""
    study = place.study
    if not study.qualification_name or not study.items.filter(kind=Item.Kind.QUALIFICATION).exists():
        return "none"
    results = QualificationResult.objects.filter(
        account_id=study.experiment.account_id,
        name=study.qualification_name,
        worker_id=place.participant.worker_id,
    )
    if results.filter(passed=False).exists():
        return "failed"
    since = (now or timezone.now()) - timedelta(days=study.qualification_valid_days)
    return "passed" if results.filter(passed=True, at__gte=since).exists() else "ask"


def intro_accept(*, place: WorkerPlace, at: datetime | None = None) -> str:
    """The worker read the instructions and consented: on to the qualification if needed."""
    if place.stage != Stage.INTRO:
        return place.stage
    state = qualification_state(place)
    if state == "failed":
        _move(place, Stage.FAILED, note="failed this qualification before", at=at)
    elif state == "ask":
        _move(place, Stage.QUALIFICATION, at=at)
        items = place.study.items.filter(kind=Item.Kind.QUALIFICATION).order_by("number")
        _give(place, Item.Kind.QUALIFICATION, items, at or timezone.now(), base=0)
    else:
        _after_qualification(place, note="qualification passed before" if state == "passed" else "", at=at)
    return place.stage


def _after_qualification(place: WorkerPlace, *, note: str = "", at: datetime | None = None) -> None:
    if place.study.training_count and place.study.items.filter(kind=Item.Kind.TRAINING).exists():
        _move(place, Stage.TRAINING, note=note, at=at)
        _give_training(place, at or timezone.now())
    else:
        _move(place, Stage.TASKS, note=note, at=at)


# --- qualification --------------------------------------------------------------------------------
def _give(place: WorkerPlace, kind: str, items: Any, at: datetime, base: int) -> None:
    """Queue `items` for the worker (once): their qualification questions or training tasks."""
    if place.tasks.filter(kind=kind).exists():
        return
    for position, item in enumerate(items, start=1):
        task = Task.objects.create(
            place=place, item=item, kind=kind, position=base + position, assigned_at=at
        )
        TaskStatus.objects.create(task=task, status=Task.Status.ASSIGNED, at=at)


def qualification_current(place: WorkerPlace) -> Task | None:
    return open_task(place, Item.Kind.QUALIFICATION)


def qualification_answer(
    *, place: WorkerPlace, task: Task, answer: dict[str, str], at: datetime | None = None
) -> bool | None:
    """Save one answer of the test; after the last, grade them all with the study's function and
    record the result for the platform account ('ask if needed'). None while questions remain,
    else whether the worker passed."""
    at = at or timezone.now()
    correct = qualification.answers_match(answer, dict(task.item.expected or {}))
    _task_status(task, Task.Status.SAVED, at, answer=answer, correct=correct, saved_at=at)
    if qualification_current(place) is not None:
        return None
    study = place.study
    tasks = place.tasks.filter(kind=Item.Kind.QUALIFICATION).select_related("item").order_by("position")
    graded = [qualification.Graded(t.answer or {}, dict(t.item.expected or {})) for t in tasks]
    verdict = qualification.decide(study.qualification_function, graded, dict(study.qualification_args))
    with transaction.atomic():
        if not WorkerPlace.objects.filter(pk=place.pk, stage=Stage.QUALIFICATION).update(
            qualification_score=verdict.score
        ):
            place.refresh_from_db()
            return place.stage != Stage.FAILED
        result = QualificationResult.objects.create(
            account_id=study.experiment.account_id,
            name=study.qualification_name,
            worker_id=place.participant.worker_id,
            passed=verdict.passed,
            score=verdict.score,
            place=place,
            at=at,
        )
    if verdict.passed:
        _after_qualification(place, note=f"passed with {verdict.score:.0%}", at=at)
    else:
        _move(place, Stage.FAILED, note=f"scored {verdict.score:.0%}", at=at)
        failed_tests_record(results=QualificationResult.objects.filter(pk=result.pk))
    return verdict.passed


# --- a failed test, recorded on the platform -------------------------------------------------------
def exclusion_list_name(test_name: str) -> str:
    return f"failed {test_name}'s test"[:100]


def _exclusion_list(account: PlatformAccount, test_name: str) -> str:
    return platform_for(account).ensure_exclusion_list(
        name=exclusion_list_name(test_name),
        description=(
            f"Workers who failed the qualification test \u201c{test_name}\u201d of a crowdhr study: its "
            "studies do not ask them again."
        ),
    )


def failed_tests_record(*, results: Any = None, limit: int = 200) -> int:
    """Put workers who failed a test on the platform's exclusion list of the test (once; the
    rows not recorded yet, or `results`). A platform that fails leaves the row for the next run.
    Returns how many were recorded."""
    rows = results if results is not None else QualificationResult.objects.all()
    pending = rows.filter(passed=False, recorded_at__isnull=True).select_related("account")[:limit]
    lists: dict[tuple[int, str], str] = {}
    recorded = 0
    for result in pending:
        if not supports(result.account, Capability.EXCLUSION_LISTS):
            continue
        try:
            key = (result.account_id, result.name)
            if key not in lists:
                lists[key] = _exclusion_list(result.account, result.name)
            platform_for(result.account).add_to_exclusion_list(lists[key], result.worker_id)
        except PlatformError as error:
            logger.warning("failed test not recorded yet", extra={"result": result.pk, "error": str(error)})
            continue
        recorded += QualificationResult.objects.filter(pk=result.pk, recorded_at__isnull=True).update(
            recorded_at=timezone.now()
        )
    return recorded


def _exclusion_requirements(study: HostedStudy) -> tuple[dict[str, Any], ...]:
    """The requirement that keeps workers who failed the study's test off its work (set up once)."""
    account = study.experiment.account
    if not study.qualification_name or not supports(account, Capability.EXCLUSION_LISTS):
        return ()
    if not study.exclusion_list_id:
        try:
            list_id = _exclusion_list(account, study.qualification_name)
        except PlatformError as error:
            raise ServiceError(f"The platform refused the test's exclusion list: {error}") from error
        HostedStudy.objects.filter(pk=study.pk).update(exclusion_list_id=list_id)
        study.exclusion_list_id = list_id
    return ({"QualificationTypeId": study.exclusion_list_id, "Comparator": EXCLUDED},)


# --- training -------------------------------------------------------------------------------------
def _give_training(place: WorkerPlace, at: datetime) -> None:
    items = place.study.items.filter(kind=Item.Kind.TRAINING).order_by("number")[: place.study.training_count]
    _give(place, Item.Kind.TRAINING, items, at, base=TRAINING_POSITIONS)


def training_current(place: WorkerPlace) -> Task | None:
    return open_task(place, Item.Kind.TRAINING)


def training_submit(
    *, place: WorkerPlace, task: Task, answer: dict[str, str], at: datetime | None = None
) -> Task:
    """Save a training answer (graded against the item's answer); after the last, on to the tasks."""
    at = at or timezone.now()
    correct = qualification.answers_match(answer, dict(task.item.expected or {}))
    _task_status(task, Task.Status.SAVED, at, answer=answer, correct=correct, saved_at=at)
    if place.stage == Stage.TRAINING and training_current(place) is None:
        _move(place, Stage.TASKS, at=at)
    task.refresh_from_db()
    return task


# --- tasks ----------------------------------------------------------------------------------------
def task_current(*, place: WorkerPlace, at: datetime | None = None) -> Task | None:
    """The task the worker sees now (marked started the first time it is shown); None when their
    queue is done, which ends their participation as 'completed all' (or 'nothing left')."""
    at = at or timezone.now()
    if place.stage != Stage.TASKS:
        return None
    task = next_task(place, now=at)
    if task is None:
        done_any = place.tasks.filter(kind=Item.Kind.TASK, status=Task.Status.SAVED).exists()
        _move(place, Stage.COMPLETED if done_any else Stage.NOTHING_LEFT, at=at)
        return None
    if task.status == Task.Status.ASSIGNED:
        _task_status(task, Task.Status.STARTED, at, allowed=(Task.Status.ASSIGNED,), started_at=at)
        task.refresh_from_db()
    return task


def task_save(*, place: WorkerPlace, task_pk: int, answer: dict[str, str], skip: bool = False) -> bool:
    """Save the worker's answer to their open task (once; a repeated submit changes nothing)."""
    task = place.tasks.filter(pk=task_pk, kind=Item.Kind.TASK).first()
    if task is None or place.stage != Stage.TASKS:
        return False
    at = timezone.now()
    if skip:
        return _task_status(task, Task.Status.SKIPPED, at, saved_at=at)
    return _task_status(task, Task.Status.SAVED, at, answer=answer, saved_at=at)


def _close_open_tasks(place: WorkerPlace, status: str, at: datetime) -> None:
    for task in place.tasks.filter(status__in=OPEN):
        _task_status(task, status, at)


def place_stop(*, place: WorkerPlace, at: datetime | None = None) -> bool:
    """The stop button: participation ends at once; what was saved is paid (see the module)."""
    at = at or timezone.now()
    if not _move(place, Stage.STOPPED, note="pressed stop", at=at):
        return False
    _close_open_tasks(place, Task.Status.STOPPED, at)
    return True


def places_left(*, study: HostedStudy | None = None, now: datetime | None = None) -> int:
    """Places not ended after the assignment duration: the worker left. Their open tasks time out
    (freeing the items); they are paid by the same rule if the platform shows their work."""
    now = now or timezone.now()
    stale = WorkerPlace.objects.exclude(stage__in=ENDED).select_related("study__experiment")
    if study is not None:
        stale = stale.filter(study=study)
    count = 0
    for place in stale:
        if place.started_at + timedelta(seconds=place.study.experiment.duration_seconds) > now:
            continue
        if _move(place, Stage.LEFT, note="not finished within the assignment duration", at=now):
            _close_open_tasks(place, Task.Status.TIMED_OUT, now)
            count += 1
    return count


def place_finish_unended(*, place: WorkerPlace) -> None:
    """The platform shows the work handed in while crowdhr still had the place open: it ends as
    'left' (paid by the same rule, never rejected)."""
    if not place.ended:
        at = timezone.now()
        if _move(place, Stage.LEFT, note="handed in on the platform", at=at):
            _close_open_tasks(place, Task.Status.STOPPED, at)


# --- tracking ----------------------------------------------------------------------------------
def page_shown(*, place: WorkerPlace, page: str, user_agent: str, task: Task | None = None) -> PageView:
    return PageView.objects.create(
        place=place, page=page, task=task, user_agent=user_agent[:500], shown_at=timezone.now()
    )


def page_completed(
    *, place: WorkerPlace, view_pk: Any, screen: str, window: str, extra: dict[str, str]
) -> bool:
    """The page's script reports the browser's screen and window as the page is left."""
    try:
        pk = int(view_pk)
    except (TypeError, ValueError):
        return False
    done = PageView.objects.filter(pk=pk, place=place, completed_at__isnull=True).update(
        completed_at=timezone.now(), screen=screen[:30], window=window[:30]
    )
    if done and extra:
        at = timezone.now()
        known = set(place.metadata.values_list("name", flat=True))
        Metadata.objects.bulk_create(
            Metadata(place=place, name=name[:50], value=value[:500], at=at)
            for name, value in extra.items()
            if name not in known
        )
    return bool(done)


# --- pay ----------------------------------------------------------------------------------------
def bonus_key(place: WorkerPlace) -> str:
    return f"hosted-tasks:{place.pk}"


def paid_tasks(place: WorkerPlace) -> Any:
    kinds = [Item.Kind.TASK, Item.Kind.TRAINING] if place.study.training_paid else [Item.Kind.TASK]
    return place.tasks.filter(kind__in=kinds, status=Task.Status.SAVED)


def pay_owed(place: WorkerPlace) -> Decimal:
    return (place.study.pay_per_task * paid_tasks(place).count()).quantize(CENTS)


def place_is_paid_for(place: WorkerPlace) -> bool:
    """Whether an ended place gets the assignment pay: all but a failed test under 'pay nothing'."""
    return place.stage != Stage.FAILED or place.study.on_fail == HostedStudy.OnFail.REWARD


def place_pay(*, place: WorkerPlace, assignment: Assignment) -> Payment | None:
    """The bonus for the tasks the worker completed, once per place; tasks marked paid when done.
    Raises PayPending while the ledger row is not settled (the follow-up is then tried again)."""
    amount = pay_owed(place)
    if amount <= 0:
        return None
    tasks = list(paid_tasks(place).values_list("pk", flat=True))
    if not place.ended:
        raise PayPending(f"Place {place.pk} has not ended: what it is owed can still change.")
    payment = payments.pay_bonus(
        assignment=assignment,
        amount=amount,
        reason=(
            f"{len(tasks)} task(s) in \u201c{place.study.experiment.title}\u201d at "
            f"${place.study.pay_per_task} each. Thank you!"
        ),
        key=bonus_key(place),
        triggered_by="hosted tasks",
    )
    if payment.status != Payment.Status.DONE:
        raise PayPending(f"The bonus for place {place.pk} is {payment.status}.")
    Task.objects.filter(pk__in=tasks, paid=False).update(paid=True)
    return payment


def _own_assignment_reported(place: WorkerPlace) -> bool | None:
    """Whether the platform received the place's own assignment (then the review pays it); None
    when the platform cannot say now."""
    participant = place.participant
    experiment = place.study.experiment
    if not participant.assignment_id:
        return False
    if Assignment.objects.filter(
        assignment_id=participant.assignment_id, hit__outsourcer__experiment=experiment
    ).exists():
        return True
    try:
        reported = platform_for(experiment.account).get_assignment(participant.assignment_id)
    except PlatformError as error:
        return False if error.permanent else None  # MTurk forgets abandoned assignments
    return reported.status in ("Submitted", "Approved", "Rejected")


def places_settle(*, study: HostedStudy | None = None, now: datetime | None = None) -> int:
    """Pay workers who left without handing their work in (see the module): their completed tasks
    as a bonus on their latest payable assignment for the account, else the place is flagged for
    the researcher with the amount owed. Their answers go to consensus. Returns the places settled."""
    now = now or timezone.now()
    places = (
        WorkerPlace.objects.filter(stage__in=ENDED, pay_problem="")
        .filter(tasks__status=Task.Status.SAVED, tasks__paid=False)
        .select_related("study__experiment__account", "participant")
        .distinct()
    )
    if study is not None:
        places = places.filter(study=study)
    settled = 0
    for place in places:
        experiment = place.study.experiment
        if place.started_at + timedelta(seconds=experiment.duration_seconds) + SETTLE_GRACE > now:
            continue
        if not paid_tasks(place).filter(paid=False).exists() or _own_assignment_reported(place) is not False:
            continue
        worker, _ = Worker.objects.get_or_create(
            platform=experiment.account.platform, worker_id=place.participant.worker_id
        )
        answers_store(
            place=place, worker=worker, submission_id=place.participant.assignment_id or f"place-{place.pk}"
        )
        target = latest_payable(worker=worker, account=experiment.account)
        if target is None:
            problem = (
                f"${pay_owed(place)} owed for {paid_tasks(place).count()} task(s): the worker left and has no "
                "assignment on the platform to pay a bonus on. Pay them by hand."
            )
            if WorkerPlace.objects.filter(pk=place.pk, pay_problem="").update(pay_problem=problem[:300]):
                audit.record(by=None, action="flag", obj=experiment, place=place.pk, problem=problem)
                settled += 1
            continue
        try:
            place_pay(place=place, assignment=target)
        except PayPending as error:
            logger.warning("left worker's pay pending", extra={"place": place.pk, "error": str(error)})
            continue
        settled += 1
    return settled


# --- consensus per item -------------------------------------------------------------------------
def items_publish(*, study: HostedStudy, by: User | None) -> int:
    """Each real item's hosted HIT (`hits.hosted`; nothing posted, no platform call), once."""
    experiment = study.experiment
    config = {"template": study.task_template, "answer_fields": study.fields}
    created = 0
    for item in study.items.filter(kind=Item.Kind.TASK, outsourcer__isnull=True).order_by("number"):
        with transaction.atomic():
            try:
                outsourcer = hosted_outsourcer_create(
                    owner=experiment.owner,
                    account=experiment.account,
                    experiment=experiment,
                    task_type=ITEM_TASK_TYPE,
                    target=f"{experiment.outsourcer_target}:item:{item.number}",
                    inputs=item.inputs,
                    task_config=config,
                    assignments_required=study.answers_per_item,
                    agreements_required=study.agreements_required,
                    by=by,
                )
            except (ConfigError, ValueError) as error:
                raise ServiceError(f"The task template cannot be decided by consensus: {error}") from error
            created += Item.objects.filter(pk=item.pk, outsourcer__isnull=True).update(outsourcer=outsourcer)
    return created


def answers_store(*, place: WorkerPlace, worker: Worker, submission_id: str) -> list[tuple[Task, Assignment]]:
    """The place's saved real tasks as assignments of their items' hosted HITs (once each; the
    id is `<submission id>:<queue position>`), so consensus decides them with everyone's."""
    stored = []
    tasks = place.tasks.filter(kind=Item.Kind.TASK, status=Task.Status.SAVED, item__outsourcer__isnull=False)
    for task in tasks.select_related("item").order_by("position"):
        hit = HIT.objects.get(outsourcer__hosted_item=task.item_id, hit_type_id=HOSTED_HIT_TYPE)
        assignment = hosted_assignment_store(
            hit=hit,
            worker=worker,
            submission_id=submission_id,
            position=task.position,
            answers=dict(task.answer or {}),
            accept_time=task.started_at or task.assigned_at,
            submit_time=task.saved_at,
        )
        stored.append((task, assignment))
    return stored


# --- publishing -----------------------------------------------------------------------------------
def worker_slots(study: HostedStudy) -> int:
    """Places to post: every item answered `answers_per_item` times in shares of `tasks_per_worker`,
    plus a reserve for workers who return, leave or fail the test."""
    items = study.items.filter(kind=Item.Kind.TASK).count()
    exact = math.ceil(items * study.answers_per_item / study.tasks_per_worker)
    return exact + max(1, math.ceil(exact * RESERVE_SHARE))


@dataclass(frozen=True)
class CostRange:
    """What a hosted-tasks study costs: everyone stops at once, up to every task done."""

    slots: int
    minimum: Decimal
    maximum: Decimal
    fee_percent: str
    hourly_wage: Decimal
    minutes: int


def cost_range(study: HostedStudy, *, minutes_per_task: float = 1.0) -> CostRange:
    """The cost range with the platform's fees (minimum: every slot's assignment pay; maximum: plus
    every answer the items need), and the effective hourly wage of a worker doing a full share in
    `minutes_per_task` per task (the researcher's estimate)."""
    experiment = study.experiment
    fees = fees_for(experiment.account)
    slots = worker_slots(study)
    reward = Decimal(experiment.reward)
    minimum = reward * slots + fees.posting_fees(reward, slots)
    answers = study.items.filter(kind=Item.Kind.TASK).count() * study.answers_per_item
    task_pay = study.pay_per_task * answers
    maximum = minimum + task_pay + fees.bonus_fee(task_pay)
    share_pay = reward + study.pay_per_task * study.tasks_per_worker
    minutes = max(1, round(study.tasks_per_worker * minutes_per_task))
    wage = (share_pay * 60 / minutes).quantize(CENTS)
    return CostRange(
        slots, minimum.quantize(CENTS), maximum.quantize(CENTS), percent(fees.rate), wage, minutes
    )


def hosted_publish(*, study: HostedStudy, by: User | None) -> Outsourcer:
    """Post the study: one Outsourcer whose work leads every worker into the workflow (Prolific:
    one study with every slot; MTurk: one HIT per worker slot). Publishing twice is refused."""
    experiment = study.experiment
    if Outsourcer.objects.filter(experiment=experiment, target=experiment.outsourcer_target).exists():
        raise ServiceError(f"{experiment} is published already.")
    slots = worker_slots(study)
    if not study.items.filter(kind=Item.Kind.TASK).exists():
        raise ServiceError(f"{experiment} has no task items.")
    Experiment.objects.filter(pk=experiment.pk).update(num_participants=slots, assignments_to_post=slots)
    experiment.refresh_from_db()
    items_publish(study=study, by=by)
    requirements = _exclusion_requirements(study)
    fees = fees_for(experiment.account)
    # MTurk: one HIT per worker slot (micro-batches pay the lower fee); Prolific: one study
    batch_sizes = [1] * slots if fees.micro_batch_limit else [slots]
    outsourcer = hit_services.outsourcer_create(
        owner=experiment.owner,
        account=experiment.account,
        task_type=TASK_TYPE,
        target=experiment.outsourcer_target,
        inputs={"url": landing_url_hosted(experiment)},
        task_config={"experiment_id": experiment.pk},
        settings=_hit_settings(experiment, slots, requirements),
        experiment=experiment,
        by=by,
        batch_sizes=batch_sizes,
    )
    Experiment.objects.filter(pk=experiment.pk).update(published_at=timezone.now())
    audit.record(by=by, action="publish", obj=experiment, slots=slots)
    return outsourcer


def landing_url_hosted(experiment: Experiment) -> str:
    return landing_url(experiment) + "hosted/"


def _hit_settings(
    experiment: Experiment, slots: int, requirements: tuple[dict[str, Any], ...] = ()
) -> HitSettings:
    return HitSettings(
        title=experiment.title,
        description=experiment.description,
        reward=experiment.reward,
        keywords=experiment.keywords,
        duration_seconds=experiment.duration_seconds,
        lifetime_seconds=experiment.lifetime_seconds,
        auto_approval_delay_seconds=experiment.auto_approval_delay_seconds,
        assignments_required=slots,
        agreements_required=1,
        qualification_requirements=requirements,
        quality_threshold=None,
    )


def progress_by_stage(study: HostedStudy) -> dict[str, int]:
    rows = WorkerPlace.objects.filter(study=study).values_list("stage", flat=True)
    counts: dict[str, int] = {}
    for stage in rows:
        counts[stage] = counts.get(stage, 0) + 1
    return counts


def places_paid_pending(study: HostedStudy) -> Any:
    return (
        WorkerPlace.objects.filter(study=study)
        .filter(Q(stage__in=ENDED) & Q(tasks__status=Task.Status.SAVED, tasks__paid=False))
        .distinct()
    )
