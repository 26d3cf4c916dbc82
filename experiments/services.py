"""Writes on experiments: oTree sites, publishing a study, its HITs, participants, bonuses, messages.

Admin actions, views and the review worker call these. Every function takes keyword arguments and
says who acted (`by`). oTree is reached only through `experiments.otree`, MTurk only through
`hits.platforms` and `hits.services`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db.models import Avg, Q
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, IntervalSchedule, PeriodicTask

from crowdhr import audit
from crowdhr.audit import User
from crowdhr.memo import Memo
from experiments.batches import batch_hit_settings, batch_publish
from experiments.models import Experiment, OtreeSite, Participant, Visit
from experiments.otree import OtreeClient, OtreeError, OtreeParticipant
from hits import payments
from hits import services as hit_services
from hits.models import HIT, Assignment, Outsourcer, Payment
from hits.services import HitSettings, ServiceError
from platforms import Capability, PlatformError, fees_for, platform_for, supports
from workers.models import Message, Worker
from workers.services import WorkerServiceError, workers_message

logger = logging.getLogger(__name__)

TASK_TYPE = "otree_study"
PUBLISH_LEASE = timedelta(minutes=5)
BONUS_CURRENCY = "USD"

__all__ = ["ServiceError"]


class OtreeUnavailable(ServiceError):
    """oTree did not answer (or refused); the message says which server and why."""


# --- oTree sites ---------------------------------------------------------------------------------
def otree_site_check(*, url: str, rest_key: str) -> str:
    """The oTree version the server at `url` runs; ServiceError in the researcher's words otherwise.

    Only http(s) addresses are asked. Every failure gets the same answer, so the check tells nobody
    whether some address inside crowdhr's network answers (a port scanner): refused, timed out, not
    oTree, wrong key are one message.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ServiceError("An oTree site's address starts with https:// (or http://) and names a server.")
    try:
        return OtreeClient(url, rest_key, timeout=5).version()
    except (OtreeError, KeyError, TypeError, ValueError) as error:
        raise ServiceError(
            f"{url} did not answer as an oTree server with this REST key. Check the address, that the "
            "server runs oTree 5 or 6, and its OTREE_REST_KEY."
        ) from error


def session_config_names(*, site: OtreeSite) -> list[tuple[str, str]]:
    """(name, display name) of every session config the site offers."""

    try:
        # A short wait: the admin form asks while the researcher waits for the page.
        configs = OtreeClient(site.url, site.rest_key or "", timeout=5).session_configs()
    except OtreeError as error:
        raise OtreeUnavailable(_otree_problem(site.url, error)) from error
    return [(c["name"], c.get("display_name") or c["name"]) for c in configs]


def _otree_problem(url: str, error: OtreeError) -> str:
    if "HTTP 401" in error.message or "HTTP 403" in error.message:
        return f"The oTree server at {url} refused the REST key (check OTREE_REST_KEY on the server)."
    if "HTTP 404" in error.message:
        return f"{url} has no oTree REST API (is it an oTree 5 or 6 server, and the address right?)."
    return f"The oTree server at {url} does not answer: {error.message}"


# --- publishing -------------------------------------------------------------------------------
def landing_url(experiment: Experiment) -> str:
    """crowdhr's landing for the study (the ExternalQuestion's address): one redirect into oTree."""
    return settings.SITE_URL + reverse("experiments:landing", args=[experiment.pk])


def done_url(experiment: Experiment) -> str:
    """Where the last oTree page sends the worker (passed to oTree as `crowdhr_done_url`)."""
    return settings.SITE_URL + reverse("experiments:done", args=[experiment.pk])


