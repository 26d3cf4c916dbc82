"""The landing-and-redirect path of an oTree study under a burst of workers arriving at once.

Publishes a study's HITs on the local MTurk (its own gunicorn), has N workers (default 256)
accept, then N threads land on crowdhr (gunicorn; PostgreSQL when DATABASE_URL is set, else
SQLite) at the same moment and follow the landing's way into oTree (one 302 to the session-wide
link; oTree itself is not contacted: landing makes no oTree call). The same gunicorn also serves a
baseline (`bench._baseline`: what a bare redirector does, one get_or_create and a 302) to the same
workers. Prints arrivals/s, p50/p99 and CPU milliseconds per arrival (web, database, platform) for
first landings (at once, and one at a time), the same workers coming back (at once, and one at a
time), and a race of several tabs per worker, each against
the baseline, after an unmeasured burst on another study (`warm_up`); checks every worker got
exactly one participant place, labelled with their own id.
Targets: crowdhr >= 1.0x the baseline's arrivals/s; one at a time, p99 under 50 ms.

Usage: python bench/landing_burst.py [--workers 256] [--tabs 4]
"""

from __future__ import annotations

import argparse
import contextlib
import os
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


def publish(name: str, workers: int, emulator_url: str):
    """A published study (its oTree session stands in for one made at publish time) and accepted HITs."""
    from django.contrib.auth import get_user_model

    from bench._baseline import SESSION_WIDE_URL
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
    """One worker's way into oTree: the landing's 302. Seconds taken, where it led, and how many
    requests it took."""
    query = urlencode(
        {"assignmentId": assignment_id, "hitId": hit_id, "workerId": worker_id, "turkSubmitTo": submit_to}
    )
    started = time.perf_counter()
    landing = http.get(f"{base}/study/{study_pk}/?{query}", allow_redirects=False, timeout=60)
    where = landing.headers.get("Location", f"landing answered {landing.status_code}")
    return time.perf_counter() - started, where, 1


def arrive_bare(
    http, base: str, study_pk: int, submit_to: str, worker_id: str, hit_id: str, assignment_id: str
):
    """The baseline's way: the same link, one get_or_create, a 302."""
    query = urlencode(
        {"assignmentId": assignment_id, "hitId": hit_id, "workerId": worker_id, "turkSubmitTo": submit_to}
    )
    started = time.perf_counter()
    landing = http.get(f"{base}/baseline/{study_pk}/?{query}", allow_redirects=False, timeout=60)
    return (
        time.perf_counter() - started,
        landing.headers.get("Location", f"answered {landing.status_code}"),
        1,
    )


BROWSERS: dict[tuple[str, int], object] = {}


def browser(worker_id: str, tab: int = 0):
    """A worker's browser (its cookies), the same one each time the worker comes back. Asked for at
    the start of a round, it drops the connections of the last round (the server closed them)."""
    import requests

    session = BROWSERS.setdefault((worker_id, tab), requests.Session())
    session.close()
    return session


def burst(way, base: str, study_pk: int, submit_to: str, arrivals: list[tuple[str, str, str]]):
    """Everyone in `arrivals` at the same moment (a barrier), one thread each; the same worker's
    arrivals in one round are tabs of separate browsers racing for the place."""
    gate = threading.Barrier(len(arrivals))
    tabs = [browser(arrival[0], arrivals[:n].count(arrival)) for n, arrival in enumerate(arrivals)]

    def one(arrival, http):
        gate.wait()
        return arrival[0], *way(http, base, study_pk, submit_to, *arrival)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(arrivals)) as pool:
        results = list(pool.map(one, arrivals, tabs))
    return results, time.perf_counter() - started


def one_at_a_time(way, base: str, study_pk: int, submit_to: str, arrivals: list[tuple[str, str, str]]):
    """The same path without a queue: what one worker waits when nobody else arrives."""
    started = time.perf_counter()
    results = [
        (arrival[0], *way(browser(arrival[0]), base, study_pk, submit_to, *arrival)) for arrival in arrivals
    ]
    return results, time.perf_counter() - started


