"""Reads that need care: the platform account's balance (cached), spend, and annotated HIT lists.

The admin reads through these; the balance is the only platform call made while rendering a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from hits.models import HIT, Assignment, Payment
from platforms import PlatformError, platform_for
from platforms.fees import assignment_cost
from platforms.models import PlatformAccount

BALANCE_CACHE_SECONDS = 60
MONEY = DecimalField(max_digits=12, decimal_places=2)
ZERO = Value(Decimal("0.00"), output_field=MONEY)


@dataclass(frozen=True)
class Balance:
    """An account's available balance, or why it could not be read."""

    amount: Decimal | None
    error: str = ""


def account_balance(account: PlatformAccount) -> Balance:
    """The account's available balance, asked of the platform at most once a minute."""
    key = f"crowdhr:balance:{account.pk}:{account.environment}:{account.access_key_id}"
    cached = cache.get(key)
    if cached is not None:
        return Balance(Decimal(cached))
    try:
        amount = platform_for(account).account_balance()
    except (PlatformError, ImproperlyConfigured) as error:
        return Balance(None, str(error))
    cache.set(key, str(amount), BALANCE_CACHE_SECONDS)
    return Balance(amount)


def account_spend(accounts: QuerySet[PlatformAccount]) -> QuerySet[PlatformAccount]:
    """Accounts annotated with `spent`: rewards, bonuses and fees paid (done ledger rows)."""

    paid = (
        Payment.objects.filter(account=OuterRef("pk"), status=Payment.Status.DONE)
        .order_by()
        .values("account")
        .annotate(total=Sum(F("amount") + F("fee"), output_field=MONEY))
        .values("total")
    )
    return accounts.annotate(spent=Coalesce(Subquery(paid, output_field=MONEY), ZERO))


def hits_with_progress(hits: QuerySet[HIT]) -> QuerySet[HIT]:
    """HITs annotated with `assignments_done` (decided) and `money_spent` (done ledger rows, fees in).

    Subqueries, not joins: one query for a whole change list page, whatever its size.
    """

    decided = (
        Assignment.objects.filter(
            hit=OuterRef("pk"), decision__in=[Assignment.Decision.APPROVED, Assignment.Decision.REJECTED]
        )
        .order_by()
        .values("hit")
        .annotate(n=Count("pk"))
        .values("n")
    )
    spent = (
        Payment.objects.filter(assignment__hit=OuterRef("pk"), status=Payment.Status.DONE)
        .order_by()
        .values("assignment__hit")
        .annotate(total=Sum(F("amount") + F("fee"), output_field=MONEY))
        .values("total")
    )
    return hits.annotate(
        assignments_done=Coalesce(Subquery(decided), Value(0)),
        money_spent=Coalesce(Subquery(spent, output_field=MONEY), ZERO),
    )


def undecided_count(hits: QuerySet[HIT]) -> int:
    return Assignment.objects.undecided().filter(hit__in=hits).count()


def undecided_cost(hits: QuerySet[HIT]) -> Decimal:
    """What approving every undecided assignment of these HITs costs, fees included."""

    total = Decimal("0.00")
    rows = (
        Assignment.objects.undecided()
        .filter(hit__in=hits)
        .values("hit__reward", "hit__max_assignments", "hit__assignments_required")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        size = row["hit__max_assignments"] or row["hit__assignments_required"]
        total += assignment_cost(row["hit__reward"], size) * row["n"]
    return total


def hit_worker_site_url(hit: HIT) -> str:
    """Where the HIT can be seen on the platform's worker site ('' when not posted)."""
    if not hit.hit_id:
        return ""
    try:
        platform = platform_for(hit.outsourcer.account)
    except ImproperlyConfigured:
        return ""
    return platform.worker_site_url(SimpleNamespace(hit_id=hit.hit_id, hit_type_id=hit.hit_type_id))