@dataclass(frozen=True)
class PublishCost:
    """What publishing (or adding participants) costs before any bonus."""

    assignments: int
    batches: list[int]
    reward: Decimal
    rewards: Decimal
    fees: Decimal
    fee_rate: Decimal = Decimal("0.20")  # the platform's commission on rewards (Prolific: 33.33%)
    bonuses: Decimal = Decimal("0.00")  # the payoffs expected, fees included (`bonus_estimate`)

    @property
    def fee_percent(self) -> str:
        """The commission as the researcher reads it: "20%", "33.33%"."""
        return f"{(self.fee_rate * 100).normalize():f}%"

    @property
    def total(self) -> Decimal:
        return self.rewards + self.fees + self.bonuses


def publish_cost(*, experiment: Experiment, assignments: int | None = None) -> PublishCost:
    """Rewards plus the platform's fees for posting `assignments` (default: what publishing posts),
    plus the oTree payoffs expected as bonuses.

    MTurk's fees reward micro-batches of at most 9; Prolific's do not depend on the size of a
    study, so it is one study with every place (`batches` is then one number).
    """
    count = experiment.assignments_wanted if assignments is None else assignments
    fees = fees_for(experiment.account)
    reward = Decimal(experiment.reward)
    per_bonus = bonus_estimate(experiment) if experiment.is_otree else Decimal("0.00")
    bonuses = (per_bonus + fees.bonus_fee(per_bonus)) * count if per_bonus else Decimal("0.00")
    return PublishCost(
        count,
        fees.batch_sizes(count),
        reward,
        reward * count,
        fees.posting_fees(reward, count),
        fees.rate,
        bonuses,
    )


def bonus_estimate(experiment: Experiment) -> Decimal:
    """The bonus expected per participant: the study's `max_payoff` session config field (in
    dollars) when the researcher states it, else the mean payoff of its participants so far."""
    stated = (experiment.session_config_fields or {}).get("max_payoff")
    if stated is not None:
        try:
            return Decimal(str(stated)).quantize(Decimal("0.01"))
        except ArithmeticError:
            return Decimal("0.00")
    mean = experiment.participants.filter(payoff__isnull=False).aggregate(mean=Avg("payoff"))["mean"]
    return Decimal(mean or 0).quantize(Decimal("0.01"))


def experiment_publish(*, experiment: Experiment, by: User | None) -> Outsourcer | list[Outsourcer]:
    """Publish a study: create its oTree session, then post its HITs in micro-batches of at most 9.

    Returns the study's Outsourcer; a batch returns one Outsourcer per item.

    Safe to repeat after a crash: a session already created is reused and HIT creation tokens
    derive from the study's Outsourcer and batch number. A study already published is refused.
    Batches of questions are published by `experiments.batches`.
    """
    if experiment.kind == Experiment.Kind.BATCH:
        published = batch_publish(experiment=experiment, by=by)
        Experiment.objects.filter(pk=experiment.pk, published_at__isnull=True).update(
            published_at=timezone.now()
        )
        audit.record(by=by, action="publish", obj=experiment, items=len(published))
        return published
    _check_publishable(experiment)
    existing = Outsourcer.objects.filter(experiment=experiment, target=experiment.outsourcer_target).first()
    if existing is not None:
        if experiment.published_at:
            raise ServiceError(f"{experiment} is published already; add participants to post more HITs.")
        return _finish_publishing(experiment, existing)
    _claim_publishing(experiment)
    try:
        _create_otree_session(experiment)
        requirements = _study_requirements(experiment)
        outsourcer = hit_services.outsourcer_create(
            owner=experiment.owner,
            account=experiment.account,
            task_type=TASK_TYPE,
            target=experiment.outsourcer_target,
            inputs={"url": landing_url(experiment)},
            task_config={"experiment_id": experiment.pk, "quality_threshold": experiment.quality_threshold},
            settings=_hit_settings(experiment, experiment.assignments_wanted, requirements),
            experiment=experiment,
            by=by,
            batch_sizes=fees_for(experiment.account).batch_sizes(experiment.assignments_wanted),
        )
    finally:
        Experiment.objects.filter(pk=experiment.pk).update(publishing_since=None)
    Experiment.objects.filter(pk=experiment.pk).update(published_at=timezone.now())
    experiment.refresh_from_db()
    logger.info("study published", extra={"experiment": experiment.pk, "by": audit.label(by)})
    audit.record(by=by, action="publish", obj=experiment, assignments=experiment.assignments_wanted)
    return outsourcer


