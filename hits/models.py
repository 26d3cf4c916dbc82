"""Outsourced work: Outsourcers, their HITs, every assignment reported, and the payment ledger."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Self, TypeVar

from django.conf import settings
from django.db import models

from crowdhr.ownership import OwnedQuerySet
from platforms.models import PlatformAccount

_M = TypeVar("_M", bound=models.Model)


class RejectionPolicy(models.TextChoices):
    """What a rejection does on the platform. crowdhr's own judgement (the Quality Score, the
    streak) is the same either way: the score weeds out bad workers, so by default rejected work
    is still approved and paid on the platform, because a platform rejection costs the worker
    their approval rate there."""

    PAY_ANYWAY = "pay", "Pay anyway and lower the Quality Score"
    REJECT = "reject", "Reject on the platform (the worker is not paid)"


class Outsourcer(models.Model):
    """One unit of outsourced work: one item to be answered, or one study's recruitment.

    Active while it waits for an answer; deactivated once it has served its purpose (kept for
    history, never reopened); flagged `needs_review` with a `problem` when a person must decide.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="outsourcers")
    account = models.ForeignKey(PlatformAccount, on_delete=models.PROTECT, related_name="outsourcers")
    experiment = models.ForeignKey(
        "experiments.Experiment", null=True, blank=True, on_delete=models.PROTECT, related_name="outsourcers"
    )
    target = models.CharField(
        max_length=255, db_index=True, help_text="What this work is for; only one open Outsourcer per target."
    )
    task_type = models.CharField(max_length=50)
    task_config = models.JSONField(default=dict, blank=True, help_text="The task type's settings.")
    inputs = models.JSONField(default=dict, blank=True, help_text="The item the workers look at.")
    active = models.BooleanField(default=True)
    needs_review = models.BooleanField(default=False)
    problem = models.TextField(blank=True)
    on_rejection = models.CharField(
        max_length=10,
        choices=RejectionPolicy.choices,
        default=RejectionPolicy.PAY_ANYWAY,
        help_text="What rejecting an assignment does on the platform.",
    )
    answer = models.JSONField(null=True, blank=True, help_text="The agreed (or entered) answer.")
    answer_source = models.CharField(max_length=100, blank=True)
    agreements = models.PositiveIntegerField(
        null=True, blank=True, help_text="Workers who agreed on the answer."
    )
    last_updated = models.DateTimeField(null=True, blank=True, help_text="Last time this saved data.")
    created = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["active", "needs_review"])]

    def __str__(self) -> str:
        return self.target

    @property
    def state(self) -> str:
        if not self.active:
            return "deactivated"
        return "needs review" if self.needs_review else "active"


class OwnerFilledQuerySet(OwnedQuerySet[_M]):
    """Rows carrying their researcher's id (`owner`, copied from the row they belong to) so a
    change list is scoped by an indexed column instead of a join. `bulk_create` fills in a missing
    owner from the parent (one query), and records who worked for whom (`WorkerOwner`)."""

    #: the foreign key the owner is copied from, and that row's owner lookup
    owner_from = ("", "owner_id")

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        rows = list(objs)
        parent, lookup = self.owner_from
        missing = {getattr(row, f"{parent}_id") for row in rows if getattr(row, "owner_id", None) is None}
        if missing:
            model = self.model._meta.get_field(parent).related_model
            owners = dict(model._default_manager.filter(pk__in=missing).values_list("pk", lookup))  # type: ignore[union-attr]
            for row in rows:
                if getattr(row, "owner_id", None) is None:
                    row.owner_id = owners[getattr(row, f"{parent}_id")]  # type: ignore[attr-defined]
        created = super().bulk_create(rows, *args, **kwargs)
        if self.model is Assignment and rows:
            record_workers(rows)  # type: ignore[arg-type]
        return created


class HITQuerySet(OwnerFilledQuerySet["HIT"]):
    owner_from = ("outsourcer", "owner_id")

    def to_review(self) -> Self:
        """HITs the review worker looks at: live, still active (late answers to an Outsourcer that
        has its answer are judged too), and their Outsourcer not waiting for a person."""
        return self.filter(active=True, status=HIT.Status.LIVE, outsourcer__needs_review=False)


