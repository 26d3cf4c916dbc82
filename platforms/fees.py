"""MTurk's commission, in one place: what an assignment or a bonus costs the researcher."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MICRO_BATCH_LIMIT = 9  # MTurk charges 40% instead of 20% for HITs with 10 or more assignments
CENT = Decimal("0.01")


def commission_rate(assignments_in_hit: int) -> Decimal:
    return Decimal("0.40") if assignments_in_hit > MICRO_BATCH_LIMIT else Decimal("0.20")


def assignment_fee(reward: Decimal, assignments_in_hit: int) -> Decimal:
    """MTurk's fee for one assignment: the commission, at least one cent."""
    fee = (Decimal(reward) * commission_rate(assignments_in_hit)).quantize(CENT, ROUND_HALF_UP)
    return max(fee, CENT)


def assignment_cost(reward: Decimal, assignments_in_hit: int) -> Decimal:
    return Decimal(reward) + assignment_fee(reward, assignments_in_hit)


def bonus_fee(amount: Decimal) -> Decimal:
    return (Decimal(amount) * Decimal("0.20")).quantize(CENT, ROUND_HALF_UP)


def posting_fees(reward: Decimal, assignments: int) -> Decimal:
    """MTurk's fees for posting `assignments` as micro-batches (what crowdhr always does)."""
    return sum((assignment_fee(reward, size) * size for size in micro_batches(assignments)), Decimal("0.00"))


def posting_cost(reward: Decimal, assignments: int) -> Decimal:
    """Rewards plus fees for posting `assignments` as micro-batches."""
    return Decimal(reward) * assignments + posting_fees(reward, assignments)


def micro_batches(total: int, limit: int = MICRO_BATCH_LIMIT) -> list[int]:
    """Split `total` assignments into HIT sizes of at most `limit` (12 -> [9, 3])."""
    return [min(limit, total - start) for start in range(0, total, limit)]