def _finish_publishing(experiment: Experiment, outsourcer: Outsourcer) -> Outsourcer:
    """A publish that stopped half-way (MTurk refused a HIT): post the HITs still missing."""
    for hit in outsourcer.hits.filter(status__in=[HIT.Status.CREATING, HIT.Status.FAILED]):
        hit_services.hit_post(hit, quality_threshold=experiment.quality_threshold)
    if outsourcer.hits.exclude(status=HIT.Status.LIVE).exists():
        raise ServiceError(f"Some HITs of {experiment} are still not on MTurk; try again later.")
    Experiment.objects.filter(pk=experiment.pk).update(published_at=timezone.now())
    experiment.refresh_from_db()
    return outsourcer


def _check_publishable(experiment: Experiment) -> None:
    missing = [
        label
        for label, value in (
            ("an oTree site", experiment.otree_site_id),
            ("a session config", experiment.session_config_name),
            ("a number of participants", experiment.num_participants),
        )
        if not value
    ]
    if missing:
        raise ServiceError(f"{experiment} cannot be published without {', '.join(missing)}.")
    if experiment.assignments_wanted > (experiment.num_participants or 0):
        raise ServiceError(
            f"{experiment} would post {experiment.assignments_wanted} assignments for an oTree session "
            f"of {experiment.num_participants} participants."
        )


def _claim_publishing(experiment: Experiment) -> None:
    """One publish at a time per study; a publish that died holds the claim for a few minutes only."""
    now = timezone.now()
    free = Q(publishing_since__isnull=True) | Q(publishing_since__lt=now - PUBLISH_LEASE)
    if not Experiment.objects.filter(free, pk=experiment.pk).update(publishing_since=now):
        raise ServiceError(f"{experiment} is being published right now.")


def _site(experiment: Experiment) -> OtreeSite:
    """The study's oTree site; a study without one cannot reach oTree."""
    if experiment.otree_site is None:
        raise OtreeUnavailable(f"{experiment} has no oTree site.")
    return experiment.otree_site


def _create_otree_session(experiment: Experiment) -> None:
    """Create the study's oTree session once; its code and session-wide link are kept."""
    experiment.refresh_from_db()
    if experiment.otree_session_code:
        return
    fields = {**(experiment.session_config_fields or {}), "crowdhr_done_url": done_url(experiment)}
    try:
        session = (
            _site(experiment)
            .client()
            .create_session(
                experiment.session_config_name,
                experiment.num_participants,
                modified_session_config_fields=fields,
            )
        )
    except OtreeError as error:
        raise OtreeUnavailable(_otree_problem(_site(experiment).url, error)) from error
    Experiment.objects.filter(pk=experiment.pk).update(
        otree_session_code=session.code,
        otree_session_wide_url=session.session_wide_url,
        otree_admin_url=session.admin_url,
    )
    experiment.refresh_from_db()


def _study_requirements(experiment: Experiment) -> list[dict[str, Any]]:
    """The researcher's qualification requirements, plus "not a previous participant" if wanted."""
    if not supports(experiment.account, Capability.QUALIFICATIONS):
        return []  # Prolific: a participant takes part in a study once; there are no qualifications
    requirements = list(experiment.qualification_requirements or [])
    if experiment.exclude_previous_participants:
        requirements.append(
            {
                "QualificationTypeId": previous_participants_qualification(experiment),
                "Comparator": "DoesNotExist",
                "ActionsGuarded": "DiscoverPreviewAndAccept",
            }
        )
    return requirements


