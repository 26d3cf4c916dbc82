"""The researcher's platform accounts: credentials are write-only, the environment is shown as a badge.

The platform is chosen when an account is made (any registered platform) and read-only after;
the environments offered are the platform's own, under its labels.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from crowdhr.admin_tools import ObjectButton, ObjectButtonsAdmin, OwnedAdmin
from crowdhr.errors import Refusal
from crowdhr.secrets import keep_blank_secrets
from platforms.base import Capability, PlatformError
from platforms.models import PlatformAccount
from platforms.registry import platform_type, platform_types

#: what an admin action shows as a message instead of a traceback: refusals and platform errors
REFUSALS: tuple[type[Exception], ...] = (Refusal, PlatformError)


# --- offering only what the platform can do ----------------------------------------------------
def platform_supports(platform: str, capability: Capability | None) -> bool:
    """Can the platform with this key do it? (No capability needed: yes; unknown platform: no.)"""
    if capability is None:
        return True
    try:
        return platform_type(platform).supports(capability)
    except PlatformError:
        return False


def researcher_can(request: HttpRequest, capability: Capability | None) -> bool:
    """Does any of the researcher's accounts sit on a platform that can do it?"""
    return any(platform_supports(key, capability) for key in researcher_platforms(request))


def researcher_platforms(request: HttpRequest) -> frozenset[str]:
    """The platforms of the researcher's accounts, read once per request.

    A change list asks for its actions three times while it renders (the page, its checkbox
    column, the action menu), each action gated on these platforms: one query, not one per
    action each time.
    """
    cached = getattr(request, "_researcher_platforms", None)
    if cached is None:
        rows = PlatformAccount.objects.visible_to(request.user).values_list("platform", flat=True)
        cached = frozenset(rows.distinct())
        request._researcher_platforms = cached  # type: ignore[attr-defined]  # lives as long as the request
    return cached


_M = TypeVar("_M", bound=models.Model)


class CapabilityGatedAdmin(ObjectButtonsAdmin[_M]):
    """Offers an action or object button only where the platform can do what it needs.

    `capability_needs` maps action names (change list) and object button names to a Capability.
    An action is listed when any of the researcher's accounts can do it (each object's platform
    still refuses what it cannot do); a button is shown, and runs, only when the object's own
    platform (`platform_of`) can. Put this mixin before ObjectButtonsAdmin.
    """

    capability_needs: Mapping[str, Capability] = {}

    def platform_of(self, obj: _M) -> str:
        """The platform key the object lives on."""
        raise NotImplementedError

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        return {
            name: action
            for name, action in actions.items()
            if researcher_can(request, self.capability_needs.get(name))
        }

    def get_object_buttons(self, request: HttpRequest, obj: _M) -> list[ObjectButton]:
        buttons = super().get_object_buttons(request, obj)
        platform = self.platform_of(obj)
        return [b for b in buttons if platform_supports(platform, self.capability_needs.get(b.name))]

    def object_button_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        need = self.capability_needs.get(name)
        if need is not None:
            obj = self.get_scoped_object(request, object_id)
            if not platform_supports(self.platform_of(obj), need):
                raise PermissionDenied(f"{obj}'s platform has no {need.value}.")
        return super().object_button_view(request, object_id, name)


@functools.cache  # a handful of environments, drawn on every row of the HIT change list
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
class PlatformAccountForm(forms.ModelForm[PlatformAccount]):
    """Environment choices per platform; the model's `clean()` checks the pair."""

    class Meta:
        model = PlatformAccount
        fields = ["name", "platform", "environment", "access_key_id", "secret_access_key"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        platform = self.instance.platform if self.instance.pk else None
        environment = self.fields["environment"]
        assert isinstance(environment, forms.ChoiceField)  # the model field has choices
        environment.choices = environment_choices(platform)
        self._label_credentials(platform)
        if "platform" in self.fields:
            self.fields["platform"].required = False  # blank: the default platform

    def _label_credentials(self, platform: str | None) -> None:
        """Each platform's words for the two credential fields ("API token" on Prolific)."""
        if platform:
            key_label, secret_label = platform_type(platform).credential_labels
            self.fields["access_key_id"].label = key_label
            self.fields["secret_access_key"].label = secret_label
            return
        words = "; ".join(
            f"{kind.label}: {kind.credential_labels[0]} / {kind.credential_labels[1]}"
            for kind in platform_types()
        )
        self.fields["secret_access_key"].help_text = f"What the two credential fields hold: {words}."

    def clean_platform(self) -> str:
        return self.cleaned_data.get("platform") or PlatformAccount._meta.get_field("platform").default

    def clean(self) -> dict[str, Any]:
        super().clean()
        keep_blank_secrets(self, ("secret_access_key",))
        return self.cleaned_data


@admin.register(PlatformAccount)
class PlatformAccountAdmin(OwnedAdmin[PlatformAccount]):
    form = PlatformAccountForm
    list_display = ["name", "platform", "where", "access_key_id", "created"]
    list_filter = ["platform", "environment"]

    @admin.display(description="site", ordering="environment")
    def where(self, account: PlatformAccount) -> str:
        return environment_badge(account.environment)

    def get_readonly_fields(self, request: HttpRequest, obj: PlatformAccount | None = None) -> list[str]:
        """The platform is chosen once: its workers, HITs and money belong to it."""
        return [*super().get_readonly_fields(request, obj), *(["platform"] if obj else [])]

    def get_form(
        self, request: HttpRequest, obj: PlatformAccount | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[PlatformAccount]]:
        kwargs["fields"] = PlatformAccountForm.Meta.fields
        return super().get_form(request, obj, change, **kwargs)
