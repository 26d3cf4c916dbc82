"""Rejecting without withholding pay: the Quality Score weeds out bad workers, while rejected work is
still approved (and paid) on the platform unless the researcher chose to reject there."""

from __future__ import annotations

from decimal import Decimal

from hits import services
from hits.models import Assignment, Outsourcer, Payment, RejectionPolicy
from hits.review.cycle import review_active_hits
from platforms import platform_for
from workers import scoring
from workers.models import Qualification, Worker


def publish(account, *, on_rejection: str | None = None) -> Outsourcer:
    return services.outsourcer_create(
        owner=account.owner,
        account=account,
        task_type="categorical",
        target="item-1",
        inputs={"text": "Item 1"},
        task_config={"question": "Which animal is in the picture?", "choices": ["cat", "dog", "bird"]},
        settings=services.HitSettings(
            title="Name the animal",
            description="Look at the picture and choose the animal.",
            reward=Decimal("0.10"),
            assignments_required=3,
            agreements_required=2,
        ),
        on_rejection=on_rejection,
    )


def answer_and_review(crowd, outsourcer: Outsourcer) -> dict:
    hit = outsourcer.hits.get()
    for worker, value in (("AW1", "cat"), ("AW2", "dog"), ("AW3", "cat")):
        crowd.work(hit.hit_id, worker, {"answer": value})
    review_active_hits()
    return {a.worker_id: a for a in platform_for(outsourcer.account).list_assignments(hit.hit_id)}


def test_by_default_a_rejection_pays_on_the_platform_and_still_lowers_the_score(account, crowd):
    outsourcer = publish(account)
    assert outsourcer.on_rejection == RejectionPolicy.PAY_ANYWAY

    remote = answer_and_review(crowd, outsourcer)

    rejected = Assignment.objects.get(worker__worker_id="AW2")
    assert (rejected.decision, rejected.platform_status) == ("rejected", "Approved")
    assert rejected.paid_despite_rejection
    assert remote["AW2"].status == "Approved"
    feedback = remote["AW2"].requester_feedback
    assert "the agreed answer was: cat" in feedback and "paid for this HIT anyway" in feedback
    score = scoring.scores_of(account, Worker.objects.get(worker_id="AW2"))
    assert score[Qualification.QUALITY_SCORE] == scoring.QUALITY_START + scoring.QUALITY_REJECTED
    assert score[Qualification.APPROVAL_STREAK] == 0
    paid = Payment.objects.get(assignment=rejected)
    assert (paid.kind, paid.status, paid.amount) == ("approval", "done", Decimal("0.10"))


def test_reject_on_the_platform_withholds_the_reward(account, crowd):
    outsourcer = publish(account, on_rejection=RejectionPolicy.REJECT)

    remote = answer_and_review(crowd, outsourcer)

    rejected = Assignment.objects.get(worker__worker_id="AW2")
    assert (rejected.decision, rejected.platform_status) == ("rejected", "Rejected")
    assert not rejected.paid_despite_rejection
    assert remote["AW2"].status == "Rejected" and "cat" in remote["AW2"].requester_feedback
    assert Payment.objects.get(assignment=rejected).amount == Decimal("0.00")
    score = scoring.scores_of(account, Worker.objects.get(worker_id="AW2"))
    assert score[Qualification.QUALITY_SCORE] == scoring.QUALITY_START + scoring.QUALITY_REJECTED


def test_a_person_rejecting_by_hand_follows_the_policy_and_the_decision_happens_once(account, crowd):
    outsourcer = publish(account)
    hit = outsourcer.hits.get()
    crowd.work(hit.hit_id, "AW1", {"answer": "bird"})
    review_active_hits()  # stored, nothing decided (one answer cannot agree)
    assignment = Assignment.objects.select_related("hit__outsourcer").get()

    assert services.assignment_reject(assignment=assignment, feedback="Not a bird.", by=None)
    assert not services.assignment_reject(assignment=assignment, feedback="Not a bird.", by=None)

    (remote,) = platform_for(account).list_assignments(hit.hit_id)
    assert remote.status == "Approved" and remote.requester_feedback.startswith("Not a bird.")
    assert Payment.objects.filter(assignment=assignment).count() == 1


def test_an_experiment_passes_its_policy_to_its_outsourcers(account):
    from experiments.models import Experiment

    experiment = Experiment.objects.create(
        owner=account.owner,
        account=account,
        name="Animals",
        title="Name the animal",
        description="Look and choose.",
        on_rejection=RejectionPolicy.REJECT,
    )
    outsourcer = services.outsourcer_create(
        owner=account.owner,
        account=account,
        experiment=experiment,
        task_type="categorical",
        target="experiment-item",
        inputs={"text": "Item"},
        task_config={"question": "Which animal?", "choices": ["cat", "dog"]},
        settings=services.HitSettings(title="Name it", description="Choose.", reward=Decimal("0.10")),
    )
    assert outsourcer.on_rejection == RejectionPolicy.REJECT