class HIT(models.Model):
    """A HIT on the platform, posted for an Outsourcer."""

    class Status(models.TextChoices):
        CREATING = "creating", "Being created"
        LIVE = "live", "On the platform"
        FAILED = "failed", "Creation failed"

    outsourcer = models.ForeignKey(Outsourcer, on_delete=models.PROTECT, related_name="hits")
    #: the Outsourcer's owner, copied so change lists filter on an indexed column (set on save)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    hit_id = models.CharField(max_length=64, blank=True, db_index=True)
    hit_type_id = models.CharField(max_length=64, blank=True)
    environment = models.CharField(max_length=20, choices=PlatformAccount.Environment.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATING)
    creation_token = models.CharField(max_length=64, unique=True)
    creation_error = models.TextField(blank=True)
    batch_number = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True, help_text="Reviewed by the review worker.")
    expired = models.BooleanField(default=False, help_text="Paused: no new workers can accept.")
    assignments_required = models.PositiveIntegerField(default=3, help_text="Workers asked per round.")
    agreements_required = models.PositiveIntegerField(default=2)
    max_assignments = models.PositiveIntegerField(
        default=0, help_text="Assignments on the platform, all rounds."
    )
    num_new_assignments = models.PositiveIntegerField(default=0, help_text="Submitted since the last reopen.")
    reopen_count = models.PositiveIntegerField(default=0)
    last_reopen_time = models.DateTimeField(null=True, blank=True)
    create_date = models.DateTimeField(auto_now_add=True)
    modify_date = models.DateTimeField(auto_now=True)
    last_updated = models.DateTimeField(null=True, blank=True, help_text="Last time the review saw news.")
    comments = models.TextField(blank=True, help_text="Comments from workers.")
    title = models.CharField(max_length=128)
    description = models.TextField(max_length=2000)
    keywords = models.CharField(max_length=1000, blank=True)
    reward = models.DecimalField(max_digits=8, decimal_places=2)
    duration_seconds = models.PositiveIntegerField(default=3600)
    lifetime_seconds = models.PositiveIntegerField(default=7 * 24 * 3600)
    auto_approval_delay_seconds = models.PositiveIntegerField(default=3 * 24 * 3600)
    qualification_requirements = models.JSONField(default=list, blank=True)
    question = models.TextField()
    expiration = models.DateTimeField(null=True, blank=True)
    review_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    assignments_seen = models.PositiveIntegerField(default=0, help_text="Submitted assignments stored.")
    #: what the review last saw of the HIT on the platform ("status available pending completed",
    #: `hits.review.news`); counts that differ are news, so only then are assignments listed
    platform_counts = models.CharField(max_length=80, blank=True, editable=False)

    objects = HITQuerySet.as_manager()

    class Meta:
        verbose_name = "HIT"
        indexes = [models.Index(fields=["active", "status"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.hit_id or 'not posted'})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.owner_id is None:
            self.owner_id = self.outsourcer.owner_id
        super().save(*args, **kwargs)

    @property
    def needs_review(self) -> bool:
        return self.outsourcer.needs_review


class AssignmentQuerySet(OwnerFilledQuerySet["Assignment"]):
    owner_from = ("hit", "owner_id")

    def undecided(self) -> Self:
        return self.filter(
            decision=Assignment.Decision.UNDECIDED, platform_status=Assignment.PlatformStatus.SUBMITTED
        )


class Assignment(models.Model):
    """One worker's work on a HIT, stored as the platform reported it before anything is decided."""

    class PlatformStatus(models.TextChoices):
        SUBMITTED = "Submitted"
        APPROVED = "Approved"
        REJECTED = "Rejected"

    class Decision(models.TextChoices):
        UNDECIDED = "undecided", "Undecided"
        APPROVING = "approving", "Being approved"
        REJECTING = "rejecting", "Being rejected"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    hit = models.ForeignKey(HIT, on_delete=models.PROTECT, related_name="assignments")
    #: the HIT's owner, copied so change lists filter on an indexed column (set on save)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    assignment_id = models.CharField(max_length=64, unique=True)
    worker = models.ForeignKey("workers.Worker", on_delete=models.PROTECT, related_name="assignments")
    platform_status = models.CharField(max_length=20, choices=PlatformStatus.choices)
    answers = models.JSONField(default=dict, blank=True)
    answer_xml = models.TextField(blank=True)
    confused = models.BooleanField(default=False)
    comments = models.TextField(blank=True)
    accept_time = models.DateTimeField(null=True, blank=True)
    submit_time = models.DateTimeField(null=True, blank=True)
    auto_approval_time = models.DateTimeField(null=True, blank=True)
    after_last_reopen = models.BooleanField(
        default=True, help_text="Arrived after the HIT was last reopened."
    )
    decision = models.CharField(max_length=20, choices=Decision.choices, default=Decision.UNDECIDED)
    decided_by = models.CharField(max_length=150, blank=True, help_text="consensus, completion, or a person.")
    decision_time = models.DateTimeField(null=True, blank=True)
    paid_despite_rejection = models.BooleanField(
        default=False,
        help_text="Rejected by crowdhr (Quality Score lowered) but approved and paid on the platform.",
    )
    feedback = models.TextField(blank=True, help_text="The message the worker sees with the decision.")
    problem = models.TextField(blank=True, help_text="Why a person must decide this assignment.")
    first_seen = models.DateTimeField(auto_now_add=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["hit", "decision"])]

    def __str__(self) -> str:
        return self.assignment_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        adding = self._state.adding
        if self.owner_id is None:
            self.owner_id = self.hit.owner_id
        super().save(*args, **kwargs)
        if adding:
            record_workers([self])

    @property
    def work_seconds(self) -> float | None:
        if self.accept_time and self.submit_time:
            return (self.submit_time - self.accept_time).total_seconds()
        return None