# --- CPU spent, read from /proc: the web server's processes, the database's, the platform's ----------
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu(pid: int) -> float:
    """CPU seconds of a process and its reaped children (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / TICKS


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for child in _children(pid):
        pids += _tree(child)
    return pids


def gunicorn_pid(port: int) -> int | None:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            words = cmdline.read_bytes().split(b"\0")
            if b"gunicorn" in b" ".join(words) and f"127.0.0.1:{port}".encode() in words:
                pid = int(cmdline.parent.name)
                parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
                if f"127.0.0.1:{port}".encode() not in Path(f"/proc/{parent}/cmdline").read_bytes():
                    return pid
    return None


def database_pids(name: str) -> list[int]:
    """The PostgreSQL backends serving the scratch database `name` (SQLite runs inside the web's)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            text = cmdline.read_bytes()
            if text.startswith(b"postgres:") and f" {name} ".encode() in text:
                pids.append(int(cmdline.parent.name))
    return pids


class CpuMeter:
    """CPU seconds spent by the web server, the database and the platform during one round."""

    def __init__(self, web_port: int, platform_port: int, database: str) -> None:
        self.web, self.platform, self.database = gunicorn_pid(web_port), gunicorn_pid(platform_port), database

    def snapshot(self) -> dict[str, dict[int, float]]:
        return {
            "web": {pid: _cpu(pid) for pid in _tree(self.web)} if self.web else {},
            "database": {pid: _cpu(pid) for pid in database_pids(self.database)} if self.database else {},
            "platform": {pid: _cpu(pid) for pid in _tree(self.platform)} if self.platform else {},
        }

    @staticmethod
    def spent(before, after) -> dict[str, float]:
        return {part: sum(v - before[part].get(pid, 0.0) for pid, v in after[part].items()) for part in after}


def report(name: str, results, elapsed: float, cpu: dict[str, float]) -> dict[str, float]:
    seconds = sorted(r[1] for r in results)
    p50 = statistics.median(seconds) * 1000
    p99 = seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))] * 1000
    requests_each = sum(r[3] for r in results) / len(results)
    per = {part: spent * 1000 / len(results) for part, spent in cpu.items()}
    print(
        f"{name:<38} {len(results):>5} arrivals {len(results) / elapsed:7.1f}/s  "
        f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  {requests_each:.1f} req  CPU ms/arrival: "
        f"web {per['web']:.1f}, database {per['database']:.1f}, platform {per['platform']:.1f}"
    )
    return {"rate": len(results) / elapsed, "p99": p99}


