"""How the researcher's change lists scale: HITs, Assignments and Workers at 100 and at 100,000 rows.

Seeds a scratch database (SQLite, or PostgreSQL when DATABASE_URL says so) with rows owned by one
researcher, then renders each change list as that researcher through the test client and prints:
- SQL queries per page at both sizes (target: the same number: no N+1, no per-row queries);
- median render time, and its ratio to a stock `ModelAdmin` for the same model on the same rows
  (target: within 1.5x);
each size both before and after ANALYZE (fresh rows without statistics, then with them).

Usage: python bench/admin_pages.py [--rows 10000 | --full (100,000 rows)] [--repeat 11]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
import types
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._server import scratch_environment

BATCH = 5000


def seed(owner, start: int, stop: int) -> None:
    """Rows start..stop-1: one Outsourcer, HIT, Worker, Assignment and approval Payment each."""
    from django.utils import timezone

    from hits.models import HIT, Assignment, Outsourcer, Payment
    from platforms.models import PlatformAccount
    from workers.models import Worker

    account, _ = PlatformAccount.objects.get_or_create(
        owner=owner, name="bench", defaults={"environment": "sandbox"}
    )
    now = timezone.now()
    for low in range(start, stop, BATCH):
        numbers = range(low, min(stop, low + BATCH))
        outsourcers = Outsourcer.objects.bulk_create(
            Outsourcer(owner=owner, account=account, target=f"item-{n}", task_type="categorical")
            for n in numbers
        )
        hits = HIT.objects.bulk_create(
            HIT(
                outsourcer=o, owner=owner, hit_id=f"H{n:09d}", environment="sandbox", status="live", creation_token=f"t{n}",
                title=f"Name the animal {n}", description="d", reward=Decimal("0.10"), max_assignments=3,
                question="<q/>",
            )
            for n, o in zip(numbers, outsourcers, strict=True)
        )  # fmt: skip
        workers = Worker.objects.bulk_create(Worker(worker_id=f"AW{n:09d}") for n in numbers)
        assignments = Assignment.objects.bulk_create(
            Assignment(
                hit=h, owner=owner, assignment_id=f"A{n:09d}", worker=w, platform_status="Approved", decision="approved",
                accept_time=now, submit_time=now, answers={"answer": "cat"},
            )
            for n, h, w in zip(numbers, hits, workers, strict=True)
        )  # fmt: skip
        Payment.objects.bulk_create(
            Payment(
                account=account, owner=owner, worker=w, assignment=a, kind="approval", key=f"approval:{a.assignment_id}",
                token=f"tok{n}", amount=Decimal("0.10"), fee=Decimal("0.02"), status="done",
            )
            for n, w, a in zip(numbers, workers, assignments, strict=True)
        )  # fmt: skip


def stock_urls():
    """A URLconf with crowdhr's admin plus a stock ModelAdmin site for the same three models."""
    from django.contrib import admin
    from django.urls import path

    from hits.models import HIT, Assignment
    from workers.models import Worker

    class StockAdmin(admin.ModelAdmin):
        change_list_template = "admin/change_list.html"  # Django's own, not crowdhr's per-model one

    stock = admin.AdminSite(name="stock")  # Django's defaults: one __str__ column, no filters
    alike = admin.AdminSite(name="alike")  # as many plain columns and filters as crowdhr's page
    for model in (HIT, Assignment, Worker):
        stock.register(model, StockAdmin)
        ours = admin.site.get_model_admin(model)
        columns = alike_columns(model, list(ours.list_display))
        filters = [f for f in ours.list_filter if isinstance(f, str) and "__" not in f]
        alike.register(
            model, type("AlikeAdmin", (StockAdmin,), {"list_display": columns, "list_filter": filters})
        )
    module = types.ModuleType("bench_admin_urls")
    module.urlpatterns = [
        path("admin/", admin.site.urls),
        path("stock/", stock.urls),
        path("alike/", alike.urls),
    ]
    sys.modules[module.__name__] = module
    return module.__name__


def alike_columns(model, ours: list[str]) -> list[str]:
    """crowdhr's columns where they are plain fields; each computed one replaced by another plain field."""
    names = {f.name for f in model._meta.concrete_fields if not f.is_relation}
    spare = itertools.cycle(
        [name for name in sorted(names) if name not in ours and name != "id"] or sorted(names)
    )
    return [column if column in names else next(spare) for column in ours]