def previous_participants_qualification(experiment: Experiment) -> str:
    """The MTurk qualification type given to every worker who took part in the study."""
    if experiment.previous_participants_qualification_id:
        return experiment.previous_participants_qualification_id
    try:
        type_id = platform_for(experiment.account).ensure_qualification_type(
            name=f"crowdhr study {experiment.pk} participant",
            description=f"Took part in the study \u201c{experiment.title[:100]}\u201d.",
        )
    except PlatformError as error:
        raise ServiceError(f"MTurk refused the study's participant qualification: {error}") from error
    Experiment.objects.filter(pk=experiment.pk).update(previous_participants_qualification_id=type_id)
    experiment.previous_participants_qualification_id = type_id
    return type_id


def _hit_settings(
    experiment: Experiment, assignments: int, requirements: list[dict[str, Any]]
) -> HitSettings:
    """The experiment's HIT settings, for `assignments` workers each doing the whole study once."""

    return replace(
        batch_hit_settings(experiment),
        assignments_required=assignments,
        agreements_required=1,
        qualification_requirements=tuple(requirements),
    )


def study_outsourcer(experiment: Experiment) -> Outsourcer:
    outsourcer = Outsourcer.objects.filter(experiment=experiment, target=experiment.outsourcer_target).first()
    if outsourcer is None:
        raise ServiceError(f"{experiment} is not published yet.")
    return outsourcer


def experiment_add_participants(*, experiment: Experiment, count: int, by: User | None) -> list[HIT]:
    """Post `count` more assignments as new micro-batches (a HIT of 9 or fewer never grows past 9).

    The oTree session must have that many unused places: oTree cannot add participants over REST.
    """
    if count < 1:
        raise ServiceError("Add at least one participant.")
    outsourcer = study_outsourcer(experiment)
    places_used = Participant.objects.filter(experiment=experiment).count()
    places_left = (experiment.num_participants or 0) - places_used
    if count > places_left:
        raise ServiceError(
            f"The oTree session of {experiment} has {max(places_left, 0)} unused place(s) of "
            f"{experiment.num_participants}; create a new study with a larger session for more."
        )
    last = outsourcer.hits.order_by("-batch_number").first()
    hits = hit_services.hits_create(
        outsourcer=outsourcer,
        settings=_hit_settings(experiment, count, _study_requirements(experiment)),
        batch_sizes=fees_for(experiment.account).batch_sizes(count),
        first_batch=(last.batch_number + 1) if last else 1,
    )
    if not outsourcer.active:
        Outsourcer.objects.filter(pk=outsourcer.pk).update(active=True)
    HIT.objects.filter(pk__in=[hit.pk for hit in hits]).update(active=True)
    logger.info("participants added", extra={"experiment": experiment.pk, "count": count})
    audit.record(by=by, action="add participants", obj=experiment, count=count)
    return hits


def experiment_change_expiration(*, experiment: Experiment, expire_at: datetime, by: User | None) -> int:
    """Move the expiration of every live HIT of the study; returns how many HITs moved."""
    outsourcer = study_outsourcer(experiment)
    platform = platform_for(experiment.account)
    moved = 0
    now = timezone.now()
    for hit in outsourcer.hits.filter(status=HIT.Status.LIVE):
        try:
            platform.update_expiration(hit.hit_id, expire_at)
        except PlatformError as error:
            raise ServiceError(f"MTurk refused to move HIT {hit.hit_id}: {error}") from error
        HIT.objects.filter(pk=hit.pk).update(expiration=expire_at, expired=expire_at <= now)
        moved += 1
    audit.record(by=by, action="change expiration", obj=experiment, expire_at=expire_at, hits=moved)
    return moved


def experiment_expire(*, experiment: Experiment, by: User | None) -> int:
    """No new worker can accept the experiment's HITs; submitted work is still reviewed."""
    outsourcers = Outsourcer.objects.filter(experiment=experiment).select_related("account")
    expired = sum(hit_services.expire_live_hits(outsourcer) for outsourcer in outsourcers)
    audit.record(by=by, action="expire", obj=experiment, hits=expired)
    return expired


# --- the worker's way (which browser holds which place: experiments.places) ------------------------
class WrongHit(ServiceError):
    """The HIT is not one of the study's."""


