"""The local Mechanical Turk's state: requester accounts, HITs, assignments, money, qualifications.

Everything lives in these tables (never in process memory) so the emulator behaves the same
under several web processes and on SQLite or PostgreSQL. Ids follow MTurk's shapes: entity ids
are upper-case letters and digits, worker ids start with "A".
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime
from decimal import Decimal

from django.db import models
from django.utils import timezone

STARTING_BALANCE = Decimal("10000.00")
_ID_ALPHABET = string.ascii_uppercase + string.digits


def new_entity_id(length: int = 30) -> str:
    """A fresh MTurk-style id (HIT, HIT type, assignment, qualification type)."""
    return "3" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length - 1))


def new_worker_id() -> str:
    """A fresh MTurk-style worker id ("A" followed by letters and digits)."""
    return "A" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(13))


class Account(models.Model):
    """One requester, identified by the access key id its requests are signed with.

    Accounts are created explicitly (`mturk_emulator.accounts.create_requester`, or
    `manage.py emulator_requester`); a request signed with any other key is refused. The secret is
    kept as given (this is a local test twin) so SigV4 signatures can be recomputed, and it is
    never shown or answered back. A sandbox account never spends: its balance stays $10,000.00,
    as on MTurk's sandbox; a live account spends.
    """

    access_key_id = models.CharField(max_length=128, unique=True)
    secret_access_key = models.CharField(max_length=128, blank=True, default="")
    sandbox = models.BooleanField(default=True)
    balance = models.DecimalField(max_digits=14, decimal_places=2, default=STARTING_BALANCE)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        where = "sandbox" if self.sandbox else "live"
        return f"{self.access_key_id} ({where}, ${self.balance})"


class LedgerEntry(models.Model):
    """One movement of a requester's balance: a charge (negative) or a refund (positive)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="ledger")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    balance_after = models.DecimalField(max_digits=14, decimal_places=2)
    description = models.CharField(max_length=255)
    hit_id = models.CharField(max_length=64, blank=True, default="")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"{self.amount:+} {self.description}"


class SimulatedWorker(models.Model):
    """A worker of the emulator's marketplace, with the properties system qualifications read."""

    worker_id = models.CharField(max_length=64, unique=True)
    country = models.CharField(max_length=2, default="US")
    subdivision = models.CharField(max_length=2, blank=True, default="")
    is_adult = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.worker_id


class HITType(models.Model):
    """A group of HITs sharing reward, duration, auto-approval delay and requirements."""

    hit_type_id = models.CharField(max_length=64, unique=True, default=new_entity_id)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="hit_types")
    fingerprint = models.CharField(max_length=64, db_index=True)
    title = models.CharField(max_length=255)
    description = models.TextField()
    keywords = models.TextField(blank=True, default="")
    reward = models.DecimalField(max_digits=10, decimal_places=2)
    assignment_duration = models.PositiveIntegerField()
    auto_approval_delay = models.PositiveIntegerField()
    qualification_requirements = models.JSONField(default=list, blank=True)
    notification = models.JSONField(null=True, blank=True)
    notification_active = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.hit_type_id} {self.title}"


class HIT(models.Model):
    """A HIT as the requester posted it; its status is derived (see `lifecycle.hit_status`)."""

    hit_id = models.CharField(max_length=64, unique=True, default=new_entity_id)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="hits")
    hit_type = models.ForeignKey(HITType, on_delete=models.PROTECT, related_name="hits")
    title = models.CharField(max_length=255)
    description = models.TextField()
    keywords = models.TextField(blank=True, default="")
    reward = models.DecimalField(max_digits=10, decimal_places=2)
    fee_per_assignment = models.DecimalField(max_digits=10, decimal_places=2)
    assignment_duration = models.PositiveIntegerField()
    auto_approval_delay = models.PositiveIntegerField()
    qualification_requirements = models.JSONField(default=list, blank=True)
    max_assignments = models.PositiveIntegerField()
    created_with_assignments = models.PositiveIntegerField()
    question = models.TextField(blank=True, default="")
    question_kind = models.CharField(max_length=32, blank=True, default="")
    external_url = models.CharField(max_length=2000, blank=True, default="")
    frame_height = models.PositiveIntegerField(default=0)
    html_content = models.TextField(blank=True, default="")
    hit_layout_id = models.CharField(max_length=64, blank=True, default="")
    hit_layout_parameters = models.JSONField(default=list, blank=True)
    assignment_review_policy = models.JSONField(null=True, blank=True)
    hit_review_policy = models.JSONField(null=True, blank=True)
    requester_annotation = models.TextField(blank=True, default="")
    created = models.DateTimeField(default=timezone.now)
    expiration = models.DateTimeField()
    review_status = models.CharField(max_length=32, default="NotReviewed")
    reviewing = models.BooleanField(default=False)
    disposed = models.BooleanField(default=False)
    refunded_slots = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "HIT"
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.hit_id} {self.title}"

    @property
    def cost_per_assignment(self) -> Decimal:
        """What one assignment costs the requester: reward plus MTurk's fee."""
        return self.reward + self.fee_per_assignment

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expiration <= (now or timezone.now())


