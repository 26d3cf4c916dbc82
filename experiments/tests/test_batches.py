"""Template batches: a CSV and an HTML template in, one HIT per row, a results CSV out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile

from experiments.batches import batch_publish, batch_results, read_items
from experiments.models import Experiment
from hits.models import HIT
from hits.review.cycle import review_active_hits
from hits.services import ServiceError
from platforms import platform_for

TEMPLATE = """<p>Is <strong>${name}</strong> a city in ${country}?</p>
<label><input type="radio" name="answer" value="yes"> yes</label>
<label><input type="radio" name="answer" value="no"> no</label>"""


def make_batch(account, csv_text: str, **overrides) -> Experiment:
    experiment = Experiment.objects.create(
        owner=account.owner,
        account=account,
        name="Cities",
        kind=Experiment.Kind.BATCH,
        task_type="template_batch",
        task_config={"template": TEMPLATE, "answer_fields": ["answer"]},
        title="Is it a city?",
        description="Tell us whether a name is a city in a country.",
        reward=Decimal("0.05"),
        assignments_required=3,
        agreements_required=2,
        **overrides,
    )
    experiment.items_file.save("cities.csv", ContentFile(csv_text.encode()))
    return experiment


@pytest.mark.django_db(transaction=True)
def test_each_row_becomes_a_hit_and_the_results_come_back_as_csv(account, crowd):
    experiment = make_batch(account, "name,country\nLyon,France\nRhine,Germany\n")

    outsourcers = batch_publish(experiment=experiment, by=None)

    assert len(outsourcers) == 2
    hits = HIT.objects.filter(outsourcer__experiment=experiment).order_by("pk")
    question = platform_for(account).get_hit(hits[0].hit_id)
    assert question.max_assignments == 3
    assert "<strong>Lyon</strong> a city in France" in hits[0].question
    for hit, answers in zip(hits, [("yes", "yes", "no"), ("no", "no", "no")], strict=True):
        for worker, value in zip(["AW1", "AW2", "AW3"], answers, strict=True):
            crowd.work(hit.hit_id, worker, {"answer": value})
    review_active_hits()

    assert list(batch_results(experiment)) == [
        ["name", "country", "answer", "agreements", "status", "problem"],
        ["Lyon", "France", "yes", "2", "answered", ""],
        ["Rhine", "Germany", "no", "3", "answered", ""],
    ]


@pytest.mark.django_db(transaction=True)
def test_publishing_again_posts_only_the_rows_without_a_hit(account):
    experiment = make_batch(account, "name,country\nLyon,France\n")
    batch_publish(experiment=experiment, by=None)
    assert batch_publish(experiment=experiment, by=None) == []
    assert HIT.objects.filter(outsourcer__experiment=experiment).count() == 1


@pytest.mark.django_db(transaction=True)
def test_template_values_are_escaped(account):
    experiment = make_batch(account, 'name,country\n"<script>alert(1)</script>",France\n')
    batch_publish(experiment=experiment, by=None)
    question = HIT.objects.get(outsourcer__experiment=experiment).question
    assert "<script>alert(1)</script>" not in question
    assert "&lt;script&gt;" in question


@pytest.mark.django_db
def test_a_template_column_missing_from_the_csv_is_refused(researcher):
    from platforms.models import PlatformAccount

    account = PlatformAccount.objects.create(owner=researcher, name="lab", environment="emulator")
    experiment = make_batch(account, "name\nLyon\n")
    with pytest.raises(ServiceError, match="country"):
        batch_publish(experiment=experiment, by=None)
    assert not HIT.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "header row"),
        (b"name,country\n", "no items"),
        (b"\xff\xfe\x00", "UTF-8"),
        (b"name,\nLyon,France\n", "header row"),
    ],
)
def test_unusable_csv_files_are_explained(data, message):
    with pytest.raises(ServiceError, match=message):
        read_items(data)


def test_a_bom_and_blank_lines_are_fine():
    assert read_items("\ufeffname,country\nLyon,France\n,\n".encode()) == [
        {"name": "Lyon", "country": "France"}
    ]
