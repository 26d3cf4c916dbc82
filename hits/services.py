"""Writes on outsourced work: create, delete, expire, unexpire, reopen, forced import, manual data,
decisions by a person, review flags, and response-time statistics.

Admin actions, views, tasks and commands call these; only these (and review/payments) call
the platform. Every function takes keyword arguments and says who acted (`by`: the User, or
None for the system), and records it in the audit trail (`crowdhr.audit`).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import db
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from crowdhr import audit
from crowdhr.audit import User
from crowdhr.errors import Refusal
from hits import payments

# Flagging has one home, `hits.flags` (the review uses it too); re-exported with the other services.
from hits.flags import outsourcer_flag as outsourcer_flag
from hits.flags import outsourcer_unflag as outsourcer_unflag
from hits.hosted import is_hosted
from hits.models import HIT, Assignment, Outsourcer, Payment, RejectionPolicy
from hits.review.sync import fetch_assignments
from hits.task_types import get_task_type
from platforms import (
    Capability,
    Destination,
    PlatformError,
    PlatformHit,
    QualificationRequirement,
    WorkSpec,
    fees_for,
    platform_for,
    supports,
)
from platforms.base import dump_destination, load_destination
from platforms.models import PlatformAccount
from workers.models import Worker
from workers.scoring import quality_requirement


class ServiceError(Refusal):
    """A request a researcher made about outsourced work that cannot be done (a `Refusal`)."""


@dataclass(frozen=True)
class HitSettings:
    """How the HITs of an Outsourcer are posted."""

    title: str
    description: str
    reward: Decimal
    keywords: str = ""
    duration_seconds: int = 3600
    lifetime_seconds: int = 7 * 24 * 3600
    auto_approval_delay_seconds: int = 3 * 24 * 3600
    assignments_required: int = 3
    agreements_required: int = 2
    qualification_requirements: tuple[dict[str, Any], ...] = ()
    quality_threshold: int | None = 0  # None: no Quality Score requirement


# --- creating ----------------------------------------------------------------------------------
def outsourcer_create(
    *,
    owner,
    account: PlatformAccount,
    task_type: str,
    target: str,
    inputs: dict[str, Any],
    settings: HitSettings,
    task_config: dict[str, Any] | None = None,
    experiment=None,
    force: bool = False,
    by: User | None = None,
    destination: Destination | None = None,
    batch_sizes: Sequence[int] | None = None,
    on_rejection: str | None = None,
) -> Outsourcer:
    """Create an Outsourcer and post its HIT(s).

    `on_rejection` (a `RejectionPolicy`) defaults to the experiment's, else to paying anyway.

    Only one open Outsourcer per target: without `force` a second one is refused; with `force`
    (a forced import) the open ones are closed first (see `outsourcers_close_for_target`).
    """
    task = get_task_type(task_type, task_config)
    if settings.agreements_required > settings.assignments_required and task.decides_by == "consensus":
        raise ServiceError("Agreements required cannot exceed the assignments asked for.")
    if force:
        outsourcers_close_for_target(owner=owner, target=target, by=by)
    elif Outsourcer.objects.filter(owner=owner, target=target, active=True).exists():
        raise ServiceError(
            f"An open Outsourcer for {target!r} exists already; use a forced import to replace it."
        )
    outsourcer = Outsourcer.objects.create(
        owner=owner,
        account=account,
        experiment=experiment,
        target=target,
        task_type=task_type,
        task_config=task_config or {},
        inputs=inputs,
        on_rejection=on_rejection
        or (experiment.on_rejection if experiment is not None else RejectionPolicy.PAY_ANYWAY),
    )
    hits_create(outsourcer=outsourcer, settings=settings, destination=destination, batch_sizes=batch_sizes)
    audit.record(by=by, action="create", obj=outsourcer, task_type=task_type)
    return outsourcer


def hits_create(
    *,
    outsourcer: Outsourcer,
    settings: HitSettings,
    destination: Destination | None = None,
    batch_sizes: Sequence[int] | None = None,
    first_batch: int = 1,
) -> list[HIT]:
    """Post the Outsourcer's HITs, as micro-batches where the platform's fees ask for them
    (MTurk: at most 9 assignments each). The HIT rows store where the worker goes (JSON).

    The HIT rows are written together (one INSERT), each with its UniqueRequestToken, before any
    platform call, so a retried or crashed publish never posts a HIT twice (`hits_finish_creating`
    completes such rows). The rows are posted several at once (`hits_post`).
    """
    task = get_task_type(outsourcer.task_type, outsourcer.task_config)
    content = task.create_hit_content(outsourcer.inputs, asdict(settings))
    sizes = _batch_sizes(outsourcer.account, settings.assignments_required, batch_sizes)
    requirements = list(settings.qualification_requirements)
    hits = HIT.objects.bulk_create(
        HIT(
            outsourcer=outsourcer,
            owner_id=outsourcer.owner_id,
            environment=outsourcer.account.environment,
            creation_token=f"crowdhr-hit-{outsourcer.pk}-{number}",
            batch_number=number,
            assignments_required=size,
            agreements_required=settings.agreements_required,
            max_assignments=size,
            title=content.title,
            description=content.description,
            keywords=content.keywords,
            reward=content.reward,
            duration_seconds=content.duration_seconds,
            lifetime_seconds=content.lifetime_seconds,
            auto_approval_delay_seconds=content.auto_approval_delay_seconds,
            qualification_requirements=requirements,
            question=dump_destination(destination or content.destination),
        )
        for number, size in enumerate(sizes, start=first_batch)
    )
    return hits_post(hits, quality_threshold=settings.quality_threshold)


def _batch_sizes(account: PlatformAccount, total: int, asked: Sequence[int] | None) -> list[int]:
    """The sizes of the HITs to post: as asked, or as the platform's fees split `total`."""
    fees = fees_for(account)
    sizes = list(asked) if asked else fees.batch_sizes(total)
    limit = fees.micro_batch_limit
    if any(size < 1 or (limit is not None and size > limit) for size in sizes):
        raise ServiceError(f"A HIT holds 1 to {limit} assignments (a larger one costs more in fees).")
    return sizes


