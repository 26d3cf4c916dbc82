"""The hosted batch's queue: each participant gets a set of items they have not seen, each item only
as many answers as its consensus needs, and unanswered items come back after the time allowed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from experiments import hosted
from experiments.models import Experiment
from hits.models import Outsourcer
from platforms.models import PlatformAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(researcher) -> Experiment:
    account = PlatformAccount.objects.create(
        owner=researcher, name="Prolific", platform="prolific", environment="emulator", secret_access_key="t"
    )
    experiment = Experiment.objects.create(
        owner=researcher,
        account=account,
        name="Cats",
        title="Cats",
        description="Is it a cat?",
        assignments_required=2,
        items_per_participant=2,
        duration_seconds=600,
    )
    for number in range(1, 5):
        Outsourcer.objects.create(
            owner=researcher,
            account=account,
            experiment=experiment,
            target=f"experiment:{experiment.pk}:item:{number}",
            task_type="free_text",
        )
    return experiment


def items(batch, worker: str, session: str, **kwargs) -> list[int]:
    rows = hosted.participant_items(
        experiment=batch, worker_id=worker, session_id=session, study_id="s", **kwargs
    )
    return [row.outsourcer_id for row in rows]


def test_each_item_gets_the_answers_it_needs_and_nobody_sees_an_item_twice(batch):
    assert hosted.study_places(batch, 4) == 4 + 1
    sets = {worker: items(batch, worker, f"session-{worker}") for worker in "abcd"}

    assert all(len(chosen) == 2 for chosen in sets.values())
    every = [item for chosen in sets.values() for item in chosen]
    assert sorted(every.count(item) for item in set(every)) == [2, 2, 2, 2]
    assert items(batch, "a", "session-a") == sets["a"]  # the same set on every visit
    with pytest.raises(hosted.NothingLeft):
        items(batch, "e", "session-e")

    assert hosted.release_session(experiment=batch, session_id="session-b") == 2  # b returned
    again = items(batch, "a", "a-again")  # a takes part again: only items a has not seen
    assert again and set(again).isdisjoint(sets["a"])


def test_unanswered_items_are_freed_after_the_time_allowed_and_answered_ones_are_kept(batch):
    first = hosted.participant_items(experiment=batch, worker_id="a", session_id="sa", study_id="s")
    assert hosted.answer_item(row=first[0], answers={"answer": "cat"})
    assert not hosted.answer_item(row=first[0], answers={"answer": "dog"})
    for worker in "bcd":
        items(batch, worker, f"s{worker}")

    later = timezone.now() + timedelta(seconds=601)
    assert items(batch, "e", "se", now=later)  # a's unanswered item and the others came free
    left = hosted.participant_items(experiment=batch, worker_id="a", session_id="sa", study_id="s")
    assert [(row.position, row.answers) for row in left] == [(1, {"answer": "cat"})]
    assert hosted.next_item(left) is None