#: how long a process trusts the list of a study's HITs (a HIT never changes study or duration;
#: a HIT posted since is looked up on its own)
STUDY_HITS_SECONDS = 60
_STUDY_HITS: Memo[dict[str, int]] = Memo(STUDY_HITS_SECONDS, size=1024)


def study_hit_duration(experiment: Experiment, hit_id: str) -> int | None:
    """The assignment duration (seconds) of `hit_id` when it is one of the study's HITs, else None.

    Each process reads all the study's HITs at once (a burst of first landings spreads over every
    HIT of a batch) and keeps them; a HIT it does not know yet is read on its own."""
    durations = _STUDY_HITS.get_or_make(experiment.pk, lambda: _hit_durations(experiment))
    if durations is not None and hit_id in durations:
        return durations[hit_id]
    return _hit_durations(experiment, hit_id).get(hit_id)


def _hit_durations(experiment: Experiment, hit_id: str | None = None) -> dict[str, int]:
    hits = HIT.objects.filter(outsourcer__experiment=experiment).exclude(hit_id="")
    if hit_id is not None:
        hits = hits.filter(hit_id=hit_id)
    return {
        found: duration or experiment.duration_seconds
        for found, duration in hits.values_list("hit_id", "duration_seconds")
    }


def visit_record_screen(*, participant: Participant, screen: str) -> bool:
    """The screen resolution a worker page's script reported, on the place's latest visit."""
    latest = Visit.objects.filter(participant=participant).order_by("-landed_at", "-pk").values("pk")[:1]
    return bool(Visit.objects.filter(pk__in=latest, screen="").update(screen=screen[:30]))


def otree_link(experiment: Experiment, participant: Participant) -> str:
    """The session-wide link with the worker's label: oTree puts them back in the same place."""

    separator = "&" if "?" in experiment.otree_session_wide_url else "?"
    return experiment.otree_session_wide_url + separator + urlencode({"participant_label": participant.label})


@dataclass(frozen=True)
class Completion:
    """How a participant hands finished work back on a platform whose studies have one completion
    code (Prolific): the browser goes to `url`, which carries `code`."""

    code: str
    url: str


COMPLETION_CACHE_SECONDS = 3600


def study_completion(experiment: Experiment, hit_id: str) -> Completion | None:
    """The completion of the study `hit_id` (one platform call, then cached); None on a platform
    whose workers submit with crowdhr's own per-assignment code (MTurk)."""
    if not supports(experiment.account, Capability.COMPLETION_URL):
        return None  # MTurk: no platform call on its done pages
    key = f"crowdhr-completion:{experiment.account_id}:{hit_id}"
    found = cache.get(key)
    if found is None:
        platform = platform_for(experiment.account)
        try:
            hit = platform.get_hit(hit_id)
        except PlatformError as error:
            raise ServiceError(f"The platform does not say how to complete {hit_id}: {error}") from error
        found = (hit.completion_code, platform.completion_url(hit))
        cache.set(key, found, COMPLETION_CACHE_SECONDS)
    code, url = found
    return Completion(code, url) if url else None


def participant_confirm_finished(*, participant: Participant) -> bool:
    """Ask oTree whether the worker finished; record the completion time when they did."""
    experiment = participant.experiment
    try:
        found = _site(experiment).client().participant(experiment.otree_session_code, participant.label)
    except OtreeError as error:
        raise OtreeUnavailable(_otree_problem(_site(experiment).url, error)) from error
    if found is None or not found.finished:
        return False
    Participant.objects.filter(pk=participant.pk, completed_at__isnull=True).update(
        completed_at=timezone.now()
    )
    return True


def participant_record_submit(*, participant: Participant) -> None:
    Participant.objects.filter(pk=participant.pk, submitted_at__isnull=True).update(
        submitted_at=timezone.now()
    )


