"""How time and money move in the emulator: fees, charges, refunds, expiry and auto-approval.

MTurk does these things on its own clock; the emulator applies them lazily, whenever state is
read (`process_due`), so no background process is needed and tests can move time by shifting
the stored timestamps (see `mturk_emulator.clock`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from mturk_emulator.models import HIT, Account, Assignment, LedgerEntry
from mturk_emulator.protocol import RequestError

CENT = Decimal("0.01")
FEE_RATE = Decimal("0.20")
LARGE_BATCH_FEE_RATE = Decimal("0.40")
LARGE_BATCH = 10
OVERRIDE_REJECTION_WINDOW = timedelta(days=30)


def commission(amount: Decimal, rate: Decimal = FEE_RATE) -> Decimal:
    """MTurk's fee on one payment: `rate` of it, rounded to the cent, at least one cent."""
    return max(CENT, (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP))


def fee_per_assignment(reward: Decimal, max_assignments: int) -> Decimal:
    """The fee on one assignment: 20%, or 40% for HITs created with 10 or more assignments."""
    rate = LARGE_BATCH_FEE_RATE if max_assignments >= LARGE_BATCH else FEE_RATE
    return commission(reward, rate)


def charge(account: Account, amount: Decimal, description: str, hit_id: str = "") -> None:
    """Take `amount` from the requester's balance, or refuse with MTurk's insufficient-funds error.

    A sandbox account never spends (its balance stays $10,000.00); its ledger still shows the cost.
    """
    locked = Account.objects.select_for_update().get(pk=account.pk)
    if not locked.sandbox and locked.balance < amount:
        raise RequestError(
            f"You do not have enough funds: this costs ${amount:.2f} and your available balance "
            f"is ${locked.balance:.2f}.",
            "AWS.MechanicalTurk.InsufficientFunds",
        )
    _move(locked, -amount, description, hit_id)
    account.balance = locked.balance


def refund(account: Account, amount: Decimal, description: str, hit_id: str = "") -> None:
    """Give `amount` back to the requester's balance."""
    if amount <= 0:
        return
    locked = Account.objects.select_for_update().get(pk=account.pk)
    _move(locked, amount, description, hit_id)
    account.balance = locked.balance


def _move(account: Account, amount: Decimal, description: str, hit_id: str) -> None:
    if not account.sandbox:
        Account.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    account.refresh_from_db(fields=["balance"])
    LedgerEntry.objects.create(
        account=account,
        amount=amount,
        balance_after=account.balance,
        description=description,
        hit_id=hit_id,
    )


@dataclass(frozen=True)
class HitCounts:
    """How a HIT's assignment slots are used right now."""

    pending: int  # accepted, being worked on
    submitted: int  # submitted, waiting for the requester's decision
    completed: int  # approved or rejected
    available: int  # open for another worker

    @property
    def taken(self) -> int:
        return self.pending + self.submitted + self.completed


_COUNTED = {
    "pending": Count("id", filter=Q(status=Assignment.ACCEPTED)),
    "submitted": Count("id", filter=Q(status=Assignment.SUBMITTED)),
    "completed": Count("id", filter=Q(status__in=[Assignment.APPROVED, Assignment.REJECTED])),
}


def hit_counts(hit: HIT) -> HitCounts:
    """Count a HIT's assignments by what they hold."""
    return _hit_counts(hit, hit.assignments.aggregate(**_COUNTED))


def hit_counts_of(hits: Iterable[HIT]) -> dict[int, HitCounts]:
    """`hit_counts` of many HITs (a page of a list operation) in one query, by HIT pk."""
    hits = list(hits)
    rows: Any = Assignment.objects.filter(hit__in=hits).order_by().values("hit").annotate(**_COUNTED)
    found = {row["hit"]: row for row in rows}
    none = {"pending": 0, "submitted": 0, "completed": 0}
    return {hit.pk: _hit_counts(hit, found.get(hit.pk, none)) for hit in hits}


def _hit_counts(hit: HIT, counts: dict[str, int]) -> HitCounts:
    taken = counts["pending"] + counts["submitted"] + counts["completed"]
    available = 0 if hit.disposed else max(0, hit.max_assignments - taken)
    return HitCounts(counts["pending"], counts["submitted"], counts["completed"], available)


def hit_status(hit: HIT, counts: HitCounts | None = None, now: datetime | None = None) -> str:
    """MTurk's HITStatus: Assignable, Unassignable, Reviewable, Reviewing or Disposed."""
    if hit.disposed:
        return "Disposed"
    counts = counts or hit_counts(hit)
    if hit.reviewing:
        return "Reviewing"
    expired = hit.is_expired(now)
    if counts.available > 0 and not expired:
        return "Assignable"
    if counts.pending > 0:
        return "Unassignable"
    return "Reviewable"


def process_due(now: datetime | None = None) -> None:
    """Apply everything MTurk would have done by `now`: abandon overdue work, auto-approve, refund."""
    now = now or timezone.now()
    overdue = Assignment.objects.filter(status=Assignment.ACCEPTED, deadline__lte=now)
    approvable = Assignment.objects.filter(status=Assignment.SUBMITTED, auto_approval_time__lte=now)
    expired = _expired_hits_holding_unused_money(now)
    # Most calls find nothing due: stay read-only then, so readers never queue for the write lock.
    if not (expired or overdue.exists() or approvable.exists()):
        return
    with transaction.atomic():
        overdue.update(status=Assignment.ABANDONED)
        approvable.update(status=Assignment.APPROVED, approval_time=F("auto_approval_time"))
        for hit in expired:
            _refund_unused_slots(hit)


def _expired_hits_holding_unused_money(now: datetime) -> list[HIT]:
    return list(
        HIT.objects.filter(expiration__lte=now)
        .annotate(taken=Count("assignments", filter=Q(assignments__status__in=Assignment.HOLDING_A_SLOT)))
        .filter(taken__lt=F("max_assignments") - F("refunded_slots"))
        .select_related("account")
    )


def _refund_unused_slots(hit: HIT) -> None:
    locked = HIT.objects.select_for_update().select_related("account").get(pk=hit.pk)
    unused = locked.max_assignments - locked.refunded_slots - hit_counts(locked).taken
    if unused <= 0:
        return
    HIT.objects.filter(pk=locked.pk).update(refunded_slots=F("refunded_slots") + unused)
    refund(
        locked.account,
        unused * locked.cost_per_assignment,
        f"{unused} unused assignment(s) of an expired HIT given back",
        locked.hit_id,
    )


def recharge_refunded_slots(hit: HIT) -> None:
    """Extending an expired HIT holds the money of its reopened slots again."""
    if hit.refunded_slots <= 0:
        return
    charge(
        hit.account,
        hit.refunded_slots * hit.cost_per_assignment,
        f"{hit.refunded_slots} assignment(s) reopened by extending the HIT",
        hit.hit_id,
    )
    HIT.objects.filter(pk=hit.pk).update(refunded_slots=0)
    hit.refunded_slots = 0
