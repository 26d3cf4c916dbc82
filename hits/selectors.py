"""Reads that need care: the platform account's balance (cached), spend, and annotated HIT lists.

The admin reads through these; the balance is the only platform call made while rendering a page.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, DecimalField, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import ngettext
from django_stubs_ext import WithAnnotations

from hits.models import HIT, Assignment, AssignmentQuerySet, Outsourcer, Payment, RejectionPolicy
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


class Spent(TypedDict):
    spent: Decimal


class Progressed(TypedDict):
    assignments_done: int
    money_spent: Decimal


def account_spend(
    accounts: QuerySet[PlatformAccount],
) -> QuerySet[WithAnnotations[PlatformAccount, Spent]]:
    """Accounts annotated with `spent`: rewards, bonuses and fees paid (done ledger rows)."""

    paid = (
        Payment.objects.filter(account=OuterRef("pk"), status=Payment.Status.DONE)
        .order_by()
        .values("account")
        .annotate(total=Sum(F("amount") + F("fee"), output_field=MONEY))
        .values("total")
    )
    return accounts.annotate(spent=Coalesce(Subquery(paid, output_field=MONEY), ZERO))


def hits_with_progress(hits: QuerySet[HIT]) -> QuerySet[WithAnnotations[HIT, Progressed]]:
    """HITs annotated with `assignments_done` (decided) and `money_spent` (done ledger rows, fees in).

    Subqueries, not joins: one query for a whole change list page, whatever its size. Money spent
    counts only done rows inside the sum, so the ledger is reached only through each HIT's
    assignments: with the status in WHERE, PostgreSQL without statistics (fresh rows, before
    ANALYZE) walks every done payment for each HIT by the status index.
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
        Payment.objects.filter(assignment__hit=OuterRef("pk"))
        .order_by()
        .values("assignment__hit")
        .annotate(total=Sum(F("amount") + F("fee"), output_field=MONEY, filter=Q(status=Payment.Status.DONE)))
        .values("total")
    )
    return hits.annotate(
        assignments_done=Coalesce(Subquery(decided), Value(0)),
        money_spent=Coalesce(Subquery(spent, output_field=MONEY), ZERO),
    )


def undecided_count(hits: QuerySet[HIT]) -> int:
    return Assignment.objects.undecided().filter(hit__in=hits).count()


def undecided_cost(hits: QuerySet[HIT], *, assignments: AssignmentQuerySet | None = None) -> Decimal:
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


def rejection_effect(assignments: AssignmentQuerySet) -> RejectionEffect:
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
    return platform.worker_site_url(hit)


def held_by_open_hits(hits: QuerySet[HIT]) -> Decimal:
    """What the open HITs among `hits` may still cost, fees included: every undecided submitted
    assignment, and every place not taken yet on a HIT still taking workers.

    With the account's balance and what was spent, it is where the money stands: spent + held +
    what is left free = what was put in.
    """
    total = Decimal("0.00")
    open_hits = (
        hits.filter(status=HIT.Status.LIVE, outsourcer__active=True)
        .annotate(
            known=Count("assignments"),
            undecided=Count("assignments", filter=Q(assignments__decision=Assignment.Decision.UNDECIDED)),
        )
        .values_list(
            "outsourcer__account__platform", "reward", "max_assignments", "expired", "known", "undecided"
        )
    )
    for platform, reward, size, expired, known, undecided in open_hits:
        places = undecided + (0 if expired else max(size - known, 0))
        total += platform_type(platform).fees.assignment_cost(reward, size) * places
    return total


@dataclass(frozen=True)
class ExperimentProgress:
    """How an experiment's work stands, as MTurk's "Batches in progress" shows a batch."""

    items: int
    hits: int
    published: int
    accepted: int
    submitted: int
    approved: int
    rejected: int
    flagged: int
    bonuses_paid: int
    bonus_money: Decimal
    spent: Decimal
    held: Decimal
    started: datetime | None
    last_submit: datetime | None
    wage: HourlyWage

    @property
    def remaining(self) -> int:
        """Places still open or waiting for a decision."""
        return max(self.published - self.approved - self.rejected, 0)

    @property
    def percent_done(self) -> int:
        return round(100 * (self.approved + self.rejected) / self.published) if self.published else 0

    @property
    def elapsed(self) -> timedelta | None:
        if self.started is None:
            return None
        end = self.last_submit if not self.remaining and self.last_submit else timezone.now()
        return end - self.started

    @property
    def time_to_completion(self) -> str:
        """The time it took, or an estimate of the time left at the pace so far."""
        if self.started is None:
            return "not published yet"
        if not self.remaining:
            return f"completed in {_duration(self.elapsed)}"
        if not self.submitted or self.elapsed is None:
            return "no work submitted yet, so no estimate"
        left = self.elapsed * (self.remaining / self.submitted)
        return f"about {_duration(left)} more at the pace so far ({_duration(self.elapsed)} elapsed)"


def _cents(amount: Decimal | None) -> Decimal:
    return Decimal(amount or 0).quantize(Decimal("0.01"))


def _duration(span: timedelta | None) -> str:
    seconds = int(span.total_seconds()) if span else 0
    if seconds < 3600:
        return f"{max(seconds // 60, 1)} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def experiment_progress(*, experiment_id: int) -> ExperimentProgress:
    """Counts, money and pace of one experiment's work, in a handful of queries."""
    hits = HIT.objects.filter(outsourcer__experiment_id=experiment_id)
    assignments = Assignment.objects.filter(hit__outsourcer__experiment_id=experiment_id)
    posted = hits.filter(status=HIT.Status.LIVE).aggregate(
        n=Count("pk"), places=Sum("max_assignments"), started=Min("create_date")
    )
    counts = assignments.aggregate(
        accepted=Count("pk"),
        submitted=Count("pk", filter=Q(submit_time__isnull=False)),
        approved=Count("pk", filter=Q(decision=Assignment.Decision.APPROVED)),
        rejected=Count("pk", filter=Q(decision=Assignment.Decision.REJECTED)),
        problems=Count("pk", filter=Q(decision=Assignment.Decision.UNDECIDED) & ~Q(problem="")),
        last_submit=Max("submit_time"),
    )
    payments = Payment.objects.filter(experiment_id=experiment_id, status=Payment.Status.DONE)
    paid = payments.aggregate(spent=Sum(F("amount") + F("fee"), output_field=MONEY))
    bonuses = payments.filter(kind=Payment.Kind.BONUS).aggregate(n=Count("pk"), amount=Sum("amount"))
    flagged = Outsourcer.objects.filter(experiment_id=experiment_id, needs_review=True)
    return ExperimentProgress(
        items=hits.values("outsourcer").distinct().count(),
        hits=posted["n"],
        published=posted["places"] or 0,
        accepted=counts["accepted"],
        submitted=counts["submitted"],
        approved=counts["approved"],
        rejected=counts["rejected"],
        flagged=flagged.count() + counts["problems"],
        bonuses_paid=bonuses["n"],
        bonus_money=_cents(bonuses["amount"]),
        spent=_cents(paid["spent"]),
        held=_cents(held_by_open_hits(hits)),
        started=posted["started"],
        last_submit=counts["last_submit"],
        wage=hourly_wage(experiment_id=experiment_id),
    )
