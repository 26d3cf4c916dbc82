"""The local Prolific's state: workspaces and their money, studies, submissions, bonuses,
participant groups, messages, hooks and injected faults.

Everything lives in these tables (never in process memory) so the twin behaves the same under
several web processes. Ids are 24 lower-case hex digits, the shape of Prolific's ids.
Money is kept in the workspace currency's minor unit (cents or pence), as Prolific reports it.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone


def new_id() -> str:
    """A fresh Prolific-style id: 24 hex digits (the shape of a MongoDB ObjectId)."""
    return secrets.token_hex(12)


class Workspace(models.Model):
    """A Prolific workspace; its API token is how requests find it."""

    CURRENCIES = ["USD", "GBP"]

    id = models.CharField(primary_key=True, max_length=24, default=new_id)
    token = models.CharField(max_length=255, unique=True)
    title = models.CharField(max_length=255, default="My workspace")
    user_id = models.CharField(max_length=24, default=new_id)
    currency_code = models.CharField(max_length=3, default="USD", choices=[(c, c) for c in CURRENCIES])
    balance = models.BigIntegerField(default=0, help_text="minor units (cents or pence)")
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.title} ({self.id})"


class Project(models.Model):
    """A project groups studies inside a workspace."""

    id = models.CharField(primary_key=True, max_length=24, default=new_id)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="projects")
    title = models.CharField(max_length=255)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.title} ({self.id})"


class LedgerEntry(models.Model):
    """One movement of a workspace balance (negative: money spent)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="ledger")
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    description = models.CharField(max_length=255)
    study_id = models.CharField(max_length=24, blank=True, default="")
    submission_id = models.CharField(max_length=24, blank=True, default="")
    bulk_bonus_id = models.CharField(max_length=24, blank=True, default="")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.amount:+} {self.description}"


class Participant(models.Model):
    """A participant of the twin's pool (created on first use, listed by the participant UI)."""

    id = models.CharField(primary_key=True, max_length=24, default=new_id)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.id


class Study(models.Model):
    """A study as the researcher created it; places are counted from its submissions."""

    UNPUBLISHED = "UNPUBLISHED"
    SCHEDULED = "SCHEDULED"
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    AWAITING_REVIEW = "AWAITING REVIEW"
    COMPLETED = "COMPLETED"
    STATUSES = [UNPUBLISHED, SCHEDULED, ACTIVE, PAUSED, AWAITING_REVIEW, COMPLETED]

    id = models.CharField(primary_key=True, max_length=24, default=new_id)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="studies")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="studies")
    name = models.CharField(max_length=255)
    internal_name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField()
    external_study_url = models.CharField(max_length=2000)
    prolific_id_option = models.CharField(max_length=32)
    completion_codes = models.JSONField(default=list, blank=True)
    total_available_places = models.PositiveIntegerField()
    estimated_completion_time = models.PositiveIntegerField(help_text="minutes")
    maximum_allowed_time = models.PositiveIntegerField(help_text="minutes")
    reward = models.PositiveIntegerField(help_text="minor units per place")
    device_compatibility = models.JSONField(default=list, blank=True)
    filters = models.JSONField(default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True, help_text="documented fields the twin stores as given")
    status = models.CharField(max_length=20, default=UNPUBLISHED, choices=[(s, s) for s in STATUSES])
    is_deleted = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(
        null=True, blank=True, help_text="set by STOP; a freed place does not reopen it"
    )

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id}, {self.status})"


class Submission(models.Model):
    """One participant's place in a study, from taking part to a decision."""

    RESERVED = "RESERVED"
    ACTIVE = "ACTIVE"
    AWAITING_REVIEW = "AWAITING REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    RETURNED = "RETURNED"
    TIMED_OUT = "TIMED-OUT"
    STATUSES = [RESERVED, ACTIVE, AWAITING_REVIEW, APPROVED, REJECTED, RETURNED, TIMED_OUT]
    # Prolific's submission object: RETURNED, REJECTED and TIMED-OUT free the study place.
    HOLDS_PLACE = [RESERVED, ACTIVE, AWAITING_REVIEW, APPROVED]

    id = models.CharField(primary_key=True, max_length=24, default=new_id)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="submissions")
    participant_id = models.CharField(max_length=24, db_index=True)
    status = models.CharField(max_length=20, default=ACTIVE, choices=[(s, s) for s in STATUSES])
    started_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    study_code = models.CharField(max_length=255, blank=True, default="")
    rejection_category = models.CharField(max_length=32, blank=True, default="")
    rejection_message = models.TextField(blank=True, default="")
    return_requested = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.id} ({self.participant_id}, {self.status})"


