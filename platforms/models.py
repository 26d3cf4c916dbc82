"""A researcher's account on a crowd platform, with its credentials."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from crowdhr.ownership import OwnedQuerySet
from crowdhr.secrets import EncryptedTextField


class PlatformAccount(models.Model):
    """A researcher's requester account on a crowd platform, with its credentials."""

    class Environment(models.TextChoices):
        SANDBOX = "sandbox", "MTurk sandbox (no money moves)"
        LIVE = "live", "MTurk live site (real money)"
        EMULATOR = "emulator", "Local Mechanical Turk (development)"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="platform_accounts"
    )
    name = models.CharField(max_length=100)
    platform = models.CharField(max_length=20, default="mturk", editable=False)
    environment = models.CharField(max_length=20, choices=Environment.choices, default=Environment.SANDBOX)
    access_key_id = models.CharField(max_length=128, blank=True)
    secret_access_key = EncryptedTextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        unique_together = [("owner", "name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_environment_display()})"
