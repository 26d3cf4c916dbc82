"""The platform's count of work in progress is counted by one thread at a time (`places.in_progress`).

A burst of landings all missing the cached count used to count it once each (a platform call per
live HIT, per thread). Now one thread counts; the others keep the last count, or wait for the first.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

from experiments import places
from experiments.models import Experiment


@pytest.fixture
def counting(monkeypatch):
    """A count that takes 100 ms and returns how many counts started before it (1, 2, ...)."""
    counts: list[float] = []
    lock = threading.Lock()

    def count(experiment, key):
        with lock:
            counts.append(time.monotonic())
            n = len(counts)
        time.sleep(0.1)
        cache.set(key, (n, time.time()), places.IN_PROGRESS_KEEP_SECONDS)
        return n

    monkeypatch.setattr(places, "_count_in_progress", count)
    return counts


def study(pk: int) -> Experiment:
    cache.delete(f"crowdhr-in-progress:{pk}")
    cache.delete(f"crowdhr-in-progress:{pk}:counting")
    return Experiment(pk=pk)


def burst(experiment: Experiment, threads: int = 16) -> list[int]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda _: places.in_progress(experiment), range(threads)))


def test_with_no_count_yet_one_thread_counts_and_the_others_wait_for_it(counting):
    experiment = study(910001)
    assert burst(experiment) == [1] * 16
    assert len(counting) == 1


def test_an_old_count_is_served_while_one_thread_counts_again(counting):
    experiment = study(910002)
    cache.set(f"crowdhr-in-progress:{experiment.pk}", (7, time.time() - places.IN_PROGRESS_SECONDS - 1), 60)
    answers = burst(experiment)
    assert len(counting) == 1
    assert set(answers) == {1, 7}  # the old count, except for the counting thread (and any later one)
    assert places.in_progress(experiment) == 1  # then everyone has it, without counting again
    assert len(counting) == 1


def test_a_recent_count_is_not_counted_again_but_fresh_counts(counting):
    experiment = study(910003)
    assert places.in_progress(experiment) == 1
    assert places.in_progress(experiment) == 1
    assert places.in_progress(experiment, fresh=True) == 2
    assert places.in_progress(experiment) == 2
    assert len(counting) == 2


def test_a_thread_that_waited_too_long_counts_itself(counting, monkeypatch):
    experiment = study(910004)
    monkeypatch.setattr(places, "IN_PROGRESS_WAIT_SECONDS", 0)
    cache.add(f"crowdhr-in-progress:{experiment.pk}:counting", 1, 30)  # a counter that never finishes
    assert places.in_progress(experiment) == 1
    assert len(counting) == 1