class BulkBonus(models.Model):
    """A bulk bonus payment set up from CSV lines; paying it (again) pays every line (again)."""

    id = models.CharField(primary_key=True, max_length=24, default=new_id)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="bulk_bonuses")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="bulk_bonuses")
    lines = models.JSONField(help_text='[{"participant_id", "submission_id", "amount"}] in minor units')
    amount = models.BigIntegerField()
    fees = models.BigIntegerField()
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"bulk bonus {self.id} ({self.amount} + {self.fees})"


class BonusPayment(models.Model):
    """One bonus actually paid to one participant (a row per line per pay call)."""

    bulk_bonus = models.ForeignKey(BulkBonus, on_delete=models.CASCADE, related_name="payments")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="bonuses")
    participant_id = models.CharField(max_length=24)
    amount = models.BigIntegerField()
    fees = models.BigIntegerField()
    pay_call = models.PositiveIntegerField(help_text="which pay call made it: 1, 2, ...")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.amount} to {self.participant_id} (pay call {self.pay_call})"


class Message(models.Model):
    """A message between a workspace's researcher and a participant, about a study."""

    id = models.CharField(primary_key=True, max_length=24, default=new_id)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="messages")
    sender_id = models.CharField(max_length=24)
    recipient_id = models.CharField(max_length=24)
    participant_id = models.CharField(max_length=24, db_index=True)
    study_id = models.CharField(max_length=24)
    body = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.sender_id} -> {self.recipient_id}: {self.body[:40]}"


class ParticipantGroup(models.Model):
    """A saved list of participant ids, usable as a study's allow or block list."""

    id = models.CharField(primary_key=True, max_length=24, default=new_id)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="participant_groups")
    project_id = models.CharField(max_length=24, blank=True, default="")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    is_deleted = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class GroupMember(models.Model):
    group = models.ForeignKey(ParticipantGroup, on_delete=models.CASCADE, related_name="members")
    participant_id = models.CharField(max_length=24)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["group", "participant_id"], name="pe_unique_member")]

    def __str__(self) -> str:
        return f"{self.participant_id} in {self.group_id}"


class HookSecret(models.Model):
    """A workspace's hook signing secret; only the newest one is active."""

    id = models.CharField(primary_key=True, max_length=24, default=new_id)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="hook_secrets")
    value = models.CharField(max_length=128)
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"secret {self.id} of {self.workspace_id}"


class HookSubscription(models.Model):
    """A target URL subscribed to one event type; it receives events once confirmed."""

    id = models.CharField(primary_key=True, max_length=24, default=new_id)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="hook_subscriptions")
    event_type = models.CharField(max_length=64)
    target_url = models.CharField(max_length=2000)
    confirmation_secret = models.CharField(max_length=128)
    is_enabled = models.BooleanField(default=False)
    is_deleted = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.target_url}"


class HookDelivery(models.Model):
    """One event for one subscription, and how delivering it went."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"

    id = models.CharField(primary_key=True, max_length=24, default=new_id)
    subscription = models.ForeignKey(HookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=24)
    body = models.TextField()
    status = models.CharField(max_length=10, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_timestamp = models.CharField(max_length=20, blank=True, default="")
    last_signature = models.CharField(max_length=128, blank=True, default="")
    last_response_status = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    next_attempt = models.DateTimeField(default=timezone.now)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.resource_id} ({self.status})"


class ScheduledFault(models.Model):
    """The next `remaining` calls of `operation` ("*": any) fail with `kind`."""

    KINDS = ["error", "unavailable", "timeout", "lose_answer"]

    operation = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=[(kind, kind) for kind in KINDS])
    remaining = models.PositiveIntegerField(default=1)
    seconds = models.FloatField(default=0, help_text="how long a timeout sleeps")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} x{self.remaining} on {self.operation}"
