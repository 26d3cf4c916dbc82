"""How efficiently one review cycle works through a backlog of submitted assignments.

Seeds N active HITs (default 10,000) with 3 submitted assignments each in the local MTurk
(served by gunicorn), then prints:
- platform calls the review made versus the minimum needed (one ListAssignmentsForHIT per
  HIT with news plus one decision per assignment); money and qualification upkeep that the
  decisions trigger (achievement bonuses, qualification score syncs) is listed separately;
- database queries per HIT, for the first and the last HITs reviewed (constant = no N+1);
- review throughput (platform calls per second) as a ratio to raw boto3
  ListAssignmentsForHIT calls per second against the same emulator.

Targets: calls <= 1.05x the minimum, constant queries per HIT, throughput >= 0.5x raw.
Usage: python bench/review_cycle.py [--hits 1000 | --full (10,000 HITs)] [--workers 1000]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._server import free_port, gunicorn, scratch_environment

REVIEW_OPERATIONS = {"ListAssignmentsForHIT", "ApproveAssignment", "RejectAssignment"}


class CallCounter(logging.Handler):
    """Counts crowdhr's platform calls by operation from its structured log lines."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "platform call":
            self.calls[record.operation] += 1


def seed(hits: int, workers: int) -> tuple[object, list[str]]:
    """Post one HIT through the API, clone it N times in the emulator's tables, add 3 answers each."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from hits.models import HIT, Outsourcer
    from hits.task_types import get_task_type
    from mturk_emulator import models as emulator
    from mturk_emulator.questions import answers_xml
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
    answers = [answers_xml({"answer": "cat"}), answers_xml({"answer": "cat"}), answers_xml({"answer": "dog"})]
    rows = []
    for number, hit in enumerate(clone_rows):
        for slot in range(3):
            rows.append(
                emulator.Assignment(
                    hit=hit,
                    worker_id=f"ABENCH{(number * 3 + slot) % workers}",
                    status="Submitted",
                    accept_time=posted + timedelta(minutes=20),
                    deadline=posted + timedelta(hours=2),
                    submit_time=posted + timedelta(minutes=25),
                    auto_approval_time=posted + timedelta(days=3),
                    answer=answers[slot],
                )
            )
    emulator.Assignment.objects.bulk_create(rows, batch_size=2000)
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


def review(sample: int, counter: CallCounter) -> tuple[float, int, list[int], list[int], object]:
    """Review the first `sample` HITs alone (counting queries), the bulk as the review cycle does
    (timed), then the last `sample` HITs alone again, when the database is full."""
    from hits.models import HIT
    from hits.review.cycle import review_active_hits

    ids = list(HIT.objects.to_review().order_by("pk").values_list("pk", flat=True))
    first = queries_per_hit(ids[:sample])
    calls_before = sum(counter.calls[op] for op in REVIEW_OPERATIONS)
    started = time.perf_counter()
    report = review_active_hits(limit=len(ids) - 2 * sample)
    seconds = time.perf_counter() - started
    timed_calls = sum(counter.calls[op] for op in REVIEW_OPERATIONS) - calls_before
    last = queries_per_hit(ids[-sample:])
    return seconds, timed_calls, first, last, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=1_000, help="at least 100")
    parser.add_argument("--full", action="store_true", help="the issue's size: 10,000 HITs")
    parser.add_argument(
        "--workers", type=int, default=1_000, help="simulated workers sharing the assignments"
    )
    parser.add_argument("--raw-calls", type=int, default=1_000)
    args = parser.parse_args()
    if args.full:
        args.hits = 10_000

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
            print(f"seeding {args.hits} HITs x 3 submitted assignments ...", flush=True)
            account, hit_ids = seed(args.hits, args.workers)
            from django.conf import settings

            threads = settings.REVIEW_THREADS
            calls = min(args.raw_calls, len(hit_ids))
            raw_one = raw_list_rate(account, hit_ids, calls, threads=1)
            raw = raw_list_rate(account, hit_ids, calls, threads=threads)
            counter.calls.clear()
            seconds, timed_calls, first, last, report = review(sample=20, counter=counter)
            reviewed = report.hits
            from workers import scoring

            upkeep_started = time.perf_counter()
            synced = scoring.sync_qualifications(limit=10**9)
            upkeep_seconds = time.perf_counter() - upkeep_started

    review_calls = sum(n for op, n in counter.calls.items() if op in REVIEW_OPERATIONS)
    minimum = args.hits + args.hits * 3
    other = {op: n for op, n in counter.calls.items() if op not in REVIEW_OPERATIONS}
    rate = timed_calls / seconds
    print(
        f"database: {os.environ.get('DATABASE_URL', 'SQLite')[:40]}; {args.hits} HITs, {args.workers} workers"
    )
    print(f"decided: {report.approved} approved, {report.rejected} rejected, {len(report.errors)} errors")
    print(f"review platform calls: {review_calls} (minimum {minimum})")
    print(
        f"  by operation: {dict(sorted((op, n) for op, n in counter.calls.items() if op in REVIEW_OPERATIONS))}"
    )
    print(
        f"upkeep calls triggered by the decisions (not review overhead): {other}; {synced} scores synced "
        f"in {upkeep_seconds:.1f}s"
    )
    print(f"queries per HIT: first {min(first)}-{max(first)}, last {min(last)}-{max(last)}")
    print(
        f"raw ListAssignmentsForHIT: {raw_one:.0f} calls/s from one caller, {raw:.0f} calls/s from {threads}"
    )
    print(f"review cycle ({threads} threads): {rate:.0f} calls/s, {reviewed / seconds:.1f} HITs/s")
    calls_ratio, constant = review_calls / minimum, max(last) <= max(first)  # no more as the tables fill
    print(f"review calls / minimum <= 1.05x: {calls_ratio:.3f}x {'met' if calls_ratio <= 1.05 else 'missed'}")
    print(
        f"queries per HIT, last / first (constant): {max(last)}/{max(first)} {'met' if constant else 'missed'}"
    )
    print(
        f"review throughput / raw at the same concurrency >= 0.5x: {rate / raw:.2f}x "
        f"{'met' if rate / raw >= 0.5 else 'missed'}"
    )


if __name__ == "__main__":
    main()