class Assignment(models.Model):
    """One worker's go at a HIT, from accept to a decision (or a return / abandonment)."""

    ACCEPTED = "Accepted"
    SUBMITTED = "Submitted"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    RETURNED = "Returned"
    ABANDONED = "Abandoned"
    STATUSES = [ACCEPTED, SUBMITTED, APPROVED, REJECTED, RETURNED, ABANDONED]
    HOLDING_A_SLOT = [ACCEPTED, SUBMITTED, APPROVED, REJECTED]
    VISIBLE_TO_REQUESTER = [SUBMITTED, APPROVED, REJECTED]

    assignment_id = models.CharField(max_length=64, unique=True, default=new_entity_id)
    hit = models.ForeignKey(HIT, on_delete=models.CASCADE, related_name="assignments")
    worker_id = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=16, choices=[(s, s) for s in STATUSES], default=ACCEPTED)
    accept_time = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField()
    submit_time = models.DateTimeField(null=True, blank=True)
    auto_approval_time = models.DateTimeField(null=True, blank=True)
    approval_time = models.DateTimeField(null=True, blank=True)
    rejection_time = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(blank=True, default="")
    requester_feedback = models.TextField(blank=True, default="")
    refunded = models.BooleanField(default=False)

    class Meta:
        ordering = ["accept_time", "id"]

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.worker_id} {self.status}"


class BonusPayment(models.Model):
    """A bonus a requester paid a worker for one assignment."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="bonuses")
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="bonuses")
    worker_id = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    reason = models.TextField()
    grant_time = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["grant_time", "id"]

    def __str__(self) -> str:
        return f"${self.amount} to {self.worker_id}"


class QualificationType(models.Model):
    """A qualification a requester defined; workers hold scores of it."""

    qualification_type_id = models.CharField(max_length=64, unique=True, default=new_entity_id)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="qualification_types")
    name = models.CharField(max_length=255)
    description = models.TextField()
    keywords = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, default="Active")
    retry_delay = models.PositiveIntegerField(null=True, blank=True)
    test = models.TextField(blank=True, default="")
    answer_key = models.TextField(blank=True, default="")
    test_duration = models.PositiveIntegerField(null=True, blank=True)
    auto_granted = models.BooleanField(default=False)
    auto_granted_value = models.IntegerField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    @property
    def is_requestable(self) -> bool:
        """Can a worker ask for it? Only a type with a way in: auto-granted, a test, or a retry delay
        (the requester reviews requests). One with none of these the requester grants by hand only
        (e.g. to mark who took part before); the worker site offers no Request button for it."""
        return self.auto_granted or bool(self.test) or self.retry_delay is not None


class Qualification(models.Model):
    """A worker's score of one qualification type."""

    GRANTED = "Granted"
    REVOKED = "Revoked"

    qualification_type = models.ForeignKey(QualificationType, on_delete=models.CASCADE, related_name="scores")
    worker_id = models.CharField(max_length=64, db_index=True)
    integer_value = models.IntegerField(default=1)
    status = models.CharField(max_length=16, default=GRANTED)
    grant_time = models.DateTimeField(default=timezone.now)
    revoked_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["qualification_type", "worker_id"], name="one_score_per_worker")
        ]

    def __str__(self) -> str:
        return f"{self.worker_id}: {self.qualification_type} = {self.integer_value} ({self.status})"


class QualificationRequest(models.Model):
    """A worker asking a requester for a qualification."""

    PENDING = "Pending"
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"

    request_id = models.CharField(max_length=64, unique=True, default=new_entity_id)
    qualification_type = models.ForeignKey(
        QualificationType, on_delete=models.CASCADE, related_name="requests"
    )
    worker_id = models.CharField(max_length=64)
    test = models.TextField(blank=True, default="")
    answer = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, default=PENDING)
    submit_time = models.DateTimeField(default=timezone.now)
    decided_time = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.worker_id} asks for {self.qualification_type} ({self.status})"


class WorkerBlock(models.Model):
    """A requester's block of one worker: the worker cannot accept that requester's HITs."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="blocks")
    worker_id = models.CharField(max_length=64)
    reason = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "worker_id"], name="one_block_per_worker")]

    def __str__(self) -> str:
        return f"{self.worker_id} blocked by {self.account.access_key_id}"


class WorkerMessage(models.Model):
    """A message a requester sent with NotifyWorkers, shown in the worker's inbox."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="messages")
    worker_id = models.CharField(max_length=64, db_index=True)
    subject = models.CharField(max_length=200)
    message = models.TextField()
    sent = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent", "-id"]

    def __str__(self) -> str:
        return f"to {self.worker_id}: {self.subject}"


class RequestToken(models.Model):
    """A UniqueRequestToken already used, remembered for 24 hours with what it produced."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="request_tokens")
    purpose = models.CharField(max_length=64)
    token = models.CharField(max_length=64)
    result = models.CharField(max_length=64, blank=True, default="")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "purpose", "token"], name="one_use_per_token")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.token}"


class FaultSettings(models.Model):
    """The random faults the requester API injects (one row), shared by every process."""

    throttle = models.FloatField(default=0)
    unavailable = models.FloatField(default=0)
    fault = models.FloatField(default=0)
    lose_answer = models.FloatField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    operations = models.JSONField(default=list, blank=True)
    seed = models.IntegerField(null=True, blank=True)
    calls = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "fault settings"

    def __str__(self) -> str:
        return (
            f"throttle {self.throttle}, unavailable {self.unavailable}, fault {self.fault}, "
            f"lose_answer {self.lose_answer}, latency {self.latency_ms} ms"
        )


class ScheduledFault(models.Model):
    """A deterministic fault: fail the next `remaining` calls of `operation` ("*" for any)."""

    KINDS = ["throttle", "unavailable", "fault", "lose_answer"]

    operation = models.CharField(max_length=64, default="*")
    kind = models.CharField(max_length=16, choices=[(kind, kind) for kind in KINDS])
    remaining = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on the next {self.remaining} {self.operation} call(s)"
