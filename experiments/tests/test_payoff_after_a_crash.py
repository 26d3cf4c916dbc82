"""An oTree payoff is owed from the moment the approval is recorded: a reviewer killed between the
platform's approval and the payoff leaves a follow-up that the next cycle pays, exactly once, with
the "previous participant" qualification."""

from __future__ import annotations

import pytest

from experiments import services
from experiments.tests.test_worker_way import finish, hits_of
from hits.models import Assignment, FollowUp, Payment
from hits.review.cycle import review_active_hits
from platforms import platform_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.otree]


class Killed(BaseException):
    """The process dies at this line: nothing after it runs in it."""


def test_a_reviewer_killed_between_approval_and_payoff_is_finished_by_the_next_cycle(
    study, browser, crowd, monkeypatch
):
    services.experiment_publish(experiment=study, by=None)
    first, second = hits_of(study)
    finish(browser, study, first, "AW1", 7, crowd)

    def killed(*args, **kwargs):
        raise Killed

    monkeypatch.setattr("hits.review.decide.followups.run_for", killed)  # right after approve returned
    with pytest.raises(Killed):
        review_active_hits()
    monkeypatch.undo()
    assert Assignment.objects.get(hit=first).decision == "approved"
    assert not Payment.objects.filter(kind="bonus").exists()
    assert FollowUp.objects.get().status == "pending"

    review_active_hits()
    review_active_hits()

    platform = platform_for(study.account)
    granted = [
        (b.worker_id, b.amount)
        for hit in hits_of(study)
        for b in platform.list_bonus_payments(hit_id=hit.hit_id)
    ]
    assert [(worker, str(amount)) for worker, amount in granted] == [("AW1", "0.70")]
    assert Payment.objects.get(kind="bonus").status == "done"
    assert FollowUp.objects.get().status == "done"
    with pytest.raises(crowd.Refused, match="qualification"):
        crowd.accept(second.hit_id, "AW1")
