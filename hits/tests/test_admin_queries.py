"""The researcher's change lists (HITs, assignments, workers) cost the same few queries whether
they show one row or a full page, and whatever actions the page offers (bench/admin_pages.py
prints the figures and times at 100,000 rows)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hits.models import HIT, Assignment
from hits.tests.test_admin import offline_hit
from workers.models import Worker

pytestmark = pytest.mark.django_db

CHANGE_LISTS = [
    "admin:hits_hit_changelist",
    "admin:hits_assignment_changelist",
    "admin:workers_worker_changelist",
]

#: session, user, permissions (2), the researcher's platforms (for the actions offered) or the
#: experiments to filter by, the capped count, the page's ids, its rows, then one query per related
#: table shown (an HIT's Outsourcer; an assignment's HIT and worker) or the workers' figures; one
#: more would be a query per action, per filter or per row
QUERIES_PER_PAGE = 10


def work_done(owner, count: int) -> None:
    """`count` more HITs, each with one approved assignment by its own worker."""
    start = HIT.objects.count()
    for n in range(start, start + count):
        hit = offline_hit(owner, f"item-{n}")
        worker = Worker.objects.create(worker_id=f"AW{n}")
        Assignment.objects.create(
            hit=hit, assignment_id=f"A{n}", worker=worker, platform_status="Approved", decision="approved"
        )


def queries_of(client, name: str) -> int:
    client.get(reverse(name))  # the first view of a page fills caches a researcher's later views reuse
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(name)).status_code == 200
    return len(queries)


def test_each_change_list_costs_the_same_few_queries_for_one_row_and_for_a_full_page(client, researcher):
    client.force_login(researcher)
    work_done(researcher, 1)
    one_row = {name: queries_of(client, name) for name in CHANGE_LISTS}
    work_done(researcher, 30)
    many_rows = {name: queries_of(client, name) for name in CHANGE_LISTS}

    assert many_rows == one_row
    assert max(one_row.values()) <= QUERIES_PER_PAGE, one_row


def test_the_hit_change_list_still_shows_each_rows_figures_and_offers_its_actions(client, researcher):
    client.force_login(researcher)
    work_done(researcher, 2)
    page = client.get(reverse("admin:hits_hit_changelist")).content.decode()

    assert "item-0" in page and "item-1" in page
    assert "1/3" in page  # done / required: the approved assignment counted
    for action in ("expire_hits", "reopen_hits", "unexpire_hits", "approve_all_hits", "export_csv"):
        assert f'value="{action}"' in page, action
