"""The work a platform reports in progress on a study's live HITs, as one web process knows it.

A landing the platform cannot confirm yet (MTurk shows an assignment only once submitted) is
admitted while the study's unconfirmed claims are fewer than this count plus the study's spare
places (`experiments.places`). Asking the platform at every landing would cost a call per
arrival, so each process keeps the count:

- younger than IN_PROGRESS_SECONDS, it is answered from memory;
- older (up to IN_PROGRESS_KEEP_SECONDS), it is answered at once while one background thread of
  the process counts again, so no landing waits for the platform while traffic is steady;
- with no count in memory (a study's first landing in this process), one thread takes the count
  another process kept on the study's row, by the same rules, or counts and keeps its count there;
  the others wait for it, for at most IN_PROGRESS_WAIT_SECONDS, after which they count themselves.
  The row is written by counts made on a landing's own thread (a process's first, a refused
  landing's fresh one); background recounts keep their process's memory only. So a study's first
  landing waits for the platform once per installation, and again only in a process that starts
  when the row is over a minute old.

The live HITs are read by the landing's own thread (which holds its database connection); the
background thread only asks the platform.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.utils import timezone

from crowdhr.memo import Memo
from experiments.models import Experiment
from hits.models import HIT
from platforms import platform_for

logger = logging.getLogger(__name__)

IN_PROGRESS_SECONDS = 10
IN_PROGRESS_KEEP_SECONDS = 60
IN_PROGRESS_WAIT_SECONDS = 5

#: study pk -> (count, when it was counted: time.monotonic())
_COUNTS: Memo[tuple[int, float]] = Memo(IN_PROGRESS_KEEP_SECONDS)
_counting: dict[int, threading.Event] = {}  # studies a landing's thread is counting now
_recounting: set[int] = set()  # studies waiting for, or in, a background recount
_lock = threading.Lock()
_recounts: ThreadPoolExecutor | None = None
#: background recounts at once per process: one slow account does not hold up every study
RECOUNT_THREADS = 4


def in_progress(experiment: Experiment, *, fresh: bool = False) -> int:
    """Work the platform reports in progress on the study's live HITs (see the module). `fresh`
    asks the platform now (callers ask at most once a second per study)."""
    if fresh:
        return _counter(experiment, share=True)()
    kept = _COUNTS.get(experiment.pk)
    if kept is None:
        return _count_once(experiment)
    count, counted_at = kept
    if time.monotonic() - counted_at >= IN_PROGRESS_SECONDS:
        _count_later(experiment)
    return count


def _counter(experiment: Experiment, *, share: bool = False) -> Callable[[], int]:
    """The count, ready to be made: the study's live HITs are read now; the platform is asked, and
    the answer kept (`share`: on the study's row too, for the other processes), when it is called."""
    live = list(
        HIT.objects.filter(outsourcer__experiment=experiment, status=HIT.Status.LIVE).values_list(
            "hit_id", flat=True
        )
    )
    account_hits = HIT.objects.filter(
        outsourcer__account_id=experiment.account_id, status=HIT.Status.LIVE
    ).count()
    platform = platform_for(experiment.account)
    generation = _COUNTS.generation

    def count() -> int:
        # a HIT the platform cannot count now counts as nothing in progress: the spare places admit
        total = sum(platform.in_progress_of(live, account_hits=account_hits).values())
        _COUNTS.put(experiment.pk, (total, time.monotonic()), generation=generation)
        if share:
            Experiment.objects.filter(pk=experiment.pk).update(
                in_progress_count=total, in_progress_counted_at=timezone.now()
            )
        return total

    return count


def _shared(experiment: Experiment) -> tuple[int, float] | None:
    """The count another process made within IN_PROGRESS_KEEP_SECONDS, and how old it is (seconds),
    now kept by this process too."""
    found = (
        Experiment.objects.filter(pk=experiment.pk)
        .values_list("in_progress_count", "in_progress_counted_at")
        .first()
    )
    count, counted_at = found or (None, None)
    if count is None or counted_at is None:
        return None
    age = (timezone.now() - counted_at).total_seconds()
    if not 0 <= age < IN_PROGRESS_KEEP_SECONDS:
        return None
    _COUNTS.put(experiment.pk, (count, time.monotonic() - age))
    return count, age


def _start_counting(pk: int) -> threading.Event | None:
    """Mark the study as being counted by this thread: its event, or None when another counts."""
    with _lock:
        if pk in _counting:
            return None
        event = _counting[pk] = threading.Event()
        return event


def _done_counting(pk: int, event: threading.Event) -> None:
    with _lock:
        _counting.pop(pk, None)
    event.set()


def _count_once(experiment: Experiment) -> int:
    """The count for a process that has none: one thread takes the shared one or counts, the
    others wait for it (background recounts are not waited for)."""
    event = _start_counting(experiment.pk)
    if event is not None:
        try:
            shared = _shared(experiment)
            if shared is None:
                return _counter(experiment, share=True)()
        finally:
            _done_counting(experiment.pk, event)
        count, age = shared
        if age >= IN_PROGRESS_SECONDS:
            _count_later(experiment)
        return count
    with _lock:
        other = _counting.get(experiment.pk)
    if other is not None:
        other.wait(IN_PROGRESS_WAIT_SECONDS)
    kept = _COUNTS.get(experiment.pk)
    return kept[0] if kept is not None else _counter(experiment)()


def _count_later(experiment: Experiment) -> None:
    """Count again in the background (once at a time per study); the old count answers meanwhile."""
    with _lock:
        if experiment.pk in _recounting:
            return
        _recounting.add(experiment.pk)
    try:
        count = _counter(experiment)
    except Exception:
        _done_recounting(experiment.pk)
        raise

    def recount() -> None:
        try:
            count()
        except Exception:  # the old count stands; the next landing after this one tries again
            logger.exception("in_progress_recount_failed", extra={"experiment_id": experiment.pk})
        finally:
            _done_recounting(experiment.pk)

    _recounter().submit(recount)


def _done_recounting(pk: int) -> None:
    with _lock:
        _recounting.discard(pk)


def _recounter() -> ThreadPoolExecutor:
    global _recounts
    with _lock:
        if _recounts is None:
            _recounts = ThreadPoolExecutor(RECOUNT_THREADS, thread_name_prefix="crowdhr-in-progress")
        return _recounts


def _forget_recounter() -> None:
    """A forked child (a web worker) starts its own thread: the parent's does not come along."""
    global _recounts, _lock
    _recounts, _lock = None, threading.Lock()
    _counting.clear()
    _recounting.clear()


os.register_at_fork(after_in_child=_forget_recounter)
