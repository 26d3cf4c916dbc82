"""What work and bonuses cost beyond the pay itself: each platform's commission as `FeeRules`.

A platform type carries its rules (`platform_type.fees`, or `platforms.fees_for(account)`): every
price crowdhr shows or books is the account's platform's, never one platform's for all.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MICRO_BATCH_LIMIT = 9  # MTurk charges 40% instead of 20% for HITs with 10 or more assignments


def percent(rate: Decimal) -> str:
    """A rate as the researcher reads it: 0.20 -> "20%", 0.3333 -> "33.33%"."""
    return f"{(Decimal(rate) * 100).normalize():f}%"


@dataclass(frozen=True)
class FeeRules:
    """A platform's commission on rewards and bonuses, and how it wants work split into HITs.

    With a `micro_batch_limit`, a HIT with more places than the limit pays `large_batch_rate`
    instead of `rate`, so crowdhr posts work in HITs of at most the limit.
    """

    rate: Decimal
    bonus_rate: Decimal
    minimum_fee: Decimal = CENT
    micro_batch_limit: int | None = None
    large_batch_rate: Decimal | None = None

    def commission_rate(self, assignments_in_hit: int) -> Decimal:
        limit, large = self.micro_batch_limit, self.large_batch_rate
        if limit is not None and large is not None and assignments_in_hit > limit:
            return large
        return self.rate

    def assignment_fee(self, reward: Decimal, assignments_in_hit: int) -> Decimal:
        """The fee for one assignment: the commission, at least the minimum fee."""
        fee = (Decimal(reward) * self.commission_rate(assignments_in_hit)).quantize(CENT, ROUND_HALF_UP)
        return max(fee, self.minimum_fee)

    def assignment_cost(self, reward: Decimal, assignments_in_hit: int) -> Decimal:
        return Decimal(reward) + self.assignment_fee(reward, assignments_in_hit)

    def bonus_fee(self, amount: Decimal) -> Decimal:
        return (Decimal(amount) * self.bonus_rate).quantize(CENT, ROUND_HALF_UP)

    def batch_sizes(self, total: int) -> list[int]:
        """How crowdhr splits `total` places into HITs (12 -> [9, 3] under a limit of 9)."""
        limit = self.micro_batch_limit
        if not limit:
            return [total]
        return [min(limit, total - start) for start in range(0, total, limit)]

    def posting_fees(self, reward: Decimal, assignments: int) -> Decimal:
        """The fees for posting `assignments` places split as `batch_sizes` does."""
        sizes = self.batch_sizes(assignments)
        return sum((self.assignment_fee(reward, size) * size for size in sizes), Decimal("0.00"))

    def posting_cost(self, reward: Decimal, assignments: int) -> Decimal:
        """Rewards plus fees for posting `assignments` places."""
        return Decimal(reward) * assignments + self.posting_fees(reward, assignments)


#: MTurk: 20% commission (at least one cent), 40% for HITs with 10 or more assignments, 20% on bonuses
MTURK_FEES = FeeRules(
    rate=Decimal("0.20"),
    bonus_rate=Decimal("0.20"),
    micro_batch_limit=MICRO_BATCH_LIMIT,
    large_batch_rate=Decimal("0.40"),
)
