"""MTurk's request rate limit: a token bucket per requester account, as Amazon keeps one.

Each requester call takes a token; tokens come back at `per_second` up to `burst`. A call that
finds the bucket empty is answered as MTurk answers it: HTTP 400 ThrottlingException "Rate
exceeded" (botocore's standard retry mode backs off and tries again).

The limit comes from the setting MTURK_EMULATOR_RATE_LIMIT (read with getattr): None (the
default) for no limit, requests per second (the burst is one second's worth), a
`(per_second, burst)` pair, or the same as text ("20" or "20,40"). Tests and benchmarks change it
at run time with `set_rate_limit` or POST /emulator/faults/ {"rate_limit": {"per_second": 20,
"burst": 20}}; `clear_rate_limit` goes back to the setting.

The buckets live in the web process and are guarded by one lock, so the limit holds exactly for
a process serving many threads (gunicorn --threads); serve the emulator from one process when the
limit must hold exactly (each process keeps its own buckets).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from mturk_emulator.protocol import ThrottlingError


@dataclass(frozen=True)
class RateLimit:
    """How many requests an account may make: `per_second` on average, `burst` at once."""

    per_second: float
    burst: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.per_second) and math.isfinite(self.burst)):
            raise ValueError("a rate limit must be a finite number")
        if not self.per_second > 0:
            raise ValueError(f"per_second must be above 0, not {self.per_second}")
        if not self.burst >= 1:
            raise ValueError(f"burst must be at least 1, not {self.burst}")

    @classmethod
    def parse(cls, value: Any) -> RateLimit | None:
        """A limit from the setting's or the fault API's forms; None for no limit."""
        if value is None or value == "" or isinstance(value, RateLimit):
            return value or None
        if isinstance(value, dict):
            value = [value["per_second"], *([value["burst"]] if "burst" in value else [])]
        elif isinstance(value, str):
            value = value.split(",")
        elif not isinstance(value, list | tuple):
            value = [value]
        if not 1 <= len(value) <= 2 or any(isinstance(part, bool) for part in value):
            raise ValueError(f"a rate limit is requests per second or (per second, burst), not {value!r}")
        per_second = float(value[0])
        return cls(per_second, float(value[1]) if len(value) == 2 else max(per_second, 1))


class Buckets:
    """Token buckets by account; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._override: RateLimit | None = None
        self._overridden = False
        self._buckets: dict[str, tuple[float, float]] = {}  # account -> (tokens, when counted)

    def limit(self) -> RateLimit | None:
        """The limit in force: the run-time one if set, else the setting's."""
        if self._overridden:
            return self._override
        return RateLimit.parse(getattr(settings, "MTURK_EMULATOR_RATE_LIMIT", None))

    def set(self, limit: RateLimit | None) -> None:
        """Replace the limit for this process (None: unlimited) and start every bucket full."""
        with self._lock:
            self._override, self._overridden = limit, True
            self._buckets.clear()

    def clear(self) -> None:
        """Back to the setting's limit, every bucket full."""
        with self._lock:
            self._override, self._overridden = None, False
            self._buckets.clear()

    def take(self, account: str) -> None:
        """Take one token from the account's bucket, or raise MTurk's ThrottlingException."""
        limit = self.limit()
        if limit is None:
            return
        with self._lock:
            now = self._clock()
            tokens, counted = self._buckets.get(account, (limit.burst, now))
            tokens = min(limit.burst, tokens + (now - counted) * limit.per_second)
            if tokens < 1:
                self._buckets[account] = (tokens, now)
                raise ThrottlingError("Rate exceeded")
            self._buckets[account] = (tokens - 1, now)


BUCKETS = Buckets()


def take(account: str) -> None:
    """One requester call of `account`: allowed, or ThrottlingException when over the limit."""
    BUCKETS.take(account)


def set_rate_limit(per_second: float | None, burst: float | None = None) -> RateLimit | None:
    """Limit every account to `per_second` requests (bursts of `burst`); None lifts the limit."""
    limit = None if per_second is None else RateLimit.parse([per_second, *([burst] if burst else [])])
    BUCKETS.set(limit)
    return limit


def clear_rate_limit() -> None:
    """Back to the setting MTURK_EMULATOR_RATE_LIMIT."""
    BUCKETS.clear()


def describe() -> dict[str, float] | None:
    limit = BUCKETS.limit()
    return None if limit is None else {"per_second": limit.per_second, "burst": limit.burst}
