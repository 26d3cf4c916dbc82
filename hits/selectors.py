"""Reads that need care: the platform account's balance (cached), spend, and annotated HIT lists.

The admin reads through these; the balance is the only platform call made while rendering a page.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import ngettext

from hits.models import HIT, Assignment, Payment, RejectionPolicy
from platforms import PlatformError, platform_for, platform_type
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


def undecided_cost(hits: QuerySet[HIT], *, assignments: QuerySet[Assignment] | None = None) -> Decimal:
    """What approving every undecided assignment of these HITs (or of `assignments`) costs, fees included."""

    total = Decimal("0.00")
    chosen = Assignment.objects.filter(hit__in=hits) if assignments is None else assignments
    rows = (
        chosen.undecided()
        .values(
            "hit__outsourcer__account__platform",
            "hit__reward",
            "hit__max_assignments",
            "hit__assignments_required",
        )
        .annotate(n=Count("pk"))
    )
    for row in rows:
        fees = platform_type(row["hit__outsourcer__account__platform"]).fees
        size = row["hit__max_assignments"] or row["hit__assignments_required"]
        total += fees.assignment_cost(row["hit__reward"], size) * row["n"]
    return total


@dataclass(frozen=True)
class RejectionEffect:
    """What rejecting some undecided assignments does, under each Outsourcer's rejection policy."""

    paid_anyway: int
    rejected_on_platform: int
    money: Decimal

    @property
    def lines(self) -> list[str]:
        lines = []
        if self.paid_anyway:
            lines.append(
                ngettext(
                    "On rejection, pay anyway: %(n)d worker is still paid on the platform; only "
                    "their Quality Score drops.",
                    "On rejection, pay anyway: %(n)d workers are still paid on the platform; only "
                    "their Quality Score drops.",
                    self.paid_anyway,
                )
                % {"n": self.paid_anyway}
            )
        if self.rejected_on_platform:
            lines.append(
                ngettext(
                    "On rejection, reject on the platform: %(n)d worker is not paid.",
                    "On rejection, reject on the platform: %(n)d workers are not paid.",
                    self.rejected_on_platform,
                )
                % {"n": self.rejected_on_platform}
            )
        return lines

    @property
    def warning(self) -> str:
        if not self.rejected_on_platform:
            return ""
        return "Rejections on the platform lower the workers' approval rates there."


def rejection_effect(assignments: QuerySet[Assignment]) -> RejectionEffect:
    """Who rejecting these (undecided) assignments still pays, and what it costs, fees included."""
    undecided = assignments.undecided()
    paying = undecided.filter(hit__outsourcer__on_rejection=RejectionPolicy.PAY_ANYWAY)
    paid = paying.count()
    return RejectionEffect(
        paid_anyway=paid,
        rejected_on_platform=undecided.count() - paid,
        money=undecided_cost(HIT.objects.none(), assignments=paying) if paid else Decimal("0.00"),
    )


@dataclass(frozen=True)
class HourlyWage:
    """What an experiment's workers earn per hour: reward plus bonuses per assignment over the
    median work time (accept to submit)."""

    assignments: int
    pay_per_assignment: Decimal
    median_seconds: float | None
    floor: Decimal

    @property
    def per_hour(self) -> Decimal | None:
        if not self.median_seconds:
            return None
        hourly = self.pay_per_assignment * Decimal(3600) / Decimal(str(self.median_seconds))
        return hourly.quantize(Decimal("0.01"))

    @property
    def below_floor(self) -> bool:
        return self.per_hour is not None and self.per_hour < self.floor

    def __str__(self) -> str:
        if self.per_hour is None:
            return "Effective hourly wage: not known until work has been submitted."
        text = ngettext(
            "Effective hourly wage: $%(wage)s/h ($%(pay)s per assignment over a median of %(minutes)s "
            "minutes; %(n)d assignment).",
            "Effective hourly wage: $%(wage)s/h ($%(pay)s per assignment over a median of %(minutes)s "
            "minutes; %(n)d assignments).",
            self.assignments,
        ) % {
            "wage": self.per_hour,
            "pay": self.pay_per_assignment.quantize(Decimal("0.01")),
            "minutes": f"{(self.median_seconds or 0) / 60:.1f}",
            "n": self.assignments,
        }
        if self.below_floor:
            text += f" Below the floor of ${self.floor}/h: consider a higher reward or bonus."
        return text


def hourly_wage(*, experiment_id: int, floor: Decimal | None = None) -> HourlyWage:
    """The effective hourly wage of an experiment's submitted work so far."""
    floor = Decimal(settings.MINIMUM_HOURLY_WAGE) if floor is None else floor
    timed = Assignment.objects.filter(
        hit__outsourcer__experiment_id=experiment_id, accept_time__isnull=False, submit_time__isnull=False
    )
    rows = list(timed.values_list("accept_time", "submit_time", "hit__reward"))
    if not rows:
        return HourlyWage(0, Decimal("0.00"), None, floor)
    bonuses = Payment.objects.filter(
        assignment__hit__outsourcer__experiment_id=experiment_id, kind=Payment.Kind.BONUS
    ).exclude(status=Payment.Status.FAILED).aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    rewards = sum((reward for _, _, reward in rows), Decimal("0.00"))
    median = statistics.median(
        (submit - accept).total_seconds() for accept, submit, _ in rows if accept and submit
    )
    return HourlyWage(len(rows), (rewards + bonuses) / len(rows), median, floor)


def hit_worker_site_url(hit: HIT) -> str:
    """Where the HIT can be seen on the platform's worker site ('' when not posted)."""
    if not hit.hit_id:
        return ""
    try:
        platform = platform_for(hit.outsourcer.account)
    except ImproperlyConfigured:
        return ""
    return platform.worker_site_url(SimpleNamespace(hit_id=hit.hit_id, hit_type_id=hit.hit_type_id))
