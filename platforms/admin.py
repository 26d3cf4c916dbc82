"""The researcher's platform accounts: credentials are write-only, the environment is shown as a badge."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from crowdhr.admin_tools import OwnedAdmin
from crowdhr.secrets import keep_blank_secrets
from platforms.models import PlatformAccount


def environment_badge(environment: str) -> str:
    label = {"live": "LIVE", "sandbox": "sandbox", "emulator": "local"}.get(environment, environment)
    return format_html('<span class="env-badge env-{}">{}</span>', environment, label)


# --- platform accounts --------------------------------------------------------------------------
class PlatformAccountForm(forms.ModelForm):
    class Meta:
        model = PlatformAccount
        fields = ["name", "environment", "access_key_id", "secret_access_key"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not settings.EMULATOR_ENABLED:
            self.fields["environment"].choices = [
                choice for choice in self.fields["environment"].choices if choice[0] != "emulator"
            ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        keep_blank_secrets(self, ("secret_access_key",))
        return cleaned


@admin.register(PlatformAccount)
class PlatformAccountAdmin(OwnedAdmin):
    form = PlatformAccountForm
    list_display = ["name", "where", "access_key_id", "created"]
    list_filter = ["environment"]

    @admin.display(description="site", ordering="environment")
    def where(self, account: PlatformAccount) -> str:
        return environment_badge(account.environment)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        kwargs["fields"] = PlatformAccountForm.Meta.fields
        return super().get_form(request, obj, change, **kwargs)
