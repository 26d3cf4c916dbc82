"""The landing-and-redirect path of an oTree study under a burst of workers arriving at once.

Publishes a study's HITs on the local MTurk (its own gunicorn), has N workers (default 256)
accept, then N threads land on crowdhr (gunicorn; PostgreSQL when DATABASE_URL is set, else
SQLite) at the same moment and follow the landing page's way into oTree (the 302 to the
session-wide link; oTree itself is not contacted: landing makes no oTree call). Prints
throughput and p50/p99 latency for first landings, for the same workers coming back, and for
a race of several tabs per worker; checks every worker got exactly one participant place,
labelled with their own id. Target: p99 under 100 ms.

Usage: python bench/landing_burst.py [--workers 256] [--tabs 4]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._server import free_port, gunicorn, scratch_environment

SESSION_WIDE_URL = "http://127.0.0.1:9/join/benchmark"  # never fetched: the 302 is the end of the path
GO_LINK = re.compile(r'id="crowdhr-start"[^>]*href="([^"]+)"')


def publish(name: str, workers: int, emulator_url: str):
    """A published study (its oTree session stands in for one made at publish time) and accepted HITs."""
    from django.contrib.auth import get_user_model

    from experiments.models import Experiment, OtreeSite
    from experiments.services import landing_url
    from hits import services as hit_services
    from mturk_emulator import workers as marketplace
    from mturk_emulator.testing import register_requester
    from platforms import fees_for
    from platforms.models import PlatformAccount

    owner = get_user_model().objects.create_user(f"bench-{name}", is_staff=True)
    register_requester("AKIABENCH", "bench-secret")
    account = PlatformAccount.objects.create(
        owner=owner,
        name="bench",
        environment="emulator",
        access_key_id="AKIABENCH",
        secret_access_key="bench-secret",
    )
    site = OtreeSite.objects.create(owner=owner, name="bench", url="http://127.0.0.1:9", rest_key="k")
    study = Experiment.objects.create(
        owner=owner,
        account=account,
        name="burst",
        kind=Experiment.Kind.OTREE,
        title="Burst",
        description="Arrive at once.",
        reward=Decimal("0.10"),
        otree_site=site,
        session_config_name="effort",
        num_participants=workers,
        otree_session_code="bench",
        otree_session_wide_url=SESSION_WIDE_URL,
    )
    outsourcer = hit_services.outsourcer_create(
        owner=owner,
        account=account,
        task_type="otree_study",
        target=study.outsourcer_target,
        inputs={"url": landing_url(study)},
        task_config={"experiment_id": study.pk},
        settings=hit_services.HitSettings(
            title="Burst", description="Arrive at once.", reward=Decimal("0.10"), quality_threshold=None
        ),
        experiment=study,
        batch_sizes=fees_for(account).batch_sizes(workers),
    )
    hits = list(outsourcer.hits.order_by("batch_number"))
    arrivals = []
    for number in range(workers):
        hit = hits[number // 9]
        worker_id = f"A{name.upper()}{number:05d}"
        arrivals.append((worker_id, hit.hit_id, marketplace.accept(hit.hit_id, worker_id)))
    return study, arrivals, emulator_url.removesuffix("/mturk/")


def arrive(http, base: str, study_pk: int, submit_to: str, worker_id: str, hit_id: str, assignment_id: str):
    """One worker: the landing page, then its way into oTree. Seconds taken and where it led."""
    query = urlencode(
        {"assignmentId": assignment_id, "hitId": hit_id, "workerId": worker_id, "turkSubmitTo": submit_to}
    )
    started = time.perf_counter()
    landing = http.get(f"{base}/study/{study_pk}/?{query}", timeout=60)
    match = GO_LINK.search(landing.text)
    if landing.status_code != 200 or not match:
        return time.perf_counter() - started, f"landing answered {landing.status_code}"
    redirect = http.get(base + match.group(1), allow_redirects=False, timeout=60)
    return time.perf_counter() - started, redirect.headers.get(
        "Location", f"go answered {redirect.status_code}"
    )


def burst(base: str, study_pk: int, submit_to: str, arrivals: list[tuple[str, str, str]]):
    """Everyone in `arrivals` at the same moment (a barrier), one thread and connection each."""
    import requests

    gate = threading.Barrier(len(arrivals))

    def one(arrival):
        http = requests.Session()
        gate.wait()
        return arrival[0], *arrive(http, base, study_pk, submit_to, *arrival)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(arrivals)) as pool:
        results = list(pool.map(one, arrivals))
    return results, time.perf_counter() - started


def one_at_a_time(base: str, study_pk: int, submit_to: str, arrivals: list[tuple[str, str, str]]):
    """The same path without a queue: what one worker waits when nobody else arrives."""
    import requests

    http = requests.Session()
    started = time.perf_counter()
    results = [(arrival[0], *arrive(http, base, study_pk, submit_to, *arrival)) for arrival in arrivals]
    return results, time.perf_counter() - started


def report(name: str, results, elapsed: float) -> list[str]:
    seconds = sorted(r[1] for r in results)
    p50 = statistics.median(seconds) * 1000
    p99 = seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))] * 1000
    print(
        f"{name:<28} {len(results):>5} workers  {len(results) / elapsed:7.1f} workers/s  "
        f"p50 {p50:7.1f} ms  p99 {p99:7.1f} ms"
    )
    print(f"{name} p99 <= 100 ms: {p99:.1f} ms {'met' if p99 <= 100 else 'missed'}")
    return [
        f"{worker}: {where}"
        for worker, _, where in results
        if where != f"{SESSION_WIDE_URL}?participant_label={worker}"
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=256)
    parser.add_argument("--tabs", type=int, default=4, help="tabs per worker in the race round")
    args = parser.parse_args()
    crowdhr_port, emulator_port = free_port(), free_port()
    with scratch_environment("landing"):
        emulator_url = f"http://127.0.0.1:{emulator_port}/emulator/mturk/"
        os.environ["MTURK_EMULATOR_URL"] = emulator_url
        import django

        django.setup()
        database = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
        with gunicorn(emulator_port), gunicorn(crowdhr_port, workers=2, threads=16) as base:
            study, arrivals, submit_to = publish("burst", args.workers, emulator_url)
            load = os.getloadavg()[0]
            print(
                f"landing burst: gunicorn 2 workers x 16 threads, {database}, {os.cpu_count()} cores "
                f"(load average {load:.1f} before the burst; the clients run on the same cores)"
            )
            problems = report("first landing", *burst(base, study.pk, submit_to, arrivals))
            problems += report("coming back", *burst(base, study.pk, submit_to, arrivals))
            problems += report(
                "coming back, one at a time", *one_at_a_time(base, study.pk, submit_to, arrivals)
            )
            racing, racers, _ = publish("race", args.workers // args.tabs, emulator_url)
            tabs = [arrival for arrival in racers for _ in range(args.tabs)]
            problems += report(f"race, {args.tabs} tabs per worker", *burst(base, racing.pk, submit_to, tabs))
        problems += check_places(study.pk, args.workers) + check_places(racing.pk, len(racers))
    for problem in problems[:20]:
        print("PROBLEM", problem)
    print("every worker got exactly one participant place" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


def check_places(study_pk: int, workers: int) -> list[str]:
    from django.db.models import Count

    from experiments.models import Participant

    places = Participant.objects.filter(experiment_id=study_pk)
    doubled = list(places.values("worker_id").annotate(n=Count("pk")).filter(n__gt=1))
    problems = [f"{row['worker_id']} has {row['n']} places" for row in doubled]
    if places.count() != workers:
        problems.append(f"study {study_pk}: {places.count()} places for {workers} workers")
    return problems


if __name__ == "__main__":
    sys.exit(main())
