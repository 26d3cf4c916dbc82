"""Workers (one identity per platform), their qualifications, achievements, blocks and messages.

Nothing here knows of HITs: a score changes for a reason given as text by the layer above."""

from __future__ import annotations

from typing import Self

from django.conf import settings
from django.db import models

from crowdhr.ownership import AccountOwnedQuerySet


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
        "platforms.PlatformAccount", on_delete=models.CASCADE, related_name="qualification_types"
    )
    qualification = models.CharField(max_length=30, choices=Qualification.choices)
    platform_id = models.CharField(max_length=64)

    class Meta:
        unique_together = [("account", "qualification")]

    def __str__(self) -> str:
        return f"{self.get_qualification_display()} on {self.account}"


class WorkerQualificationQuerySet(AccountOwnedQuerySet["WorkerQualification"]):
    def unsynced(self) -> Self:
        return self.exclude(synced_value=models.F("value"))


class WorkerQualification(models.Model):
    """A worker's score on one qualification for one account; `synced_value` is what the platform has."""

    account = models.ForeignKey(
        "platforms.PlatformAccount", on_delete=models.CASCADE, related_name="worker_qualifications"
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
    reference = models.CharField(
        max_length=100, blank=True, help_text="What caused the change, e.g. the decided assignment."
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.old_value} -> {self.new_value}: {self.reason}"


class Achievement(models.Model):
    """A level reached on an achievement track; reaching it pays its bonus once."""

    account = models.ForeignKey(
        "platforms.PlatformAccount", on_delete=models.CASCADE, related_name="achievements"
    )
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="achievements")
    track = models.CharField(max_length=30, choices=Qualification.choices)
    level = models.PositiveIntegerField(
        help_text="1 for the first threshold; past the last, a maxed payout number."
    )
    name = models.CharField(max_length=100)
    score = models.IntegerField(help_text="The qualification score that reached it.")
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

    account = models.ForeignKey("platforms.PlatformAccount", on_delete=models.CASCADE, related_name="blocks")
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="blocks")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    lifted = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(
        null=True, blank=True, help_text="A ban ends by itself then: the Quality Score's retry delay."
    )
    platform_synced = models.BooleanField(
        default=True,
        help_text="The platform keeps the worker out as this row says (a ban on a platform without "
        "qualifications is a block there; False until it is made, or lifted, on the platform).",
    )

    objects = AccountOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.worker}"


class Message(models.Model):
    """A message sent to workers through the platform (MTurk NotifyWorkers)."""

    account = models.ForeignKey(
        "platforms.PlatformAccount", on_delete=models.CASCADE, related_name="messages"
    )
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