def hit_post(hit: HIT, *, quality_threshold: int | None = 0) -> HIT:
    """Post one HIT row on the platform (idempotent through its creation token)."""
    return hits_post([hit], quality_threshold=quality_threshold)[0]


def hits_post(hits: Sequence[HIT], *, quality_threshold: int | None = 0) -> list[HIT]:
    """Post HIT rows of one Outsourcer on the platform, `PUBLISH_CONCURRENCY` calls at once.

    Each call carries the row's creation token, so repeating it never posts a HIT twice. The
    platform client paces the calls to the account's rate limit and retries throttling and
    outages itself; a call that still fails leaves its row CREATING for `hits_finish_creating`,
    and a permanent refusal marks its row FAILED and is raised (a `ServiceError`) once every call
    has answered. Only the calling thread writes to the database: the other threads wait for
    the platform.
    """
    if not hits:
        return []
    refused: PlatformError | None = None
    for hit, outcome in _create_at_once(hits, quality_threshold):
        _record_posted(hit, outcome)
        if isinstance(outcome, PlatformError) and outcome.permanent:
            refused = refused or outcome
    if refused is not None:
        raise ServiceError(f"MTurk refused the HIT: {refused.message}") from refused
    return list(hits)


def _create_at_once(
    hits: Sequence[HIT], quality_threshold: int | None
) -> Iterator[tuple[HIT, PlatformHit | PlatformError]]:
    """Each HIT with what the platform answered to its CreateHIT, as the answers come."""
    account = hits[0].outsourcer.account
    try:
        platform = platform_for(account)
        requirements = []
        if quality_threshold is not None and supports(account, Capability.QUALIFICATIONS):
            # Elsewhere (Prolific) crowdhr keeps the scores itself; a ban is a block there.
            requirements.append(quality_requirement(account, quality_threshold))
        specs = {hit.pk: _work_spec(hit, requirements) for hit in hits}
    except PlatformError as error:
        yield from ((hit, error) for hit in hits)
        return

    def create(hit: HIT) -> PlatformHit | PlatformError:
        try:
            return platform.create_hit(specs[hit.pk], unique_request_token=hit.creation_token)
        except PlatformError as error:
            return error
        finally:
            db.connections.close_all()  # in case a platform client reads the database

    threads = max(1, min(getattr(django_settings, "PUBLISH_CONCURRENCY", 16), len(hits)))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="publish") as pool:
        calls = {pool.submit(create, hit): hit for hit in hits}
        for call in as_completed(calls):
            yield calls[call], call.result()


