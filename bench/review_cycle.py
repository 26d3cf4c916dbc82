"""How little a review cycle asks of the platform, and how fast it reviews what it must.

Seeds N active HITs (default 2,000; --full: 10,000) in the local MTurk (served by gunicorn), 1%
of them (--news) with 3 submitted assignments, and prints:
- the first look (every HIT is new to crowdhr): database queries per HIT reviewed with three
  decisions, and review throughput (the platform calls of the whole cycle per second of it) as a
  ratio to raw boto3 ListAssignmentsForHIT calls per second at the same concurrency (measured
  before and after the cycle, over the same HITs);
- a steady cycle in which another 1% of the HITs got 3 submissions: platform calls versus the
  floor (HITs with news + decisions + one ListHITs page per 100 active HITs);
- qualification score syncs in that cycle versus the scores whose value changed.

Targets: calls <= 1.05x the floor, < 30 queries per HIT, throughput >= 0.5x raw, sync calls
<= scores changed (one call per worker per score at most).
Usage: python bench/review_cycle.py [--hits 2000 | --full] [--news 1] [--workers 1000]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._server import free_port, gunicorn, scratch_environment

REVIEW_OPERATIONS = {"ListHITs", "ListAssignmentsForHIT", "ApproveAssignment", "RejectAssignment"}
DECISIONS = {"ApproveAssignment", "RejectAssignment"}
SYNC = "AssociateQualificationWithWorker"


class CallCounter(logging.Handler):
    """Counts crowdhr's platform calls by operation from its structured log lines."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "platform call":
            self.calls[record.operation] += 1


def seed(hits: int, busy: int, workers: int) -> tuple[object, list[str]]:
    """Post one HIT through the API, clone it N times in the emulator's tables, and add 3 answers
    to each of the first `busy`."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from hits.models import HIT, Outsourcer
    from hits.task_types import get_task_type
    from mturk_emulator import models as emulator
    from mturk_emulator.testing import register_requester
    from platforms import WorkSpec, platform_for
    from platforms.base import dump_destination
    from platforms.models import PlatformAccount

    owner = get_user_model().objects.create_user("bench", is_staff=True)
    register_requester("AKIABENCH", "bench-secret")
    account = PlatformAccount.objects.create(
        owner=owner,
        name="bench",
        environment="emulator",
        access_key_id="AKIABENCH",
        secret_access_key="bench-secret",
    )
    config = {"question": "Which animal?", "choices": ["cat", "dog"], "quality_threshold": None}
    form = get_task_type("categorical", config).html_form({"text": "a picture"})
    template = platform_for(account).create_hit(
        WorkSpec(
            title="Name the animal",
            description="Choose.",
            reward=Decimal("0.05"),
            places=3,
            destination=form,
        ),
        unique_request_token="bench-template",
    )
    source = emulator.HIT.objects.get(hit_id=template.hit_id)
    posted = timezone.now() - timedelta(hours=1)  # a backlog: nobody is an early bird
    clones = []
    for _ in range(hits):
        source.pk = None
        source.hit_id = emulator.new_entity_id()
        source.created = posted
        clones.append(
            emulator.HIT(**{f.attname: getattr(source, f.attname) for f in emulator.HIT._meta.fields})
        )
    emulator.HIT.objects.bulk_create(clones, batch_size=1000)
    clone_rows = list(emulator.HIT.objects.filter(hit_id__in=[c.hit_id for c in clones]))
    add_answers(clone_rows[:busy], workers, posted)
    outsourcers = Outsourcer.objects.bulk_create(
        [
            Outsourcer(
                owner=owner, account=account, target=f"item-{n}", task_type="categorical", task_config=config
            )
            for n in range(hits)
        ],
        batch_size=1000,
    )
    HIT.objects.bulk_create(
        [
            HIT(
                outsourcer=outsourcer,
                hit_id=hit.hit_id,
                environment="emulator",
                status=HIT.Status.LIVE,
                creation_token=f"bench-{outsourcer.pk}",
                assignments_required=3,
                agreements_required=2,
                max_assignments=3,
                title="Name the animal",
                description="Choose.",
                reward=Decimal("0.05"),
                question=dump_destination(form),
            )
            for outsourcer, hit in zip(outsourcers, clone_rows, strict=True)
        ],
        batch_size=1000,
    )
    HIT.objects.update(create_date=posted)
    return account, [hit.hit_id for hit in clone_rows]


def add_answers(hits: list, workers: int, posted) -> None:
    """3 submitted assignments (cat, cat, dog) on each of `hits` (emulator rows)."""
    from mturk_emulator import models as emulator
    from mturk_emulator.questions import answers_xml

    answers = [answers_xml({"answer": "cat"}), answers_xml({"answer": "cat"}), answers_xml({"answer": "dog"})]
    rows = []
    for hit in hits:
        for slot in range(3):
            rows.append(
                emulator.Assignment(
                    hit=hit,
                    worker_id=f"ABENCH{(hit.pk * 3 + slot) % workers}",
                    status="Submitted",
                    accept_time=posted + timedelta(minutes=20),
                    deadline=posted + timedelta(hours=2),
                    submit_time=posted + timedelta(minutes=25),
                    auto_approval_time=posted + timedelta(days=3),
                    answer=answers[slot],
                )
            )
    emulator.Assignment.objects.bulk_create(rows, batch_size=2000)


def raw_list_rate(account, hit_ids: list[str], calls: int, threads: int) -> float:
    """Plain boto3 ListAssignmentsForHIT calls per second, with `threads` callers at once."""
    from concurrent.futures import ThreadPoolExecutor

    from platforms import platform_for

    client = platform_for(account).client
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(
            pool.map(
                lambda hit_id: client.list_assignments_for_hit(HITId=hit_id, MaxResults=100), hit_ids[:calls]
            )
        )
    return calls / (time.perf_counter() - started)


def queries_per_hit(hit_pks: list[int]) -> list[int]:
    """Queries each HIT's review makes, one HIT at a time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hits.review.cycle import handle_hit

    counts = []
    for hit_pk in hit_pks:
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as queries:
            handle_hit(hit_pk)
        counts.append(len(queries))
    return counts


