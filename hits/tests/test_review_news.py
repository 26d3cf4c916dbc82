"""Review polls only what changed: the cheap check for news (`hits.review.news`) finds every HIT
whose work changed on the platform, submissions, returns and expiries alike, and nothing else;
and a cycle's shards reviewed by two workers at once decide every assignment exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection

from hits.models import HIT, Assignment, Payment
from hits.review.cycle import SHARD_SIZE, review_active_hits, review_shard
from hits.review.news import Look, hits_to_look_at
from hits.tests.test_reliability import publish_items
from platforms import platform_for
from workers.models import Qualification, WorkerQualification

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def listed(looks: list[Look]) -> set[int]:
    return {look.hit_pk for look in looks if look.listing}


def test_only_hits_whose_counts_changed_are_listed_returns_and_expiries_included(account, crowd):
    first, second, third, fourth = (o.hits.get() for o in publish_items(account, 4))
    review_active_hits()  # the first look lists every HIT and records what it saw
    assert hits_to_look_at() == []

    crowd.work(first.hit_id, "AW1", {"answer": "cat"})
    assert listed(hits_to_look_at()) == {first.pk}  # a submission
    review_active_hits()
    assert listed(hits_to_look_at()) == set()

    returned = crowd.accept(second.hit_id, "AW2")
    assert listed(hits_to_look_at()) == {second.pk}  # an accept (work in progress)
    review_active_hits()
    crowd.return_assignment(returned)
    assert listed(hits_to_look_at()) == {second.pk}  # a return: no new submission, yet news
    review_active_hits()

    platform_for(account).expire_hit(third.hit_id)
    assert third.pk in listed(hits_to_look_at())  # an expiry
    crowd.age_hit(fourth.hit_id, 8 * 24 * 3600)
    assert fourth.pk in listed(hits_to_look_at())  # a lifetime that ran out


def test_crowdhrs_own_decisions_are_not_news_and_the_full_sweep_lists_everything(account, crowd):
    hits = [o.hits.get() for o in publish_items(account, 3)]
    review_active_hits()
    for worker in ("AW1", "AW2", "AW3"):
        crowd.work(hits[0].hit_id, worker, {"answer": "cat"})
    report = review_active_hits()
    assert report.approved == 3
    assert listed(hits_to_look_at()) == set()  # the approvals moved the counts as predicted
    assert listed(hits_to_look_at(full=True)) == {hit.pk for hit in HIT.objects.to_review()}


def test_stored_undecided_work_is_decided_without_a_listing(account, crowd):
    (hit,) = (o.hits.get() for o in publish_items(account, 1))
    crowd.work(hit.hit_id, "AW1", {"answer": "cat"})
    review_active_hits()  # stored; one answer cannot agree
    assert hits_to_look_at() == [Look(hit.pk, listing=False)]


def shards_of_one_cycle(account, crowd, items: int) -> list[list[Look]]:
    hits = [o.hits.get() for o in publish_items(account, items)]
    for number, hit in enumerate(hits):
        for worker in ("AW1", "AW2", "AW3"):
            crowd.work(hit.hit_id, f"{worker}{number % 2}", {"answer": "cat"})
    looks = hits_to_look_at()
    assert len(looks) == items
    size = max(1, min(SHARD_SIZE, items // 3))
    return [looks[start : start + size] for start in range(0, len(looks), size)]


def assert_decided_once(items: int) -> None:
    decided = Assignment.objects.filter(decision=Assignment.Decision.APPROVED)
    assert decided.count() == items * 3
    assert Payment.objects.filter(kind=Payment.Kind.APPROVAL).count() == items * 3
    # scores are recorded in the decision's transaction: a second decision would count twice
    totals = WorkerQualification.objects.filter(qualification=Qualification.TOTAL_HITS)
    assert {row.worker.worker_id: row.value for row in totals} == {
        f"{w}{parity}": len(range(parity, items, 2)) for w in ("AW1", "AW2", "AW3") for parity in (0, 1)
    }


def test_two_reviewers_sharing_a_cycles_shards_decide_every_assignment_once(account, crowd):
    """Two reviewers (threads with connections of their own) each take every shard of one cycle,
    in opposite orders, as two worker processes would if a shard were delivered twice."""
    shards = shards_of_one_cycle(account, crowd, items=6)

    def reviewer(order: list[list[Look]]) -> None:
        try:
            for shard in order:
                review_shard(shard)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=reviewer, args=(shards,)),
        threading.Thread(target=reviewer, args=(shards[::-1],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert_decided_once(items=6)  # a HIT one reviewer found leased, the other decided


REVIEW_SHARDS = """
import json, sys
from hits.review.cycle import review_shard
from hits.review.news import Look
for shard in json.loads(sys.argv[1]):
    review_shard([Look(*look) for look in shard])
"""


def test_two_worker_processes_review_one_cycles_shards_deciding_each_once(account, crowd, mturk):
    if connection.vendor != "postgresql":
        pytest.skip("DATABASE_URL is not PostgreSQL: worker processes share a PostgreSQL database")
    shards = shards_of_one_cycle(account, crowd, items=6)
    arguments = [[look.as_task_argument() for look in shard] for shard in shards]
    db = connection.settings_dict
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DEBUG": "1",
        "MTURK_ENDPOINT": "emulator",
        "MTURK_EMULATOR_URL": mturk,
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", f"import django; django.setup()\n{REVIEW_SHARDS}", json.dumps(order)],
            cwd=ROOT,
            env={**environment, "DJANGO_SETTINGS_MODULE": "crowdhr.settings"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for order in (arguments, arguments[::-1])
    ]
    for worker in workers:
        output, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0, output.decode()
    assert_decided_once(items=6)