def measure(pages: list[tuple[Any, str]], repeat: int) -> list[tuple[int, float]]:
    """(queries, median seconds) for rendering each (client, url) page, the pages taking turns.

    Each round renders every page once, starting from a different page each round, so load from
    elsewhere on the machine (other benchmarks) falls on all the pages compared alike instead of on
    whichever page happened to be measured at the time.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for client, url in pages:
        client.get(url)  # warm caches (templates, permissions)
    times: list[list[float]] = [[] for _ in pages]
    queries = [0] * len(pages)
    for round_number in range(repeat):
        for turn in range(len(pages)):
            index = (round_number + turn) % len(pages)
            client, url = pages[index]
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - started
            assert response.status_code == 200, (url, response.status_code)
            times[index].append(elapsed)
            queries[index] = len(captured)
    return [(count, statistics.median(seconds)) for count, seconds in zip(queries, times, strict=True)]


def analyze() -> None:
    """Give the planner statistics for the rows just seeded."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--full", action="store_true", help="the issue's size: 100,000 rows")
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    if args.full:
        args.rows = 100_000
    with scratch_environment("admin-pages"):
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.test import Client, override_settings

        from crowdhr.researchers import researchers_group

        owner = get_user_model().objects.create_user("bench", password="bench-password-1", is_staff=True)
        owner.groups.add(researchers_group())
        superuser = get_user_model().objects.create_superuser("root", password="root-password-1")
        pages = {"HIT": "hits/hit/", "Assignment": "hits/assignment/", "Worker": "workers/worker/"}
        results: dict[tuple[str, int, str], tuple[int, float, int, float, int, float]] = {}
        with override_settings(ROOT_URLCONF=stock_urls(), ALLOWED_HOSTS=["testserver"]):
            researcher, stock = Client(), Client()
            researcher.force_login(owner)
            stock.force_login(
                superuser
            )  # the stock site has no researcher scoping: the superuser sees the same rows
            seeded = 0
            for size in (100, args.rows):
                started = time.perf_counter()
                seed(owner, seeded, size)
                seeded = size
                print(f"seeded {size:,} rows of each in {time.perf_counter() - started:.1f} s", flush=True)
                for phase in ("before", "after"):
                    if phase == "after":
                        analyze()
                    for name, page in pages.items():
                        ours, theirs, alike = measure(
                            [
                                (researcher, f"/admin/{page}"),
                                (stock, f"/stock/{page}"),
                                (stock, f"/alike/{page}"),
                            ],
                            args.repeat,
                        )
                        results[(name, size, phase)] = (*ours, *theirs, *alike)
        report(results, pages, args.rows)


def report(results: dict, pages: dict, rows: int) -> None:
    print()
    print(
        f"{'change list':<12}{'rows':>9}{'ANALYZE':>8}{'queries':>9}{'ms':>8}{'stock q':>9}{'stock ms':>10}{'ratio':>7}"
        f"{'alike q':>9}{'alike ms':>10}{'ratio':>7}"
    )
    for (name, size, phase), (queries, seconds, sq, ss, aq, alike) in results.items():
        print(
            f"{name:<12}{size:>9,}{phase:>8}{queries:>9}{seconds * 1000:>8.1f}{sq:>9}{ss * 1000:>10.1f}"
            f"{seconds / ss:>6.2f}x{aq:>9}{alike * 1000:>10.1f}{seconds / alike:>6.2f}x"
        )
    print()
    print("stock: Django's default ModelAdmin (one __str__ column, no filters);")
    print("alike: a stock ModelAdmin with crowdhr's plain columns and filters, each computed column")
    print("       (badges, annotations, related fields) replaced by another plain field of the model.")
    for name in pages:
        counts = {key: figures[0] for key, figures in results.items() if key[0] == name}
        small, large = results[(name, 100, "after")][0], results[(name, rows, "after")][0]
        worst = max(figures[1] / figures[5] for key, figures in results.items() if key[0] == name)
        met = "met" if len(set(counts.values())) == 1 else "missed"
        print(
            f"{name} queries at {rows:,} rows / at 100 rows (same, before and after ANALYZE): {large}/{small} {met}"
        )
        print(
            f"{name} page time / alike ModelAdmin <= 1.5x: {worst:.2f}x {'met' if worst <= 1.5 else 'missed'}"
        )


if __name__ == "__main__":
    main()