def _work_spec(hit: HIT, requirements: list[QualificationRequirement]) -> WorkSpec:
    """What the platform is asked to post for a HIT row, in crowdhr's words."""
    return WorkSpec(
        title=hit.title,
        description=hit.description,
        reward=hit.reward,
        places=hit.max_assignments,
        destination=load_destination(hit.question),
        lifetime_seconds=hit.lifetime_seconds,
        time_allowed_seconds=hit.duration_seconds,
        auto_approval_delay_seconds=hit.auto_approval_delay_seconds,
        keywords=hit.keywords,
        requirements=[*(_requirement(raw) for raw in hit.qualification_requirements), *requirements],
        annotation=f"crowdhr outsourcer {hit.outsourcer_id} batch {hit.batch_number}",
    )


def _record_posted(hit: HIT, outcome: PlatformHit | PlatformError) -> None:
    """Store what the platform answered on the HIT row (and on `hit`)."""
    if isinstance(outcome, PlatformError):
        changes: dict[str, Any] = {
            "status": HIT.Status.FAILED if outcome.permanent else HIT.Status.CREATING,
            "creation_error": str(outcome),
        }
    else:
        changes = {
            "status": HIT.Status.LIVE,
            "hit_id": outcome.hit_id,
            "hit_type_id": outcome.hit_type_id,
            "expiration": outcome.expiration,
            "creation_error": "",
        }
    HIT.objects.filter(pk=hit.pk).update(**changes)
    for field, value in changes.items():
        setattr(hit, field, value)