def problems_in(results, *, race: bool) -> list[str]:
    """Each worker led into oTree under their own label; in a race of separate browsers crowdhr
    leads exactly one tab in and tells the others the place is open elsewhere (403) or to wait."""
    from bench._baseline import SESSION_WIDE_URL

    went_in: dict[str, int] = {}
    problems = []
    for worker, _, where, _ in results:
        if where == f"{SESSION_WIDE_URL}?participant_label={worker}":
            went_in[worker] = went_in.get(worker, 0) + 1
        elif not (race and where in ("landing answered 403", "landing answered 200")):  # elsewhere, wait
            problems.append(f"{worker}: {where}")
    if race:
        problems += [f"{worker}: {n} tabs went in" for worker, n in went_in.items() if n != 1]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=256)
    parser.add_argument("--tabs", type=int, default=4, help="tabs per worker in the race round")
    parser.add_argument("--full", action="store_true", help="the issue's sizes (the defaults)")
    args = parser.parse_args()
    crowdhr_port, emulator_port = free_port(), free_port()
    with scratch_environment("landing") as env:
        emulator_url = f"http://127.0.0.1:{emulator_port}/emulator/mturk/"
        os.environ["MTURK_EMULATOR_URL"] = emulator_url
        import django

        django.setup()
        postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
        database_name = env["DATABASE_URL"].rsplit("/", 1)[1] if postgres else ""
        web_env = {"DJANGO_SETTINGS_MODULE": "bench._baseline_settings", "LOG_LEVEL": "ERROR"}
        with gunicorn(emulator_port), gunicorn(crowdhr_port, workers=2, threads=16, env=web_env) as base:
            meter = CpuMeter(crowdhr_port, emulator_port, database_name)
            study, arrivals, submit_to = publish("burst", args.workers, emulator_url)
            racing, racers, _ = publish("race", args.workers // args.tabs, emulator_url)
            solo, soloists, _ = publish("solo", args.workers // 4, emulator_url)
            bare, bare_racing = copy_study(study, "bare"), copy_study(racing, "bare race")
            bare_solo = copy_study(solo, "bare solo")
            tabs = [arrival for arrival in racers for _ in range(args.tabs)]
            warm_up(base, submit_to, args.workers // 4, emulator_url)
            print(
                f"landing burst: gunicorn 2 workers x 16 threads, {'PostgreSQL' if postgres else 'SQLite'}, "
                f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} before; the clients run on "
                f"the same cores){'' if postgres else '; SQLite works inside the web processes'}"
            )
            rounds = [
                ("first landing", burst, study, bare, arrivals),
                ("first landing, one at a time", one_at_a_time, solo, bare_solo, soloists),
                ("coming back", burst, study, bare, arrivals),
                ("coming back, one at a time", one_at_a_time, study, bare, arrivals),
                (f"race, {args.tabs} tabs per worker", burst, racing, bare_racing, tabs),
            ]
            problems, lines = [], []
            for name, how, ours, theirs, who in rounds:
                figures = {}
                for label, way, pk in (("baseline", arrive_bare, theirs.pk), ("crowdhr", arrive, ours.pk)):
                    before = meter.snapshot()
                    results, elapsed = how(way, base, pk, submit_to, who)
                    figures[label] = report(
                        f"{name} ({label})", results, elapsed, meter.spent(before, meter.snapshot())
                    )
                    problems += problems_in(results, race=label == "crowdhr" and name.startswith("race"))
                ratio = figures["crowdhr"]["rate"] / figures["baseline"]["rate"]
                lines.append(
                    f"{name}, crowdhr / baseline arrivals/s >= 1.0x: {ratio:.2f}x {'met' if ratio >= 1 else 'missed'}"
                )
                if how is one_at_a_time:
                    p99 = figures["crowdhr"]["p99"]
                    lines.append(
                        f"{name}, crowdhr p99 < 50 ms: {p99:.1f} ms {'met' if p99 < 50 else 'missed'}"
                    )
            print(*lines, sep="\n")
        problems += check_places(study.pk, args.workers) + check_places(racing.pk, len(racers))
        problems += check_places(bare.pk, args.workers) + check_places(bare_racing.pk, len(racers))
        problems += check_places(solo.pk, len(soloists)) + check_places(bare_solo.pk, len(soloists))
    for problem in problems[:20]:
        print("PROBLEM", problem)
    print("every worker got exactly one participant place" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


def warm_up(base: str, submit_to: str, workers: int, emulator_url: str) -> None:
    """A burst on another study for each way first, unmeasured: every server thread has opened its
    database connection (and prepared what it prepares) before the rounds, as in a server that has
    been up for a while. What is new per study (its reads, the platform's count) stays measured."""
    study, arrivals, _ = publish("warm", workers, emulator_url)
    bare = copy_study(study, "bare warm")
    for way, pk in ((arrive_bare, bare.pk), (arrive, study.pk)):
        burst(way, base, pk, submit_to, arrivals)


def copy_study(study, name: str):
    """An unpublished copy of `study` for the baseline's rows (the baseline looks nothing up)."""
    from experiments.models import Experiment

    return Experiment.objects.create(
        owner=study.owner,
        account=study.account,
        name=name,
        kind=study.kind,
        title=study.title,
        otree_site=study.otree_site,
        num_participants=study.num_participants,
    )


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