def participant_exclude(
    *, experiment: Experiment, worker_id: str, reason: str, by: User | None
) -> Participant:
    """The worker is told to return the study's HITs from now on; nothing more is recorded for them."""
    participant, _ = Participant.objects.get_or_create(experiment=experiment, worker_id=worker_id)
    Participant.objects.filter(pk=participant.pk).update(
        excluded=True, excluded_reason=(reason or f"excluded ({audit.label(by)})")[:255]
    )
    participant.refresh_from_db()
    audit.record(by=by, action="exclude worker", obj=experiment, worker=worker_id, reason=reason)
    return participant


# --- results, review and bonuses ------------------------------------------------------------------
@dataclass
class StudyResults:
    """The study's participants as oTree reports them, by label (= worker id)."""

    participants: dict[str, OtreeParticipant] = field(default_factory=dict)
    currency: str = BONUS_CURRENCY


def study_results(*, experiment: Experiment) -> StudyResults:
    """One REST call: every participant of the study's session."""
    try:
        session = _site(experiment).client().get_session(experiment.otree_session_code)
    except OtreeError as error:
        raise OtreeUnavailable(_otree_problem(_site(experiment).url, error)) from error
    participants = [OtreeParticipant.from_api(item) for item in session.get("participants", [])]
    return StudyResults(
        participants={p.label: p for p in participants if p.label},
        currency=str(session.get("REAL_WORLD_CURRENCY_CODE") or BONUS_CURRENCY),
    )


def bonus_key(experiment: Experiment, worker_id: str) -> str:
    """One bonus per worker and study, ever (the payment ledger's key)."""
    return f"otree-payoff:{experiment.pk}:{worker_id}"


def participant_after_decision(
    *,
    experiment: Experiment,
    assignment: Assignment,
    otree_participant: OtreeParticipant | None,
    currency: str,
    pay_bonus: bool,
) -> Payment | None:
    """After review decided an assignment: the worker took part (qualification), and their payoff."""
    worker_id = assignment.worker.worker_id
    participant, _ = Participant.objects.get_or_create(experiment=experiment, worker_id=worker_id)
    updates: dict[str, Any] = {}
    if participant.submitted_at is None:
        updates["submitted_at"] = assignment.submit_time or timezone.now()
    if otree_participant is not None:
        updates["payoff"] = otree_participant.payoff
    if updates:
        Participant.objects.filter(pk=participant.pk).update(**updates)
    mark_previous_participant(experiment=experiment, worker_id=worker_id)
    if not pay_bonus or otree_participant is None:
        return None
    return _pay_payoff(experiment, assignment, otree_participant.payoff, currency, label="completion review")


def mark_previous_participant(*, experiment: Experiment, worker_id: str) -> None:
    """Give the worker the study's participant qualification (so they cannot accept its HITs again).

    A temporary failure is raised: the decision's follow-up (`hits.followups`) is then tried again.
    """
    if not experiment.exclude_previous_participants or not supports(
        experiment.account, Capability.QUALIFICATIONS
    ):
        return
    try:
        type_id = previous_participants_qualification(experiment)
        platform_for(experiment.account).set_qualification_score(type_id, worker_id, 1)
    except (PlatformError, ServiceError) as error:
        logger.warning("participant qualification not set", extra={"worker": worker_id, "error": str(error)})
        if isinstance(error, PlatformError) and not error.permanent:
            raise


def _pay_payoff(
    experiment: Experiment, assignment: Assignment, amount: Decimal, currency: str, *, label: str
) -> Payment | None:
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if amount <= 0:
        return None
    if currency != BONUS_CURRENCY:
        logger.warning("payoff not in USD", extra={"experiment": experiment.pk, "currency": currency})
        return None
    return payments.pay_bonus(
        assignment=assignment,
        amount=amount,
        reason=f"Your earnings in \u201c{experiment.title}\u201d: ${amount}. Thank you for taking part!",
        key=bonus_key(experiment, assignment.worker.worker_id),
        triggered_by=label,
    )


