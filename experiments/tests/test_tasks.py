"""The Celery tasks, called as the worker calls them: by ids."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile

from experiments.models import Experiment
from experiments.tasks import publish_experiment_on_schedule
from hits.models import HIT

pytestmark = pytest.mark.django_db(transaction=True)


def batch(account) -> Experiment:
    experiment = Experiment.objects.create(
        owner=account.owner,
        account=account,
        name="Capitals",
        kind=Experiment.Kind.BATCH,
        task_type="free_text",
        task_config={"question": "What is the capital?"},
        title="Name the capital",
        description="Type the capital of the country.",
        reward=Decimal("0.05"),
        assignments_required=2,
        agreements_required=2,
    )
    experiment.items_file.save("capitals.csv", ContentFile(b"text\nFrance\nItaly\n"))
    return experiment


def test_a_scheduled_publish_posts_the_experiment_as_the_researcher_who_scheduled_it(account):
    experiment = batch(account)

    assert publish_experiment_on_schedule(experiment.pk, account.owner.pk) == "published"

    assert HIT.objects.filter(outsourcer__experiment=experiment, status=HIT.Status.LIVE).count() == 2


def test_a_schedule_cannot_publish_another_researchers_experiment(account, django_user_model):
    experiment = batch(account)
    mallory = django_user_model.objects.create_user("mallory", is_staff=True)

    assert publish_experiment_on_schedule(experiment.pk, mallory.pk) == "experiment gone"

    assert not HIT.objects.exists()
