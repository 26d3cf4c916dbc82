"""Publishing a study at the platform's rate: 900 participants as 100 HITs of 9 on the local MTurk.

The local MTurk (gunicorn, one process so its token bucket is exact) limits each requester to
--rate requests per second with bursts of --burst, answering ThrottlingException above it as MTurk
does, and answers each call it takes after --latency-ms more (the network between a researcher and
Amazon; 0 for none; throttled answers come at once). crowdhr publishes the study (HIT rows first, then up to
PUBLISH_CONCURRENCY CreateHIT calls in flight, paced to the account's known rate limit, here the
local MTurk's: MTURK_RATE_LIMIT = (--rate, --burst); a throttled call goes again with the next
token); a plain serial boto3 create_hit loop posts the same HITs for comparison. Checks every HIT is on the platform
exactly once (one HIT per creation token, none lost) and prints:
- publish time / (HITs / rate limit): how close publishing comes to the platform's floor
  (target <= 1.1);
- crowdhr / serial boto3 loop (aim <= 0.5).

Usage: python bench/publish.py [--participants 900] [--rate 20] [--burst 10] [--latency-ms 100]
       [--concurrency PUBLISH_CONCURRENCY]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._server import free_port, gunicorn, scratch_environment

LANDING = "https://study.example.org/start"


def verdict(name: str, ratio: float, target: float, unit: str = "") -> str:
    return f"{name} <= {target}{unit}: {ratio:.2f}{unit} {'met' if ratio <= target else 'missed'}"


def limit_emulator(base: str, rate: float, burst: float, latency_ms: int) -> None:
    """Set the local MTurk's rate limit (every bucket starts full) and its latency."""
    import requests

    answer = requests.post(
        f"{base}/emulator/faults/",
        json={"rate_limit": {"per_second": rate, "burst": burst}, "latency_ms": latency_ms},
        timeout=10,
    )
    answer.raise_for_status()


def requester(name: str):
    """A researcher with a requester account of their own on the local MTurk."""
    from django.contrib.auth import get_user_model

    from mturk_emulator.testing import register_requester
    from platforms.models import PlatformAccount

    key, secret = f"AKIABENCH{name.upper()}", f"bench-secret-{name}"
    register_requester(key, secret)
    owner = get_user_model().objects.create_user(f"bench-{name}", is_staff=True)
    return PlatformAccount.objects.create(
        owner=owner, name="bench", environment="emulator", access_key_id=key, secret_access_key=secret
    )


def throttled_answers(client) -> list[int]:
    """A counter of the ThrottlingException answers `client` receives (each retried attempt)."""
    seen = [0]

    def count(response=None, **_) -> None:
        if response and response[1].get("Error", {}).get("Code") == "ThrottlingException":
            seen[0] += 1

    client.meta.events.register("needs-retry.mturk", count)
    return seen


def crowdhr_publish(account, participants: int):
    """crowdhr posts the study's HITs (as `outsourcer_create` does when a study is published)."""
    from hits import services
    from platforms import fees_for, platform_for

    throttled = throttled_answers(platform_for(account).client)
    started = time.perf_counter()
    outsourcer = services.outsourcer_create(
        owner=account.owner,
        account=account,
        task_type="otree_study",
        target="study",
        inputs={"url": LANDING},
        task_config={"experiment_id": 0},
        settings=services.HitSettings(
            title="A study", description="Take part.", reward=Decimal("0.10"), quality_threshold=None
        ),
        batch_sizes=fees_for(account).batch_sizes(participants),
    )
    return time.perf_counter() - started, outsourcer, throttled[0]


def serial_loop(account, participants: int, url: str) -> tuple[float, int]:
    """The same HITs posted by a plain boto3 client, one create_hit after another."""
    import boto3

    from platforms import ExternalPage, fees_for
    from platforms.mturk import question_xml

    client = boto3.client(
        "mturk",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=account.access_key_id,
        aws_secret_access_key=account.secret_access_key,
    )
    throttled = throttled_answers(client)
    question = question_xml(ExternalPage(LANDING))
    started = time.perf_counter()
    for number, size in enumerate(fees_for(account).batch_sizes(participants), start=1):
        client.create_hit(
            Title="A study",
            Description="Take part.",
            Reward="0.10",
            MaxAssignments=size,
            LifetimeInSeconds=7 * 24 * 3600,
            AssignmentDurationInSeconds=3600,
            AutoApprovalDelayInSeconds=3 * 24 * 3600,
            Question=question,
            UniqueRequestToken=f"serial-{number}",
        )
    return time.perf_counter() - started, throttled[0]