@dataclass(frozen=True)
class BonusDue:
    """One worker's payoff, for the researcher to check before paying."""

    worker_id: str
    assignment: Assignment
    amount: Decimal
    already_paid: bool

    @property
    def fee(self) -> Decimal:
        return fees_for(self.assignment.hit.outsourcer.account).bonus_fee(self.amount)


def bonuses_due(*, experiment: Experiment) -> tuple[list[BonusDue], str]:
    """Per approved worker: the payoff oTree shows and whether it was paid; with the session's currency."""
    results = study_results(experiment=experiment)
    approved = (
        Assignment.objects.filter(
            hit__outsourcer__experiment=experiment, decision=Assignment.Decision.APPROVED
        )
        .select_related("worker", "hit__outsourcer")
        .order_by("worker__worker_id", "submit_time")
    )
    paid = set(
        Payment.objects.filter(experiment=experiment, kind=Payment.Kind.BONUS)
        .exclude(status=Payment.Status.FAILED)
        .values_list("key", flat=True)
    )
    due: dict[str, BonusDue] = {}
    for assignment in approved:
        worker_id = assignment.worker.worker_id
        found = results.participants.get(worker_id)
        if worker_id in due or found is None or found.payoff <= 0:
            continue
        key = f"bonus:{bonus_key(experiment, worker_id)}"
        due[worker_id] = BonusDue(worker_id, assignment, found.payoff.quantize(Decimal("0.01")), key in paid)
    return list(due.values()), results.currency


def experiment_pay_bonuses(*, experiment: Experiment, by: User | None) -> list[Payment]:
    """Pay every approved worker's payoff not paid yet (each once, ever)."""
    due, currency = bonuses_due(experiment=experiment)
    if currency != BONUS_CURRENCY:
        raise ServiceError(f"The oTree session pays in {currency}; crowdhr pays bonuses in USD only.")
    paid = []
    for bonus in due:
        if bonus.already_paid:
            continue
        payment = _pay_payoff(experiment, bonus.assignment, bonus.amount, currency, label=audit.label(by))
        if payment is not None:
            paid.append(payment)
    audit.record(by=by, action="pay bonuses", obj=experiment, bonuses=len(paid))
    return paid


def bonuses_paid(*, experiment: Experiment):
    """Who was paid a bonus in this study, when and how much (the ledger rows)."""
    return (
        Payment.objects.filter(experiment=experiment, kind=Payment.Kind.BONUS)
        .select_related("worker", "assignment")
        .order_by("worker__worker_id", "created")
    )


# --- messages ----------------------------------------------------------------------------------
def study_workers(experiment: Experiment) -> list[Worker]:
    """Every worker who took part in the study (landed, or submitted an assignment), not excluded."""
    worker_ids = set(
        Participant.objects.filter(experiment=experiment, excluded=False).values_list("worker_id", flat=True)
    ) | set(
        Assignment.objects.filter(hit__outsourcer__experiment=experiment).values_list(
            "worker__worker_id", flat=True
        )
    )
    platform = experiment.account.platform
    Worker.objects.bulk_create(
        [Worker(platform=platform, worker_id=w) for w in worker_ids], ignore_conflicts=True
    )
    return list(Worker.objects.filter(platform=platform, worker_id__in=worker_ids).order_by("worker_id"))


def experiment_message_workers(
    *, experiment: Experiment, subject: str, body: str, by: User | None
) -> list[Message]:
    """Send one message (MTurk NotifyWorkers) to every worker who took part in the study."""

    workers = study_workers(experiment)
    if not workers:
        raise ServiceError(f"Nobody has taken part in {experiment} yet.")
    try:
        return workers_message(account=experiment.account, workers=workers, subject=subject, body=body, by=by)
    except (WorkerServiceError, PlatformError) as error:
        raise ServiceError(str(error)) from error


# --- scheduled publishing (django-celery-beat) ---------------------------------------------------
PUBLISH_TASK = "experiments.tasks.publish_experiment_on_schedule"


