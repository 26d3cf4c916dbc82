"""Template tags of crowdhr's admin pages."""

from __future__ import annotations

from typing import Any

from django import template

from hits.selectors import account_balance, account_spend
from platforms.models import PlatformAccount

register = template.Library()


@register.simple_tag(takes_context=True)
def platform_accounts(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The researcher's platform accounts with balance (cached briefly) and money spent."""
    user = context["request"].user
    if not user.is_active or not user.is_staff:
        return []
    accounts = account_spend(PlatformAccount.objects.visible_to(user).order_by("name"))
    return [
        {"account": account, "balance": account_balance(account), "spent": account.spent}
        for account in accounts
    ]