def exactly_once(outsourcer, hits_wanted: int) -> list[str]:
    """Problems: HIT rows not live, or the platform holding other than one HIT per row."""
    from mturk_emulator.models import HIT as PostedHIT

    rows = list(outsourcer.hits.all())
    posted = PostedHIT.objects.filter(account__access_key_id=outsourcer.account.access_key_id)
    problems = [f"HIT row {row.batch_number} is {row.status}" for row in rows if row.status != "live"]
    if len(rows) != hits_wanted:
        problems.append(f"{len(rows)} HIT rows for {hits_wanted} HITs")
    if sorted(posted.values_list("hit_id", flat=True)) != sorted(row.hit_id for row in rows):
        problems.append(f"the platform holds {posted.count()} HITs for {len(rows)} rows")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=900)
    parser.add_argument("--full", action="store_true", help="the issue's size, the default here too")
    parser.add_argument("--rate", type=float, default=20, help="requests per second per requester")
    parser.add_argument("--burst", type=float, default=10)
    parser.add_argument("--latency-ms", type=int, default=100, help="added to every answer")
    parser.add_argument("--threads", type=int, default=16, help="the local MTurk's gunicorn threads")
    parser.add_argument(
        "--concurrency", type=int, help="crowdhr's PUBLISH_CONCURRENCY (default: the setting)"
    )
    args = parser.parse_args()
    port = free_port()
    with scratch_environment("publish"):
        url = f"http://127.0.0.1:{port}/emulator/mturk/"
        os.environ["MTURK_EMULATOR_URL"] = url
        import django

        django.setup()
        from django.conf import settings

        from platforms import fees_for

        settings.PUBLISH_CONCURRENCY = args.concurrency or getattr(settings, "PUBLISH_CONCURRENCY", 16)
        settings.MTURK_RATE_LIMIT = (args.rate, args.burst)  # the account's rate is the local MTurk's
        emulator_env = {"DJANGO_SETTINGS_MODULE": "bench._settings", "LOG_LEVEL": "ERROR"}
        with gunicorn(port, workers=1, threads=args.threads, env=emulator_env) as base:
            ours, theirs = requester("crowdhr"), requester("serial")
            hits = len(fees_for(ours).batch_sizes(args.participants))
            limit_emulator(base, args.rate, args.burst, args.latency_ms)
            serial_seconds, serial_throttled = serial_loop(theirs, args.participants, url)
            limit_emulator(base, args.rate, args.burst, args.latency_ms)
            seconds, outsourcer, throttled = crowdhr_publish(ours, args.participants)
            problems = exactly_once(outsourcer, hits)
    database = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    floor = hits / args.rate
    print(
        f"publish: {args.participants} participants as {hits} HITs; local MTurk limited to {args.rate:g} "
        f"requests/s (burst {args.burst:g}), +{args.latency_ms} ms per answer, gunicorn 1 worker x "
        f"{args.threads} threads; {database}; {os.cpu_count()} cores"
    )
    print(
        f"crowdhr ({settings.PUBLISH_CONCURRENCY} calls in flight, paced): {seconds:.2f} s, "
        f"{throttled} throttled answers retried; the rate's floor {floor:.2f} s"
    )
    print(
        f"serial boto3 create_hit loop: {serial_seconds:.2f} s, {serial_throttled} throttled answers retried"
    )
    print(verdict("publish time / (HITs / rate limit)", seconds / floor, 1.1))
    print(verdict("crowdhr / serial boto3 loop", seconds / serial_seconds, 0.5, "x"))
    for problem in problems[:20]:
        print("PROBLEM", problem)
    print(
        f"every HIT on the platform exactly once ({hits} tokens)"
        if not problems
        else f"{len(problems)} problems"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
