"""Template tags of crowdhr's admin pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from hits.models import HIT
from hits.selectors import account_balance, account_spend, held_by_open_hits
from platforms.models import PlatformAccount

register = template.Library()


@register.simple_tag(takes_context=True)
def platform_accounts(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The researcher's platform accounts with balance (cached briefly), money spent and money held
    by open HITs. The platform takes what an open HIT may cost from the balance when it is posted,
    so balance + held + spent is what was put in (`total`, None while the balance is unknown)."""
    user = context["request"].user
    if not user.is_active or not user.is_staff:
        return []
    accounts = account_spend(PlatformAccount.objects.visible_to(user).order_by("name"))
    rows = []
    for account in accounts:
        balance = account_balance(account)
        held = held_by_open_hits(HIT.objects.filter(outsourcer__account=account)).quantize(Decimal("0.01"))
        total = None if balance.amount is None else balance.amount + held + account.spent
        rows.append(
            {"account": account, "balance": balance, "spent": account.spent, "held": held, "total": total}
        )
    return rows
