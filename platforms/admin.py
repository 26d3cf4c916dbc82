"""The researcher's platform accounts: credentials are write-only, the environment is shown as a badge.

The platform is chosen when an account is made (any registered platform) and read-only after;
the environments offered are the platform's own, under its labels.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from crowdhr.admin_tools import OwnedAdmin
from crowdhr.errors import Refusal
from crowdhr.secrets import keep_blank_secrets
from platforms.base import PlatformError
from platforms.models import PlatformAccount
from platforms.registry import platform_type, platform_types

#: what an admin action shows as a message instead of a traceback: refusals and platform errors
REFUSALS: tuple[type[Exception], ...] = (Refusal, PlatformError)


def environment_badge(environment: str) -> str:
    label = {"live": "LIVE", "sandbox": "sandbox", "emulator": "local"}.get(environment, environment)
    return format_html('<span class="env-badge env-{}">{}</span>', environment, label)


def environment_choices(platform: str | None) -> list[tuple[str, Any]]:
    """The environments of one platform, or of every platform grouped by platform (a new account).

    Local twins are offered only where the installation enables them.
    """
    local = settings.EMULATOR_ENABLED
    if platform:
        return platform_type(platform).environment_choices(include_local=local)
    return [(kind.label, kind.environment_choices(include_local=local)) for kind in platform_types()]


# --- platform accounts --------------------------------------------------------------------------
class PlatformAccountForm(forms.ModelForm):
    """Environment choices per platform; the model's `clean()` checks the pair."""

    class Meta:
        model = PlatformAccount
        fields = ["name", "platform", "environment", "access_key_id", "secret_access_key"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        platform = self.instance.platform if self.instance.pk else None
        self.fields["environment"].choices = environment_choices(platform)
        if "platform" in self.fields:
            self.fields["platform"].required = False  # blank: the default platform

    def clean_platform(self) -> str:
        return self.cleaned_data.get("platform") or PlatformAccount._meta.get_field("platform").default

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        keep_blank_secrets(self, ("secret_access_key",))
        return cleaned


@admin.register(PlatformAccount)
class PlatformAccountAdmin(OwnedAdmin):
    form = PlatformAccountForm
    list_display = ["name", "platform", "where", "access_key_id", "created"]
    list_filter = ["platform", "environment"]

    @admin.display(description="site", ordering="environment")
    def where(self, account: PlatformAccount) -> str:
        return environment_badge(account.environment)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """The platform is chosen once: its workers, HITs and money belong to it."""
        return [*super().get_readonly_fields(request, obj), *(["platform"] if obj else [])]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        kwargs["fields"] = PlatformAccountForm.Meta.fields
        return super().get_form(request, obj, change, **kwargs)
