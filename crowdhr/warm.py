"""What a web process does once, at its start, so that its first requests do not pay for it.

Django fills its URL reverser on the first `reverse()` (each thread that finds it empty fills it
again), and a platform's client library loads its service model on the first client. Under a burst
of workers landing on a freshly started process, every thread would do both at once. Apps register
their own steps (`on_start`, from their `ready()`); `crowdhr.wsgi` runs them all once the
application is loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.urls import URLResolver, get_resolver

logger = logging.getLogger(__name__)

_STEPS: list[Callable[[], None]] = []


def on_start(step: Callable[[], None]) -> Callable[[], None]:
    """Run `step` when a web process starts (a failure is logged, the process serves anyway)."""
    if step not in _STEPS:
        _STEPS.append(step)
    return step


def warm_up() -> None:
    """Every registered step, after filling the URL reverser (every namespace)."""
    _fill_reverser(get_resolver())
    for step in _STEPS:
        try:
            step()
        except Exception:
            logger.exception("warm-up step failed", extra={"step": getattr(step, "__qualname__", repr(step))})


def _fill_reverser(resolver: URLResolver) -> None:
    resolver.reverse_dict  # noqa: B018  # the property fills the reverser for the current language
    for _, namespace in resolver.namespace_dict.values():
        _fill_reverser(namespace)
