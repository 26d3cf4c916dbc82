"""A researcher's account on a crowd platform, with its credentials."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from crowdhr.ownership import OwnedQuerySet
from crowdhr.secrets import EncryptedTextField
from platforms.base import Capability, PlatformError
from platforms.registry import PlatformType, platform_choices, platform_type


class PlatformAccount(models.Model):
    """A researcher's requester account on a crowd platform, with its credentials.

    The platform (a registry key) is chosen when the account is made and never changes; each
    platform offers some of the environments below, under its own labels.
    """

    class Environment(models.TextChoices):
        """Where an account works, in any platform's terms."""

        SANDBOX = "sandbox", "Test site (no money moves)"
        LIVE = "live", "Live site (real money)"
        EMULATOR = "emulator", "Local twin (development)"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="platform_accounts"
    )
    name = models.CharField(max_length=100)
    platform = models.CharField(max_length=20, choices=platform_choices, default="mturk")
    environment = models.CharField(max_length=20, choices=Environment.choices, default=Environment.SANDBOX)
    access_key_id = models.CharField(max_length=128, blank=True)
    secret_access_key = EncryptedTextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        unique_together = [("owner", "name")]

    def __str__(self) -> str:
        where = self.get_environment_display()
        name, label = self.name.casefold(), where.casefold()
        if name in label or label in name:  # named after its environment: say it once
            return max(self.name, where, key=len)
        return f"{self.name} ({where})"

    @property
    def platform_type(self) -> PlatformType:
        """The registered platform (a permanent PlatformError when it is not registered)."""
        return platform_type(self.platform)

    def supports(self, capability: Capability) -> bool:
        try:
            return self.platform_type.supports(capability)
        except PlatformError:
            return False

    # replaces the display Django derives from the choices: the platform names its environments
    def get_environment_display(self) -> str:  # type: ignore[no-redef]
        """The environment in the platform's words ("MTurk sandbox (no money moves)")."""
        try:
            return self.platform_type.environment(self.environment).label
        except PlatformError:
            return self.Environment(self.environment).label if self.environment in self.Environment else ""

    def clean(self) -> None:
        """The platform must be registered and offer the account's environment."""
        super().clean()
        try:
            self.platform_type.environment(self.environment)
        except PlatformError as error:
            raise ValidationError({"environment": error.message}) from error
