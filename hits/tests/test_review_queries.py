"""A HIT's review costs a fixed, small number of queries, whatever the number of HITs: one HIT
with three submissions (two agree, one rejected) is listed, stored, decided and paid in fewer than
30 queries (bench/review_cycle.py prints the figure at 2,000 HITs)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hits.models import Assignment
from hits.review.cycle import handle_hit
from hits.tests.test_reliability import publish_items

pytestmark = pytest.mark.django_db(transaction=True)

#: the issue's target: queries per HIT reviewed with three decisions
QUERIES_PER_HIT = 30


def test_a_hit_with_three_decisions_is_reviewed_in_fewer_than_30_queries(account, crowd):
    (hit,) = (o.hits.get() for o in publish_items(account, 1))
    for worker, answer in (("AW1", "cat"), ("AW2", "cat"), ("AW3", "dog")):
        crowd.work(hit.hit_id, worker, {"answer": answer})

    with CaptureQueriesContext(connection) as queries:
        assert handle_hit(hit.pk)

    decisions = dict(Assignment.objects.values_list("worker__worker_id", "decision"))
    assert decisions == {"AW1": "approved", "AW2": "approved", "AW3": "rejected"}
    assert len(queries) < QUERIES_PER_HIT
