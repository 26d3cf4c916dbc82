"""Calls paced to a platform's request rate limit on crowdhr's side: a token bucket per account.

A platform that limits each account to so many requests a second answers the calls above it
with a throttled answer, and a client that backs off exponentially after one loses more time
than it saved. crowdhr takes a token before each paced call instead, so the calls leave at the
account's known rate and throttled answers are rare. A throttled answer empties the bucket (the
platform counted calls crowdhr did not: another process of the account, or the network bunching
calls up), so the call tried again leaves with the next token, not seconds later.

crowdhr's bucket holds half the platform's burst: the other half stays on the platform's side
for calls the network brings closer together than they left.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """A platform's request rate limit for one account: `per_second` on average, `burst` at once."""

    per_second: float
    burst: float

    @classmethod
    def parse(cls, value: float | tuple[float, float] | None) -> Rate | None:
        """A rate from a setting: None (no limit), requests per second (a burst of one second's
        worth), or (per second, burst)."""
        if value is None:
            return None
        per_second, burst = value if isinstance(value, tuple | list) else (value, max(value, 1))
        rate = cls(float(per_second), float(burst))
        if not (math.isfinite(rate.per_second) and rate.per_second > 0 and rate.burst >= 1):
            raise ValueError(
                f"a rate limit needs requests per second above 0 and a burst of 1 or more: {value!r}"
            )
        return rate


class Pace:
    """A token bucket that makes callers wait their turn; thread-safe.

    Each caller reserves the next token as it comes (tokens may be owed), so callers leave in
    the order they came and one a token apart, without waking each other up to compete.
    """

    def __init__(
        self,
        rate: Callable[[], Rate | None],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rate = rate  # read at every call, so a changed setting applies at once
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = math.inf  # full
        self._counted = clock()

    def wait(self) -> None:
        """Block until the next call may leave."""
        delay = self._reserve()
        if delay > 0:
            self._sleep(delay)

    def throttled(self) -> None:
        """The platform refused a call for its rate: nothing left to spend until the next token."""
        rate = self._rate()
        if rate is None:
            return
        with self._lock:
            self._refill(rate)
            self._tokens = min(self._tokens, 0.0)

    def _reserve(self) -> float:
        """Take a token, owed if need be; the seconds until it is there."""
        rate = self._rate()
        if rate is None:
            return 0.0
        with self._lock:
            self._refill(rate)
            self._tokens -= 1
            return max(0.0, -self._tokens / rate.per_second)

    def _refill(self, rate: Rate) -> None:
        now = self._clock()
        capacity = max(1.0, rate.burst / 2)
        self._tokens = min(capacity, self._tokens + (now - self._counted) * rate.per_second)
        self._counted = now
