"""The payoff after a real SIGKILL: a review process (its own `manage.py shell`) approves an oTree
participant and is killed with SIGKILL inside the next platform call, the "previous participant"
qualification or the payoff bonus (the local MTurk delays it). The next review cycle, in this
process and at once, pays the payoff and grants the qualification, each exactly once on the local
MTurk's own records. PostgreSQL only (claims die with their connection); skipped with the reason
elsewhere. The same crash without a real process: test_payoff_after_a_crash.py."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crowdhr.tests.killing import PlatformCalls, claim_holder, require_postgresql
from experiments import services
from experiments.tests.test_worker_way import finish, hits_of
from hits.models import Assignment, FollowUp, Payment
from hits.review.cycle import review_active_hits
from mturk_emulator import models as emulator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.otree]

DELAY_MS = 5000


@pytest.mark.parametrize("killed_in", ["AssociateQualificationWithWorker", "SendBonus"])
def test_a_reviewer_killed_inside_the_call_after_an_approval_is_finished_by_the_next_cycle_once(
    killed_in, study, browser, crowd, monkeypatch, tmp_path
):
    require_postgresql()
    from mturk_emulator import faults

    services.experiment_publish(experiment=study, by=None)
    first, second = hits_of(study)
    finish(browser, study, first, "AW1", 7, crowd)
    calls = PlatformCalls(monkeypatch)
    faults.set_faults(latency_ms=DELAY_MS, operations=[killed_in])
    try:
        holder = claim_holder(
            "from hits.review.cycle import review_active_hits; review_active_hits()", log_dir=tmp_path
        )
        try:
            calls.wait_entered(killed_in, holder)
            holder.kill()
        finally:
            holder.stop()
    finally:
        faults.clear_faults()
    assert Assignment.objects.get(hit=first).decision == "approved"
    assert FollowUp.objects.get().status == "running"

    review_active_hits()

    assert FollowUp.objects.get().status == "done"
    (payoff,) = Payment.objects.filter(kind="bonus")
    assert (payoff.status, payoff.amount) == ("done", Decimal("0.70"))
    calls.wait_answered(killed_in)  # the killed process's call too, answered to nobody
    review_active_hits()
    paid = emulator.BonusPayment.objects.filter(
        assignment__hit__hit_id__in=[h.hit_id for h in hits_of(study)]
    )
    assert list(paid.values_list("worker_id", "amount")) == [("AW1", Decimal("0.70"))]
    study.refresh_from_db()
    excluded = emulator.Qualification.objects.filter(
        qualification_type__qualification_type_id=study.previous_participants_qualification_id
    )
    assert list(excluded.values_list("worker_id", "integer_value", "status")) == [("AW1", 1, "Granted")]
    with pytest.raises(crowd.Refused, match="qualification"):
        crowd.accept(second.hit_id, "AW1")
