"""Experiments: what a researcher publishes (an oTree study, or a batch of small questions)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from hits.models import OwnedQuerySet


class Experiment(models.Model):
    """A researcher's study or batch, with the HIT settings its HITs are posted with."""

    class Kind(models.TextChoices):
        OTREE = "otree", "oTree study"
        BATCH = "batch", "Batch of questions"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="experiments")
    account = models.ForeignKey("hits.PlatformAccount", on_delete=models.PROTECT, related_name="experiments")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.BATCH)
    task_type = models.CharField(max_length=50, blank=True, help_text="How answers are judged (batches).")
    task_config = models.JSONField(default=dict, blank=True)
    # HIT settings
    title = models.CharField(max_length=128)
    description = models.TextField(max_length=2000)
    keywords = models.CharField(max_length=1000, blank=True)
    reward = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.50"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    duration_seconds = models.PositiveIntegerField(default=3600, validators=[MinValueValidator(30)])
    lifetime_seconds = models.PositiveIntegerField(
        default=7 * 24 * 3600, validators=[MinValueValidator(30), MaxValueValidator(365 * 24 * 3600)]
    )
    auto_approval_delay_seconds = models.PositiveIntegerField(default=3 * 24 * 3600)
    assignments_required = models.PositiveIntegerField(default=3, help_text="Workers per item.")
    agreements_required = models.PositiveIntegerField(default=2, help_text="Workers who must agree.")
    qualification_requirements = models.JSONField(default=list, blank=True)
    quality_threshold = models.IntegerField(
        default=0, help_text="Workers need a Quality Score above this to take the HITs (a ban sets 0)."
    )
    items_file = models.FileField(
        upload_to="batches/", blank=True, help_text="Batches: a CSV file, one item per row, columns as placeholders."
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name
