"""Workers, their qualifications and achievements, blocks, messages, and the payment ledger."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from hits.models import OwnedQuerySet


class Worker(models.Model):
    """A person working on a crowd platform, known by the id the platform gives them."""

    platform = models.CharField(max_length=20, default="mturk")
    worker_id = models.CharField(max_length=64)
    first_seen = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [("platform", "worker_id")]

    def __str__(self) -> str:
        return self.worker_id


class Qualification(models.TextChoices):
    """The qualifications crowdhr keeps for every worker, per platform account."""

    QUALITY_SCORE = "quality_score", "Quality Score"
    APPROVAL_STREAK = "approval_streak", "Approval Streak"
    HITS_APPROVED = "hits_approved", "HITs Approved"
    EARLY_BIRD = "early_bird", "Early Bird"
    TOTAL_HITS = "total_hits", "Total HITs"


class QualificationType(models.Model):
    """The platform's qualification type for one of our qualifications on one account."""

    account = models.ForeignKey(
        "hits.PlatformAccount", on_delete=models.CASCADE, related_name="qualification_types"
    )
    qualification = models.CharField(max_length=30, choices=Qualification.choices)
    platform_id = models.CharField(max_length=64)

    class Meta:
        unique_together = [("account", "qualification")]

    def __str__(self) -> str:
        return f"{self.get_qualification_display()} on {self.account}"


class AccountOwnedQuerySet(OwnedQuerySet):
    """Rows that belong to a researcher through their platform account."""

    owner_path = "account__owner"


class WorkerQualificationQuerySet(AccountOwnedQuerySet):
    def unsynced(self) -> WorkerQualificationQuerySet:
        return self.exclude(synced_value=models.F("value"))


class WorkerQualification(models.Model):
    """A worker's score on one qualification for one account; `synced_value` is what the platform has."""

    account = models.ForeignKey(
        "hits.PlatformAccount", on_delete=models.CASCADE, related_name="worker_qualifications"
    )
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="qualifications")
    qualification = models.CharField(max_length=30, choices=Qualification.choices)
    value = models.IntegerField()
    synced_value = models.IntegerField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    objects = WorkerQualificationQuerySet.as_manager()

    class Meta:
        unique_together = [("account", "worker", "qualification")]

    def __str__(self) -> str:
        return f"{self.worker} {self.get_qualification_display()} = {self.value}"


class QualificationChange(models.Model):
    """The history of a qualification score: every change with its reason."""

    qualification = models.ForeignKey(WorkerQualification, on_delete=models.CASCADE, related_name="history")
    old_value = models.IntegerField(null=True)
    new_value = models.IntegerField()
    reason = models.CharField(max_length=255)
    assignment = models.ForeignKey("hits.Assignment", null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.old_value} -> {self.new_value}: {self.reason}"


class Achievement(models.Model):
    """A level reached on an achievement track; reaching it pays its bonus once."""

    account = models.ForeignKey("hits.PlatformAccount", on_delete=models.CASCADE, related_name="achievements")
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="achievements")
    track = models.CharField(max_length=30, choices=Qualification.choices)
    level = models.PositiveIntegerField(
        help_text="1 for the first threshold; past the last, a maxed payout number."
    )
    name = models.CharField(max_length=100)
    score = models.IntegerField(help_text="The qualification score that reached it.")
    bonus = models.OneToOneField("workers.Payment", null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True)

    objects = AccountOwnedQuerySet.as_manager()

    class Meta:
        unique_together = [("account", "worker", "track", "level")]

    def __str__(self) -> str:
        return f"{self.worker}: {self.name}"


class Block(models.Model):
    """A ban (quality score set to 0) or a hard block on the platform."""

    class Kind(models.TextChoices):
        BAN = "ban", "Ban (quality score 0)"
        HARD_BLOCK = "hard_block", "Hard block on the platform"

    account = models.ForeignKey("hits.PlatformAccount", on_delete=models.CASCADE, related_name="blocks")
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="blocks")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    lifted = models.DateTimeField(null=True, blank=True)

    objects = AccountOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.worker}"


class Message(models.Model):
    """A message sent to workers through the platform (MTurk NotifyWorkers)."""

    account = models.ForeignKey("hits.PlatformAccount", on_delete=models.CASCADE, related_name="messages")
    workers = models.ManyToManyField(Worker, related_name="messages")
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=4096)
    failed_worker_ids = models.JSONField(default=list, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent = models.DateTimeField(auto_now_add=True)

    objects = AccountOwnedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.subject


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

    account = models.ForeignKey("hits.PlatformAccount", on_delete=models.PROTECT, related_name="payments")
    experiment = models.ForeignKey(
        "experiments.Experiment", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="payments")
    assignment = models.ForeignKey("hits.Assignment", on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=200, unique=True)
    token = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    fee = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    reason = models.TextField(blank=True, help_text="What the worker reads: feedback or bonus reason.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    triggered_by = models.CharField(max_length=150, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = AccountOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} to {self.worker} ({self.status})"

    @property
    def total_cost(self) -> Decimal:
        return self.amount + self.fee