def hits_finish_creating(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Post HIT rows a crash or a temporary failure left half-created; returns how many went live."""
    stuck = HIT.objects.filter(status=HIT.Status.CREATING, create_date__lt=timezone.now() - older_than)
    posted = 0
    for hit in stuck.select_related("outsourcer__account"):
        threshold = hit.outsourcer.task_config.get("quality_threshold", 0)
        if hit_post(hit, quality_threshold=threshold).status == HIT.Status.LIVE:
            posted += 1
    return posted


def _requirement(raw: dict[str, Any]) -> QualificationRequirement:
    return QualificationRequirement(
        qualification_type_id=raw["QualificationTypeId"],
        comparator=raw["Comparator"],
        integer_values=tuple(raw.get("IntegerValues", ())),
        locale_values=tuple(raw.get("LocaleValues", ())),
        actions_guarded=raw.get("ActionsGuarded", "Accept"),
    )


# --- pausing, resuming, deleting -------------------------------------------------------------
def _live_hits(outsourcer: Outsourcer) -> QuerySet[HIT]:
    return outsourcer.hits.filter(status=HIT.Status.LIVE)


def _require_active(outsourcer: Outsourcer, action: str) -> None:
    if not outsourcer.active:
        raise ServiceError(f"Cannot {action} {outsourcer}: it is deactivated (kept for history only).")


def outsourcer_expire(*, outsourcer: Outsourcer, by: User | None) -> int:
    """Pause: no new workers can accept; submitted work is still reviewed. Returns HITs expired."""
    _require_active(outsourcer, "expire")
    expired = expire_live_hits(outsourcer)
    audit.record(by=by, action="expire", obj=outsourcer, hits=expired)
    return expired


def expire_live_hits(outsourcer: Outsourcer) -> int:
    """Expire every live HIT of the Outsourcer on the platform now; returns how many expired.

    The one place HITs are expired (pause, delete, an answer entered by hand, a study's expiry).
    """
    platform = platform_for(outsourcer.account)
    expired = 0
    for hit in _live_hits(outsourcer).filter(expired=False):
        if not is_hosted(hit):  # crowdhr's own HIT (`hits.hosted`): the platform does not know it
            platform.expire_hit(hit.hit_id)
        HIT.objects.filter(pk=hit.pk).update(expired=True, expiration=timezone.now())
        expired += 1
    return expired


def outsourcer_unexpire(*, outsourcer: Outsourcer, by: User | None) -> int:
    """Resume a paused Outsourcer: its HITs take workers again for their lifetime."""
    _require_active(outsourcer, "unexpire")
    platform = platform_for(outsourcer.account)
    resumed = 0
    for hit in _live_hits(outsourcer).filter(expired=True):
        until = timezone.now() + timedelta(seconds=hit.lifetime_seconds)
        platform.update_expiration(hit.hit_id, until)
        HIT.objects.filter(pk=hit.pk).update(expired=False, expiration=until)
        resumed += 1
    audit.record(by=by, action="unexpire", obj=outsourcer, hits=resumed)
    return resumed


def outsourcer_delete(*, outsourcer: Outsourcer, by: User | None) -> Outsourcer:
    """Gone as far as crowdhr is concerned: HITs expired, Outsourcer deactivated, records kept."""
    expired = expire_live_hits(outsourcer)
    outsourcer.hits.filter(expired=False).update(expired=True, expiration=timezone.now())
    outsourcer.hits.update(active=False)
    Outsourcer.objects.filter(pk=outsourcer.pk).update(active=False)
    outsourcer.refresh_from_db()
    audit.record(by=by, action="delete", obj=outsourcer, hits=expired)
    return outsourcer


def outsourcer_reopen(*, outsourcer: Outsourcer, by: User | None) -> HIT:
    """Ask `assignments_required` more workers. Only their answers count toward the next agreement;
    undecided older ones are judged against it. Returns the HIT that takes them.

    A HIT posted with fewer than 10 assignments can never grow past 9 (MTurk's 40% rule), so when
    the current HIT is full crowdhr posts a fresh micro-batch instead of extending it.
    """
    _require_active(outsourcer, "reopen")
    hit = _live_hits(outsourcer).order_by("-batch_number").first()
    if hit is None:
        raise ServiceError(f"{outsourcer} has no HIT on the platform to reopen.")
    extra = hit.assignments_required
    now = timezone.now()
    with transaction.atomic():
        Assignment.objects.filter(hit__outsourcer=outsourcer, decision=Assignment.Decision.UNDECIDED).update(
            after_last_reopen=False
        )
        outsourcer.hits.update(num_new_assignments=0)
        Outsourcer.objects.filter(pk=outsourcer.pk).update(needs_review=False, problem="")
    limit = fees_for(outsourcer.account).micro_batch_limit
    if limit is None or hit.max_assignments + extra <= limit:
        reopen_number = hit.reopen_count + 1
        platform = platform_for(outsourcer.account)
        platform.add_assignments(
            hit.hit_id, extra, unique_request_token=f"crowdhr-reopen-{hit.pk}-{reopen_number}"
        )
        if hit.expired:
            until = now + timedelta(seconds=hit.lifetime_seconds)
            platform.update_expiration(hit.hit_id, until)
            HIT.objects.filter(pk=hit.pk).update(expired=False, expiration=until)
        HIT.objects.filter(pk=hit.pk).update(
            max_assignments=hit.max_assignments + extra,
            reopen_count=reopen_number,
            last_reopen_time=now,
            num_new_assignments=0,
            active=True,
        )
        hit.refresh_from_db()
        audit.record(by=by, action="reopen", obj=outsourcer, hit=hit.hit_id, assignments=extra)
        return hit
    settings = _settings_of(hit, outsourcer)
    (new_hit,) = hits_create(
        outsourcer=outsourcer,
        settings=settings,
        destination=load_destination(hit.question),
        batch_sizes=[extra],
        first_batch=hit.batch_number + 1,
    )
    HIT.objects.filter(pk=new_hit.pk).update(last_reopen_time=now, reopen_count=hit.reopen_count + 1)
    new_hit.refresh_from_db()
    audit.record(by=by, action="reopen", obj=outsourcer, hit=new_hit.hit_id, assignments=extra)
    return new_hit


def _settings_of(hit: HIT, outsourcer: Outsourcer) -> HitSettings:
    return HitSettings(
        title=hit.title,
        description=hit.description,
        reward=hit.reward,
        keywords=hit.keywords,
        duration_seconds=hit.duration_seconds,
        lifetime_seconds=hit.lifetime_seconds,
        auto_approval_delay_seconds=hit.auto_approval_delay_seconds,
        assignments_required=hit.assignments_required,
        agreements_required=hit.agreements_required,
        qualification_requirements=tuple(hit.qualification_requirements),
        quality_threshold=outsourcer.task_config.get("quality_threshold", 0),
    )


def outsourcers_close_for_target(*, owner, target: str, by: User | None) -> int:
    """Forced import: deactivate the open Outsourcers for a target, expire their HITs, and
    approve every undecided assignment they have. Returns how many were closed."""

    closed = 0
    for outsourcer in Outsourcer.objects.filter(owner=owner, target=target, active=True):
        outsourcer_delete(outsourcer=outsourcer, by=by)
        for hit in _live_hits(outsourcer):
            fetch_assignments(hit)
        for assignment in (
            Assignment.objects.undecided().filter(hit__outsourcer=outsourcer).select_related("hit")
        ):
            payments.approve_assignment(assignment, decided_by=f"forced import ({audit.label(by)})")
        closed += 1
    return closed


# --- answers -----------------------------------------------------------------------------------
def outsourcer_save_answer(*, outsourcer: Outsourcer, answer: dict[str, Any], source: str) -> Outsourcer:
    """Save the answer as this Outsourcer's data and deactivate it (its work is done).

    Its HITs keep being reviewed until every submitted assignment is decided.
    """
    Outsourcer.objects.filter(pk=outsourcer.pk).update(
        answer=answer,
        answer_source=source[:100],
        active=False,
        needs_review=False,
        problem="",
        last_updated=timezone.now(),
    )
    outsourcer.refresh_from_db()
    return outsourcer


def outsourcer_input_data(*, outsourcer: Outsourcer, answer: dict[str, Any], by: User | None) -> Outsourcer:
    """A person enters the answer by hand: saved, Outsourcer deactivated, HITs expired."""
    expire_live_hits(outsourcer)
    audit.record(by=by, action="input data", obj=outsourcer, answer=answer)
    return outsourcer_save_answer(outsourcer=outsourcer, answer=answer, source=f"entered ({audit.label(by)})")


def assignment_save_as_data(*, assignment: Assignment, by: User | None) -> Outsourcer:
    """Save one worker's answer as the Outsourcer's data (the person judged it right)."""
    outsourcer = assignment.hit.outsourcer
    task = get_task_type(outsourcer.task_type, outsourcer.task_config)
    assignment_dict = task.create_assignment_dict(assignment)
    task.process_answer(assignment_dict)
    audit.record(by=by, action="save as data", obj=assignment, outsourcer=str(outsourcer))
    return outsourcer_save_answer(
        outsourcer=outsourcer,
        answer=task.answer_of(assignment_dict),
        source=f"assignment {assignment.assignment_id} chosen ({audit.label(by)})",
    )


def assignment_approve(*, assignment: Assignment, feedback: str = "", by: User | None) -> bool:
    """A person approves one assignment (pays the reward). False when it was decided already."""
    approved = payments.approve_assignment(assignment, feedback=feedback, decided_by=audit.label(by))
    if approved:
        audit.record(by=by, action="approve", obj=assignment, feedback=feedback)
    return approved


def assignment_reject(*, assignment: Assignment, feedback: str = "", by: User | None) -> bool:
    """A person rejects one assignment. Without feedback the worker is told the agreed answer when known."""
    if not feedback:
        outsourcer = assignment.hit.outsourcer
        task = get_task_type(outsourcer.task_type, outsourcer.task_config)
        answer = dict(outsourcer.answer) if isinstance(outsourcer.answer, dict) else None
        feedback = task.create_feedback_message(
            task.create_assignment_dict(assignment), answer=answer, reject=True
        )
    rejected = payments.reject_assignment(assignment, feedback=feedback, decided_by=audit.label(by))
    if rejected:
        audit.record(by=by, action="reject", obj=assignment, feedback=feedback)
    return rejected


def hit_decide_all(*, hit: HIT, approve: bool, feedback: str = "", by: User | None) -> int:
    """Approve (or reject with one feedback text) every undecided assignment of a HIT."""
    decide = assignment_approve if approve else assignment_reject
    undecided = Assignment.objects.undecided().filter(hit=hit).select_related("hit__outsourcer", "worker")
    return sum(decide(assignment=a, feedback=feedback, by=by) for a in undecided)


# --- statistics ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResponseTimes:
    """Work time (submit minus accept) over a set of HITs, in seconds."""

    count: int
    mean: float | None
    minimum: float | None
    maximum: float | None
    stdev: float | None
    seconds: tuple[float, ...]


def response_time_statistics(hits: Iterable[HIT] | QuerySet[HIT]) -> ResponseTimes:
    ids = [hit.pk for hit in hits]
    times = Assignment.objects.filter(hit_id__in=ids, accept_time__isnull=False, submit_time__isnull=False)
    seconds = tuple(
        (submit - accept).total_seconds()
        for accept, submit in times.values_list("accept_time", "submit_time")
        if accept is not None and submit is not None
    )
    if not seconds:
        return ResponseTimes(0, None, None, None, None, ())
    return ResponseTimes(
        count=len(seconds),
        mean=statistics.fmean(seconds),
        minimum=min(seconds),
        maximum=max(seconds),
        stdev=statistics.stdev(seconds) if len(seconds) > 1 else 0.0,
        seconds=seconds,
    )


# --- bonuses a person sends -------------------------------------------------------------------
def worker_bonus(
    *,
    account: PlatformAccount,
    worker: Worker,
    amount: Decimal,
    reason: str,
    key: str,
    by: User | None,
    assignment: Assignment | None = None,
) -> Payment:
    """Pay a bonus for `assignment` (default: the worker's latest on this account), once per `key`."""
    if assignment is not None and (
        assignment.worker_id != worker.pk or assignment.hit.outsourcer.account_id != account.pk
    ):
        raise ServiceError(f"That assignment is not {worker}'s on {account.name}.")
    assignment = assignment or (
        Assignment.objects.filter(worker=worker, hit__outsourcer__account=account)
        .select_related("hit__outsourcer")
        .order_by("-submit_time", "-pk")
        .first()
    )
    if assignment is None:
        raise ServiceError(f"{worker} has no assignment on {account.name} to pay a bonus for.")
    try:
        payment = payments.pay_bonus(
            assignment=assignment,
            amount=amount,
            reason=reason,
            key=f"{key}:{worker.pk}",
            triggered_by=audit.label(by),
        )
    except ValueError as error:
        raise ServiceError(str(error)) from error
    audit.record(by=by, action="bonus", obj=worker, amount=amount, reason=reason, payment=payment.pk)
    return payment


def worker_bonuses_sent(*, key: str, workers: QuerySet[Worker]) -> list[int]:
    """The workers among `workers` whose bonus under `key` (`worker_bonus`) is in the ledger already."""
    keys = {f"bonus:{key}:{pk}": pk for pk in workers.values_list("pk", flat=True)}
    return [keys[k] for k in Payment.objects.filter(key__in=list(keys)).values_list("key", flat=True)]
