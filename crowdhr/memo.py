"""What one process may trust for seconds: facts a hot path (a worker's landing) reads on every
request and that change rarely (a study's size, a HIT's duration, the platform's count of work in
progress).

A memo lives in the process's memory, shared by its threads: no serialisation and no round trip,
unlike Django's cache, which may be a server shared by every process. A value kept here is handed
to every thread as it is, so it must be treated as read-only. Tests forget everything between tests
(`forget_all`), because a database's ids are reused by the next test.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

_ALL: weakref.WeakSet[Memo] = weakref.WeakSet()


class Memo(Generic[V]):
    """Values kept for `seconds` each (at most `size` of them), by key."""

    def __init__(self, seconds: float, *, size: int = 4096) -> None:
        self.seconds = seconds
        self.size = size
        self._values: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()
        #: counts `forget_all` calls: work begun before one (a count made in the background) is not kept
        self.generation = 0
        _ALL.add(self)

    def get(self, key: Hashable) -> V | None:
        """The value kept for `key`, or None once it is older than the memo's time."""
        found = self._values.get(key)
        if found is None or found[0] <= time.monotonic():
            return None
        return found[1]

    def put(self, key: Hashable, value: V, *, generation: int | None = None) -> V:
        """Keep `value`; unless `generation` is given and everything was forgotten since."""
        with self._lock:
            if generation is None or generation == self.generation:
                if len(self._values) >= self.size:
                    self._forget_oldest()
                self._values[key] = (time.monotonic() + self.seconds, value)
        return value

    def add(self, key: Hashable, value: V) -> bool:
        """Keep `value` only when nothing is kept for `key`; True when it was kept."""
        with self._lock:
            if self.get(key) is not None:
                return False
            if len(self._values) >= self.size:
                self._forget_oldest()
            self._values[key] = (time.monotonic() + self.seconds, value)
            return True

    def get_or_make(self, key: Hashable, make: Callable[[], V | None]) -> V | None:
        """The kept value, or `make()`'s (kept unless None). Two threads may both make a missing
        value: a memo saves repeated work, it does not serialise it."""
        value = self.get(key)
        if value is None:
            value = make()
            if value is not None:
                self.put(key, value)
        return value

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._values.pop(key, None)

    def forget_all(self) -> None:
        with self._lock:
            self._values.clear()
            self.generation += 1

    def _forget_oldest(self) -> None:
        now = time.monotonic()
        for key in [key for key, (expires, _) in self._values.items() if expires <= now]:
            del self._values[key]
        while len(self._values) >= self.size:
            del self._values[next(iter(self._values))]


def forget_all() -> None:
    """Forget every memo of this process (tests do, between tests)."""
    for memo in list(_ALL):
        memo.forget_all()
