"""Reconcile: what a crash (or a platform outage) left unfinished, and its one-click repair.

`reconcile_report(owner)` lists, per experiment (a researcher's own rows; `None`: everyone's):

- decided assignments without their decision's ledger row (approval or rejection): the decision
  and its row are written in one transaction, so any row here is a bug to look into;
- the task type's follow-ups owed and not done (`FollowUp` pending or running: an oTree payoff
  bonus, the "previous participant" qualification), and decided assignments whose task type owes
  follow-ups but have no `FollowUp` row at all;
- ledger rows not done (pending, sending, failed), with their age and error;

and, per platform account, the scores whose `synced_value` differs from `value` (the platform's
copy is behind crowdhr's).

`reconcile_repair(by=..., owner=...)` finishes them through the same paths the review cycle takes,
so nothing is paid or run twice: the missing follow-ups are owed (`followups.enqueue_all`, keyed per
assignment) and every owed one is claimed and run (`followups.run_owed`); pending and abandoned
ledger rows are settled (`payments.settle`: claimed, then paid with the row's token); the scores
are synced (`scoring.sync_qualifications`, a compare-and-set) and then checked against what the
platform shows (`scoring.repair_score_drift`). Failed ledger rows are listed, never retried here:
retrying one is a person's decision (after topping up the balance) on the Payment ledger page.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from crowdhr import audit, locks
from hits import followups, payments
from hits.models import Assignment, FollowUp, Payment
from hits.task_types import has_follow_ups
from platforms.models import PlatformAccount
from workers import scoring
from workers.models import WorkerQualification

logger = logging.getLogger(__name__)

NO_EXPERIMENT = "(no experiment)"
DECIDED = (Assignment.Decision.APPROVED, Assignment.Decision.REJECTED)


@dataclass(frozen=True)
class Line:
    """One thing left unfinished, as the report shows it."""

    what: str
    assignment_id: str
    worker_id: str
    since: datetime | None
    detail: str = ""

    @property
    def age(self) -> timedelta | None:
        return timezone.now() - self.since if self.since else None

    def __str__(self) -> str:
        age = f", {_age(self.age)} old" if self.age is not None else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.what} {self.assignment_id} ({self.worker_id}{age}){detail}"


@dataclass
class ExperimentReport:
    experiment: str
    without_ledger_row: list[Line] = field(default_factory=list)
    follow_ups: list[Line] = field(default_factory=list)
    payments: list[Line] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.without_ledger_row) + len(self.follow_ups) + len(self.payments)


@dataclass(frozen=True)
class ScoreLine:
    account: str
    worker_id: str
    qualification: str
    value: int
    synced_value: int | None

    def __str__(self) -> str:
        shown = "nothing" if self.synced_value is None else self.synced_value
        return (
            f"{self.account}: {self.worker_id} {self.qualification} is {self.value}, the platform has {shown}"
        )


@dataclass
class Report:
    experiments: list[ExperimentReport]
    scores: list[ScoreLine]

    @property
    def count(self) -> int:
        return sum(e.count for e in self.experiments) + len(self.scores)

    @property
    def clean(self) -> bool:
        return self.count == 0

    def lines(self) -> list[str]:
        """The report as text (the `reconcile` command prints this)."""
        if self.clean:
            return [
                "Nothing to reconcile: every decision has its ledger row, follow-ups and payments are done, scores are in step."
            ]
        out: list[str] = []
        for experiment in self.experiments:
            out.append(f"{experiment.experiment}:")
            for title, rows in (
                ("decided without a ledger row", experiment.without_ledger_row),
                ("follow-ups owed, not done", experiment.follow_ups),
                ("ledger rows not done", experiment.payments),
            ):
                if rows:
                    out.append(f"  {title}: {len(rows)}")
                    out.extend(f"    {row}" for row in rows)
        if self.scores:
            out.append(f"scores out of step with the platform: {len(self.scores)}")
            out.extend(f"  {row}" for row in self.scores)
        return out


@dataclass
class Repair:
    follow_ups_owed: int = 0
    follow_ups_run: int = 0
    payments_settled: int = 0
    scores_synced: int = 0
    drift_repaired: int = 0

    def __str__(self) -> str:
        return (
            f"{self.follow_ups_run} follow-ups run ({self.follow_ups_owed} newly owed), "
            f"{self.payments_settled} payments settled, {self.scores_synced} scores synced, "
            f"{self.drift_repaired} drifted scores re-sent"
        )


def _age(age: timedelta | None) -> str:
    seconds = int(age.total_seconds()) if age else 0
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _scoped(rows: QuerySet, owner: User | None, path: str) -> QuerySet:
    return rows if owner is None or owner.is_superuser else rows.filter(**{path: owner})


def _experiment(assignment: Assignment) -> str:
    experiment = assignment.hit.outsourcer.experiment
    return experiment.name if experiment else NO_EXPERIMENT


def _decided(owner: User | None) -> QuerySet[Assignment]:
    return _scoped(Assignment.objects.filter(decision__in=DECIDED), owner, "owner").select_related(
        "hit__outsourcer__experiment", "worker"
    )


def _without_ledger_row(owner: User | None) -> QuerySet[Assignment]:
    rows = Payment.objects.filter(
        assignment=OuterRef("pk"), kind__in=(Payment.Kind.APPROVAL, Payment.Kind.REJECTION)
    )
    return _decided(owner).filter(~Exists(rows))


def _without_follow_up(owner: User | None) -> list[Assignment]:
    """Decided assignments whose task type owes follow-ups but that have no FollowUp row."""
    rows = _decided(owner).filter(~Exists(FollowUp.objects.filter(assignment=OuterRef("pk"))))
    return [a for a in rows.order_by("pk") if has_follow_ups(a.hit.outsourcer.task_type)]


def _owed_follow_ups(owner: User | None) -> QuerySet[FollowUp]:
    return _scoped(
        FollowUp.objects.exclude(status=FollowUp.Status.DONE), owner, "assignment__owner"
    ).select_related("assignment__hit__outsourcer__experiment", "assignment__worker")


def _unfinished_payments(owner: User | None) -> QuerySet[Payment]:
    return _scoped(Payment.objects.exclude(status=Payment.Status.DONE), owner, "owner").select_related(
        "experiment", "assignment", "worker"
    )


def _unsynced_scores(owner: User | None) -> QuerySet[WorkerQualification]:
    rows = WorkerQualification.objects.unsynced().filter(
        account__platform__in=scoring._platforms_with_qualifications()
    )
    return _scoped(rows, owner, "account__owner").select_related("account", "worker")


def reconcile_report(owner: User | None = None) -> Report:
    """What is left unfinished, per experiment, for `owner`'s rows (everyone's with None)."""
    experiments: dict[str, ExperimentReport] = defaultdict(lambda: ExperimentReport(""))

    def of(name: str) -> ExperimentReport:
        report = experiments[name]
        report.experiment = name
        return report

    for assignment in _without_ledger_row(owner).order_by("pk"):
        of(_experiment(assignment)).without_ledger_row.append(
            Line(
                f"{assignment.decision}, no ledger row:",
                assignment.assignment_id,
                assignment.worker.worker_id,
                assignment.decision_time,
            )
        )
    for assignment in _without_follow_up(owner):
        of(_experiment(assignment)).follow_ups.append(
            Line(
                "follow-ups owed, never recorded:",
                assignment.assignment_id,
                assignment.worker.worker_id,
                assignment.decision_time,
            )
        )
    for follow_up in _owed_follow_ups(owner).order_by("created", "pk"):
        a = follow_up.assignment
        of(_experiment(a)).follow_ups.append(
            Line(
                f"follow-up {follow_up.status} (attempts {follow_up.attempts}):",
                a.assignment_id,
                a.worker.worker_id,
                follow_up.created,
                follow_up.error,
            )
        )
    for payment in _unfinished_payments(owner).order_by("created", "pk"):
        name = payment.experiment.name if payment.experiment else NO_EXPERIMENT
        of(name).payments.append(
            Line(
                f"{payment.kind} ${payment.amount} {payment.status}:",
                payment.assignment.assignment_id,
                payment.worker.worker_id,
                payment.created,
                payment.error,
            )
        )
    scores = [
        ScoreLine(
            row.account.name,
            row.worker.worker_id,
            row.get_qualification_display(),
            row.value,
            row.synced_value,
        )
        for row in _unsynced_scores(owner).order_by("account_id", "worker_id", "qualification")
    ]
    return Report(sorted(experiments.values(), key=lambda e: e.experiment), scores)


def reconcile_repair(*, by: User | None, owner: User | None = None) -> Repair:
    """Finish what the report lists for `owner`'s rows (everyone's with None), through the ledger
    and the services the review cycle uses: each piece is claimed first, so it is done once even
    when a review cycle runs at the same time. Failed payments are left to a person."""
    done = Repair()
    missing = _without_follow_up(owner)
    followups.enqueue_all(missing)
    done.follow_ups_owed = len(missing)
    done.follow_ups_run = followups.run_owed(_owed_follow_ups(owner).order_by("created", "pk"))
    stale = timezone.now() - (timedelta(0) if locks.available() else payments.SENDING_LEASE)
    waiting = _unfinished_payments(owner).filter(
        Q(status=Payment.Status.PENDING) | Q(status=Payment.Status.SENDING, claimed_at__lt=stale)
    )
    for payment in waiting.order_by("created", "pk"):
        done.payments_settled += payments.settle(payment).status == Payment.Status.DONE
    accounts = _scoped(PlatformAccount.objects.all(), owner, "owner")
    for account in accounts.filter(pk__in=_unsynced_scores(None).values("account")):
        done.scores_synced += scoring.sync_qualifications(account=account)
    for account in accounts.filter(pk__in=WorkerQualification.objects.values("account")):
        done.drift_repaired += len(scoring.repair_score_drift(account=account))
    logger.info("reconcile repaired", extra={"by": audit.label(by), "repair": str(done)})
    return done
