"""A repeating schedule of an oTree study: each later run is a new round with its own session and HITs."""

from __future__ import annotations

import pytest

from experiments.models import Experiment
from experiments.tasks import publish_experiment_on_schedule
from hits.models import HIT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.otree]


def test_a_repeated_publish_of_an_otree_study_is_a_new_round_not_an_error(study, account):
    owner = account.owner.pk

    assert publish_experiment_on_schedule(study.pk, owner) == "published"
    assert publish_experiment_on_schedule(study.pk, owner) == "published"

    study.refresh_from_db()
    round_2 = Experiment.objects.get(name="Effort study, round 2")
    assert round_2.published_at and round_2.otree_session_code
    assert round_2.otree_session_code != study.otree_session_code
    assert HIT.objects.filter(outsourcer__experiment=study).exists()
    assert HIT.objects.filter(outsourcer__experiment=round_2).exists()
    assert round_2.participants.count() == 0