def experiment_publish_on_schedule(*, experiment: Experiment, by: User | None) -> Experiment:
    """One run of a scheduled publish; returns the Experiment that was published.

    The first run publishes the experiment. A repeating schedule's later runs publish a new round:
    - an oTree study gets a new Experiment ("<name>, round 2", ...) with the same settings, hence a
      new oTree session and new HITs (earlier rounds keep theirs; when previous participants are
      excluded, the same qualification keeps them out of every round);
    - a batch posts every item again as new Outsourcers (a forced import: the previous round's open
      Outsourcers are closed, their HITs expired and their unreviewed assignments approved).
    """
    if not experiment.published_at:
        experiment_publish(experiment=experiment, by=by)
        return experiment
    if experiment.kind == Experiment.Kind.BATCH:
        posted = batch_publish(experiment=experiment, by=by, forced=True)
        audit.record(by=by, action="publish again", obj=experiment, items=len(posted))
        return experiment
    new_round = experiment_new_round(experiment=experiment, by=by)
    experiment_publish(experiment=new_round, by=by)
    return new_round


def experiment_new_round(*, experiment: Experiment, by: User | None) -> Experiment:
    """A copy of an oTree study, not published yet, named "<name>, round <n>"."""
    base = experiment.name.split(", round ")[0]
    rounds = Experiment.objects.filter(owner=experiment.owner, name__startswith=f"{base}, round ").count()
    copy = Experiment.objects.get(pk=experiment.pk)
    copy.pk = None
    copy._state.adding = True
    copy.name = f"{base}, round {rounds + 2}"
    copy.otree_session_code = copy.otree_session_wide_url = copy.otree_admin_url = ""
    copy.published_at = copy.publishing_since = None
    copy.in_progress_count = copy.in_progress_counted_at = None  # the old round's workers, not this one's
    copy.save()
    audit.record(by=by, action="new round", obj=copy, of=experiment.pk)
    return copy


def publish_schedules(user) -> list[PeriodicTask]:
    """The researcher's scheduled publishes (the beat tasks that publish their Experiments)."""
    mine = set(Experiment.objects.visible_to(user).values_list("pk", flat=True))
    tasks = PeriodicTask.objects.filter(task=PUBLISH_TASK).select_related("clocked", "interval")
    return [t for t in tasks if json.loads(t.kwargs or "{}").get("experiment_id") in mine]


def experiment_schedule_publish(
    *, experiment: Experiment, when: datetime, repeat_every_hours: int | None, by: User
) -> PeriodicTask:
    """Create the beat task that publishes `experiment` at `when` (and repeats, if asked)."""
    kwargs = json.dumps({"experiment_id": experiment.pk, "user_id": by.pk})
    audit.record(
        by=by, action="schedule publish", obj=experiment, when=when, repeat_every_hours=repeat_every_hours
    )
    name = f"Publish {experiment.name} (#{experiment.pk}) at {when:%Y-%m-%d %H:%M}"
    if repeat_every_hours:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=repeat_every_hours, period=IntervalSchedule.HOURS
        )
        return PeriodicTask.objects.create(
            name=f"{name}, every {repeat_every_hours} h",
            task=PUBLISH_TASK,
            kwargs=kwargs,
            interval=interval,
            start_time=when,
        )
    clocked, _ = ClockedSchedule.objects.get_or_create(clocked_time=when)
    return PeriodicTask.objects.create(
        name=name, task=PUBLISH_TASK, kwargs=kwargs, clocked=clocked, one_off=True
    )


def publish_schedule_cancel(*, by: User, task_id: str) -> PeriodicTask | None:
    """Cancel one of the researcher's scheduled publishes; None when it is not theirs (or gone)."""
    task = next((t for t in publish_schedules(by) if str(t.pk) == task_id), None)
    if task is None:
        return None
    experiment = Experiment.objects.filter(pk=json.loads(task.kwargs or "{}").get("experiment_id")).first()
    task.delete()
    if experiment is not None:
        audit.record(by=by, action="cancel scheduled publish", obj=experiment, schedule=task.name)
    return task