def first_look(
    busy_pks: list[int], sample: int, counter: CallCounter
) -> tuple[float, int, list[int], object]:
    """Review `sample` HITs with news alone (counting queries), then the first cycle (timed end to
    end, with every platform call it makes), in which every HIT is new to crowdhr and is listed."""
    from hits.review.cycle import review_active_hits

    queries = queries_per_hit(busy_pks[:sample])
    calls_before = counter.calls.total()
    started = time.perf_counter()
    report = review_active_hits()
    seconds = time.perf_counter() - started
    # every call the cycle made, as the time is the whole cycle's (its score syncs included)
    return seconds, counter.calls.total() - calls_before, queries, report


def steady_cycle(news: int, workers: int, counter: CallCounter) -> tuple[int, int, int, int, int, object]:
    """Another `news` HITs get 3 submissions each; one cycle: (its review calls, active HITs, HITs
    with news, decisions, score syncs, scores changed, report)."""
    from django.utils import timezone

    from hits.models import HIT
    from hits.review.cycle import review_active_hits
    from mturk_emulator import models as emulator
    from workers.models import WorkerQualification

    active = HIT.objects.to_review()
    quiet = list(active.filter(assignments_seen=0).order_by("pk").values_list("hit_id", flat=True)[:news])
    add_answers(
        list(emulator.HIT.objects.filter(hit_id__in=quiet)), workers, timezone.now() - timedelta(hours=1)
    )
    active_count = active.count()
    counter.calls.clear()
    since = timezone.now()
    report = review_active_hits()
    # scores whose value changed, or that a worker's first decision created (the platform has none)
    changed = WorkerQualification.objects.filter(updated__gte=since).count()
    calls = sum(n for op, n in counter.calls.items() if op in REVIEW_OPERATIONS)
    return calls, active_count, len(quiet), counter.calls[SYNC], changed, report


def verdict(target: str, ratio: float, met: bool, unit: str = "x") -> None:
    print(f"{target}: {ratio:.3f}{unit} {'met' if met else 'missed'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=2_000, help="active HITs, at least 100")
    parser.add_argument("--full", action="store_true", help="the issue's size: 10,000 active HITs")
    parser.add_argument("--news", type=float, default=1.0, help="percent of HITs with news per cycle")
    parser.add_argument(
        "--workers", type=int, default=1_000, help="simulated workers sharing the assignments"
    )
    parser.add_argument("--raw-calls", type=int, default=1_000)
    args = parser.parse_args()
    if args.full:
        args.hits = 10_000
    news = max(10, round(args.hits * args.news / 100))

    port = free_port()
    with scratch_environment("review"):
        os.environ["MTURK_EMULATOR_URL"] = f"http://127.0.0.1:{port}/emulator/mturk/"
        import django

        django.setup()
        counter = CallCounter()
        platform_log = logging.getLogger("crowdhr.platform")
        platform_log.addHandler(counter)
        platform_log.setLevel(logging.INFO)
        platform_log.propagate = False
        with gunicorn(port):
            print(f"seeding {args.hits} HITs, {news} of them with 3 submitted assignments ...", flush=True)
            account, hit_ids = seed(args.hits, news, args.workers)
            from django.conf import settings

            from hits.models import HIT

            threads = settings.REVIEW_THREADS
            calls = min(args.raw_calls, len(hit_ids))
            raw_before = raw_list_rate(account, hit_ids, calls, threads=threads)
            busy = list(
                HIT.objects.filter(hit_id__in=hit_ids[:news]).order_by("pk").values_list("pk", flat=True)
            )
            counter.calls.clear()
            seconds, timed_calls, queries, first = first_look(busy, sample=10, counter=counter)
            # measured on both sides of the timed cycle: the machine's load drifts (shared cores)
            raw_after = raw_list_rate(account, hit_ids, calls, threads=threads)
            raw = (raw_before + raw_after) / 2
            steady_calls, active, with_news, synced, changed, steady = steady_cycle(
                news, args.workers, counter
            )

    decisions = steady.approved + steady.rejected
    floor = with_news + decisions + math.ceil(active / 100)
    rate = timed_calls / seconds
    print(
        f"database: {os.environ.get('DATABASE_URL', 'SQLite')[:40]}; {args.hits} HITs, {args.workers} workers"
    )
    print(
        f"first look: {first.hits} HITs reviewed, {first.approved} approved, {first.rejected} rejected, "
        f"{len(first.errors)} errors; {rate:.0f} calls/s with {threads} threads, raw {raw:.0f} calls/s "
        f"({raw_before:.0f} before, {raw_after:.0f} after)"
    )
    print(
        f"steady cycle: {active} active HITs, {with_news} with news, {decisions} decisions, "
        f"{len(steady.errors)} errors; calls {dict(sorted(counter.calls.items()))}"
    )
    verdict(
        "review calls / floor (news + decisions + active/100) <= 1.05x",
        steady_calls / floor,
        steady_calls / floor <= 1.05,
    )
    verdict("queries per HIT with three decisions < 30", max(queries), max(queries) < 30, unit="")
    verdict("review throughput / raw listing at the same concurrency >= 0.5x", rate / raw, rate / raw >= 0.5)
    verdict("score sync calls / scores changed <= 1x", synced / max(changed, 1), synced <= changed)


if __name__ == "__main__":
    main()