class Progress(models.Model):
    """Long admin work running in Celery (publishing hundreds, approving thousands)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="progress")
    description = models.CharField(max_length=255)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "progress"
        ordering = ["-started"]

    def __str__(self) -> str:
        return f"{self.description}: {self.done}/{self.total}"


class PaymentQuerySet(OwnerFilledQuerySet["Payment"]):
    owner_from = ("account", "owner_id")


class Payment(models.Model):
    """The ledger: every approval, rejection and bonus, written before the platform is called.

    `key` says what the payment is for (one payment per key, ever); `token` is the
    UniqueRequestToken the platform call carries, so a repeated call never pays twice.
    """

    class Kind(models.TextChoices):
        APPROVAL = "approval", "Approval (reward)"
        REJECTION = "rejection", "Rejection"
        BONUS = "bonus", "Bonus"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    account = models.ForeignKey(
        "platforms.PlatformAccount", on_delete=models.PROTECT, related_name="payments"
    )
    #: the account's owner, copied so change lists filter on an indexed column (set on save)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    experiment = models.ForeignKey(
        "experiments.Experiment", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    worker = models.ForeignKey("workers.Worker", on_delete=models.PROTECT, related_name="payments")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=200, unique=True)
    token = models.CharField(max_length=64, unique=True)
    #: a two-step bonus's id on the platform (Prolific's bulk bonus), recorded BEFORE paying it
    platform_reference = models.CharField(max_length=100, blank=True)
    #: when the last pay call of a two-step bonus went out (written before the call is made)
    pay_sent_at = models.DateTimeField(null=True, blank=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    fee = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    reason = models.TextField(blank=True, help_text="What the worker reads: feedback or bonus reason.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    triggered_by = models.CharField(max_length=150, blank=True)
    achievement = models.OneToOneField(
        "workers.Achievement", null=True, blank=True, on_delete=models.PROTECT, related_name="bonus"
    )
    created = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} to {self.worker} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.owner_id is None:
            self.owner_id = self.account.owner_id
        super().save(*args, **kwargs)

    @property
    def total_cost(self) -> Decimal:
        return self.amount + self.fee


class FollowUp(models.Model):
    """The outbox of a decision's consequences: the task type's follow-ups (an oTree payoff bonus,
    the "previous participant" qualification), written in the transaction that records the
    decision's success and finished by whichever process comes next (`hits.followups`)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="follow_ups")
    key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    #: a follow-up that failed waits until then, so one that keeps failing cannot crash-loop
    not_before = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class WorkerOwner(models.Model):
    """Who worked for whom: a researcher's Worker change list lists these workers (an indexed
    lookup instead of a search through every assignment). Written where assignments are stored."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    worker = models.ForeignKey("workers.Worker", on_delete=models.CASCADE, related_name="owners")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "worker"], name="hits_workerowner_unique")]

    def __str__(self) -> str:
        return f"{self.worker_id} worked for {self.owner_id}"


def record_workers(assignments: Iterable[Assignment]) -> None:
    """Record that the assignments' workers worked for the assignments' owners (once each)."""
    pairs = {(a.owner_id, a.worker_id) for a in assignments}
    WorkerOwner.objects.bulk_create(
        [WorkerOwner(owner_id=o, worker_id=w) for o, w in sorted(pairs)], ignore_conflicts=True
    )
