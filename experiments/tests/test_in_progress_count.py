"""The platform's count of work in progress, as a web process keeps it (`experiments.in_progress`).

A burst of landings on a study with no count yet counts it once; an old count is answered at once
while one background thread counts again, so no landing waits for the platform in steady traffic.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crowdhr import memo
from experiments import in_progress
from experiments.models import Experiment


@pytest.fixture
def counting(monkeypatch):
    """A count that takes 100 ms and answers how many counts started before it (1, 2, ...); the
    threads that made them are in `counting.threads`."""
    counts: list[str] = []
    lock = threading.Lock()

    def counter(experiment, share=False):
        generation = in_progress._COUNTS.generation

        def count() -> int:
            with lock:
                counts.append(threading.current_thread().name)
                n = len(counts)
            time.sleep(0.1)
            in_progress._COUNTS.put(experiment.pk, (n, time.monotonic()), generation=generation)
            return n

        return count

    monkeypatch.setattr(in_progress, "_counter", counter)
    monkeypatch.setattr(in_progress, "_shared", lambda experiment: None)  # no other process counted
    return counts


def burst(experiment: Experiment, threads: int = 16) -> list[int]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda _: in_progress.in_progress(experiment), range(threads)))


def make_old(experiment: Experiment, count: int) -> None:
    counted_at = time.monotonic() - in_progress.IN_PROGRESS_SECONDS - 1
    in_progress._COUNTS.put(experiment.pk, (count, counted_at))


def wait_for_recount(experiment: Experiment) -> None:
    deadline = time.monotonic() + 5
    while experiment.pk in in_progress._recounting and time.monotonic() < deadline:
        time.sleep(0.01)


def test_with_no_count_yet_one_thread_counts_and_the_others_wait_for_it(counting):
    assert burst(Experiment(pk=910001)) == [1] * 16
    assert len(counting) == 1


def test_an_old_count_is_answered_at_once_while_one_background_thread_counts_again(counting):
    experiment = Experiment(pk=910002)
    make_old(experiment, 7)
    assert burst(experiment) == [7] * 16  # nobody waited for the platform's answer
    wait_for_recount(experiment)
    assert len(counting) == 1
    assert counting[0].startswith("crowdhr-in-progress")  # not a landing's thread
    assert in_progress.in_progress(experiment) == 1  # then everyone has the new count
    assert len(counting) == 1


def test_a_recent_count_is_not_counted_again_but_fresh_counts(counting):
    experiment = Experiment(pk=910003)
    assert in_progress.in_progress(experiment) == 1
    assert in_progress.in_progress(experiment) == 1
    assert in_progress.in_progress(experiment, fresh=True) == 2
    assert in_progress.in_progress(experiment) == 2
    assert len(counting) == 2


def test_a_thread_that_waited_too_long_counts_itself(counting, monkeypatch):
    experiment = Experiment(pk=910004)
    monkeypatch.setattr(in_progress, "IN_PROGRESS_WAIT_SECONDS", 0)
    in_progress._counting[experiment.pk] = threading.Event()  # a counter that never finishes
    try:
        assert in_progress.in_progress(experiment) == 1
    finally:
        in_progress._counting.pop(experiment.pk, None)
    assert len(counting) == 1


def test_a_count_begun_before_everything_was_forgotten_is_not_kept(counting):
    experiment = Experiment(pk=910005)
    make_old(experiment, 7)
    assert in_progress.in_progress(experiment) == 7
    memo.forget_all()  # the next test's database: the background count is of another study
    wait_for_recount(experiment)
    assert in_progress._COUNTS.get(experiment.pk) is None


def test_a_failed_background_count_keeps_the_old_one_and_is_tried_again(monkeypatch):
    experiment = Experiment(pk=910006)
    calls: list[int] = []

    def counter(_experiment, share=False):
        def count() -> int:
            calls.append(1)
            raise RuntimeError("the platform's answer could not be read")

        return count

    monkeypatch.setattr(in_progress, "_counter", counter)
    make_old(experiment, 7)
    assert in_progress.in_progress(experiment) == 7
    wait_for_recount(experiment)
    assert in_progress.in_progress(experiment) == 7
    wait_for_recount(experiment)
    assert len(calls) == 2


def posted_study(account, accepted: int) -> Experiment:
    """A study with HITs on the local MTurk, `accepted` of whose assignments workers are doing."""
    from hits import services as hit_services
    from mturk_emulator import workers as marketplace
    from platforms import fees_for

    study = Experiment.objects.create(
        owner=account.owner, account=account, name="busy", kind=Experiment.Kind.OTREE, title="Busy"
    )
    outsourcer = hit_services.outsourcer_create(
        owner=account.owner,
        account=account,
        task_type="otree_study",
        target=study.outsourcer_target,
        inputs={"url": "https://crowdhr.example/study/1/"},
        task_config={"experiment_id": study.pk},
        settings=hit_services.HitSettings(
            title="Busy", description="Workers are in it.", reward=Decimal("0.10"), quality_threshold=None
        ),
        experiment=study,
        batch_sizes=fees_for(account).batch_sizes(12),
    )
    hits = list(outsourcer.hits.order_by("batch_number"))
    for n in range(accepted):
        marketplace.accept(hits[n % len(hits)].hit_id, f"AWBUSY{n}")
    return study


def platform_counts(caplog) -> int:
    return sum(getattr(r, "operation", "") in ("ListHITs", "GetHIT") for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_a_process_starting_on_a_busy_study_takes_the_count_another_process_made(account, caplog):
    study = posted_study(account, accepted=3)
    caplog.set_level("INFO", logger="crowdhr.platform")
    assert in_progress.in_progress(study) == 3  # this process asks the platform and shares the count
    asked = platform_counts(caplog)
    assert asked >= 1
    memo.forget_all()  # another web process: nothing kept in its memory
    assert in_progress.in_progress(study) == 3
    assert platform_counts(caplog) == asked  # not asked again
    study.refresh_from_db()
    assert study.in_progress_count == 3


def share(study: Experiment, count: int, seconds_old: float = 0) -> None:
    """The count another process kept on the study's row, `seconds_old` ago."""
    counted_at = timezone.now() - timedelta(seconds=seconds_old)
    Experiment.objects.filter(pk=study.pk).update(in_progress_count=count, in_progress_counted_at=counted_at)


@pytest.mark.django_db(transaction=True)
def test_an_old_shared_count_is_answered_at_once_and_made_again_in_the_background(account):
    study = posted_study(account, accepted=2)
    share(study, 9, seconds_old=in_progress.IN_PROGRESS_SECONDS + 1)
    assert in_progress.in_progress(study) == 9
    wait_for_recount(study)
    assert in_progress.in_progress(study) == 2


@pytest.mark.django_db(transaction=True)
def test_a_shared_count_older_than_a_minute_is_made_again_now(account):
    study = posted_study(account, accepted=2)
    share(study, 9, seconds_old=in_progress.IN_PROGRESS_KEEP_SECONDS + 1)
    assert in_progress.in_progress(study) == 2


@pytest.mark.django_db
def test_a_new_round_does_not_inherit_the_old_rounds_count(account):
    from experiments import services

    study = Experiment.objects.create(owner=account.owner, account=account, name="Effort", title="Effort")
    share(study, 50)
    study.refresh_from_db()
    round_2 = services.experiment_new_round(experiment=study, by=None)
    assert (round_2.in_progress_count, round_2.in_progress_counted_at) == (None, None)
    assert in_progress._shared(round_2) is None  # its first landing asks the platform
