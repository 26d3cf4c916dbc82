"""The "Set up hooks" button on a platform account (Prolific): the platform then tells crowdhr at once
when a submission or a study changes, and review runs for it (see `experiments.hooks`).

The platform account's page belongs to `platforms.admin`, which may not import experiments (where
hooks are received and their secret kept), so this module extends that admin with the button and
registers the extended admin in its place.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import reverse

from crowdhr.admin_tools import ObjectButtonsAdmin, Summary, object_button
from crowdhr.audit import User
from crowdhr.errors import Refusal
from experiments.hooks import hooks_set_up
from experiments.models import PlatformHooks
from platforms import Capability
from platforms.admin import CapabilityGatedAdmin, PlatformAccountAdmin
from platforms.models import PlatformAccount


def hook_target_url(account: PlatformAccount) -> str:
    """Where the platform delivers the account's hooks: crowdhr's endpoint for that account."""
    return settings.SITE_URL + reverse("hooks:prolific", args=[account.pk])


def hooks_summary(modeladmin: admin.ModelAdmin, request: HttpRequest, account: PlatformAccount) -> Summary:
    existing = PlatformHooks.objects.filter(account=account).first()
    return Summary(
        title=f"Set up hooks for {account}",
        count=1,
        noun="platform account",
        lines=[
            f"{account.get_platform_display()} will deliver changes of submissions and studies to "
            f"{hook_target_url(account)}, signed with the workspace's hook secret.",
            "Review then runs for a study as soon as a participant completes it.",
        ],
        warning=(
            f"Hooks are set up already (to {existing.target_url}); setting up again keeps what is in place."
            if existing
            else ""
        ),
    )


class PlatformAccountHooksAdmin(CapabilityGatedAdmin, ObjectButtonsAdmin, PlatformAccountAdmin):
    object_buttons = ["set_up_hooks"]
    capability_needs = {"set_up_hooks": Capability.HOOKS}

    def platform_of(self, obj: Any) -> str:
        return obj.platform

    @object_button(label="Set up hooks", summarize=hooks_summary)
    def set_up_hooks(self, request: HttpRequest, account: PlatformAccount, data: dict[str, Any]) -> None:
        try:
            hooks = hooks_set_up(
                account=account, target_url=hook_target_url(account), by=cast(User, request.user)
            )
        except Refusal as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return
        self.message_user(request, f"Hooks set up: the platform delivers to {hooks.target_url}.")


admin.site.unregister(PlatformAccount)
admin.site.register(PlatformAccount, PlatformAccountHooksAdmin)
