"""The whole life of outsourced work, through the local Mechanical Turk with simulated workers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hits import services
from hits.models import HIT, Assignment, Outsourcer, Payment, RejectionPolicy
from hits.review.cycle import review_active_hits
from platforms import platform_for
from workers import scoring
from workers.models import Qualification, Worker, WorkerQualification

pytestmark = pytest.mark.django_db(transaction=True)


def publish(account, target="item-1", *, task_type="categorical", assignments=3, agreements=2, **config):
    task_config = {"question": "Which animal is in the picture?", "choices": ["cat", "dog", "bird"]}
    if task_type == "number":
        task_config = {"question": "How many?", "tolerance": 1}
    task_config.update(config)
    return services.outsourcer_create(
        owner=account.owner,
        account=account,
        task_type=task_type,
        target=target,
        inputs={"text": f"Item {target}"},
        task_config=task_config,
        settings=services.HitSettings(
            title="Name the animal",
            description="Look at the picture and choose the animal.",
            reward=Decimal("0.10"),
            assignments_required=assignments,
            agreements_required=agreements,
            quality_threshold=config.get("quality_threshold", 0),
        ),
    )


def answer(crowd, outsourcer, *workers_and_answers):
    hit = outsourcer.hits.order_by("-batch_number").first()
    return [crowd.work(hit.hit_id, worker, {"answer": value}) for worker, value in workers_and_answers]


def decisions(outsourcer):
    return {
        a.worker.worker_id: a.decision
        for a in Assignment.objects.filter(hit__outsourcer=outsourcer).select_related("worker")
    }


def on_platform(account, outsourcer):
    platform = platform_for(account)
    return {a.worker_id: a for hit in outsourcer.hits.all() for a in platform.list_assignments(hit.hit_id)}


def test_two_of_three_agree_approves_the_two_and_rejects_the_third_naming_the_answer(account, crowd):
    outsourcer = publish(account)
    Outsourcer.objects.filter(pk=outsourcer.pk).update(on_rejection=RejectionPolicy.REJECT)
    answer(crowd, outsourcer, ("AW1", "cat"), ("AW2", "dog"), ("AW3", "cat"))

    review_active_hits()

    assert decisions(outsourcer) == {"AW1": "approved", "AW2": "rejected", "AW3": "approved"}
    platform = on_platform(account, outsourcer)
    assert {w: a.status for w, a in platform.items()} == {
        "AW1": "Approved",
        "AW2": "Rejected",
        "AW3": "Approved",
    }
    assert "cat" in platform["AW2"].requester_feedback
    assert platform["AW1"].requester_feedback == "Thank you!"
    outsourcer.refresh_from_db()
    assert outsourcer.answer == {"answer": "cat"}
    assert not outsourcer.active and not outsourcer.needs_review
    ledger = Payment.objects.filter(assignment__hit__outsourcer=outsourcer)
    assert sorted(ledger.values_list("kind", "status", "amount")) == [
        ("approval", "done", Decimal("0.10")),
        ("approval", "done", Decimal("0.10")),
        ("rejection", "done", Decimal("0.00")),
    ]


def test_every_assignment_is_stored_before_anything_is_decided(account, crowd):
    outsourcer = publish(account)
    answer(crowd, outsourcer, ("AW1", "cat"))

    review_active_hits()

    stored = Assignment.objects.get(hit__outsourcer=outsourcer)
    assert stored.answers["answer"] == "cat"
    assert stored.decision == "undecided"
    assert stored.accept_time and stored.submit_time
    assert HIT.objects.get(outsourcer=outsourcer).num_new_assignments == 1


def test_no_agreement_once_everyone_answered_needs_review_and_tells_the_owner(account, crowd, mailoutbox):
    outsourcer = publish(account)
    answer(crowd, outsourcer, ("AW1", "cat"), ("AW2", "dog"))
    review_active_hits()
    outsourcer.refresh_from_db()
    assert not outsourcer.needs_review  # one more worker may still agree

    answer(crowd, outsourcer, ("AW3", "bird"))
    review_active_hits()

    outsourcer.refresh_from_db()
    assert outsourcer.needs_review
    assert "No agreement" in outsourcer.problem and "cat (1)" in outsourcer.problem
    assert set(decisions(outsourcer).values()) == {"undecided"}
    assert [m.to for m in mailoutbox] == [["ada@example.org"]]


def test_reopen_then_agreement_judges_the_older_answers_against_it(account, crowd):
    outsourcer = publish(account)
    answer(crowd, outsourcer, ("AW1", "cat"), ("AW2", "dog"), ("AW3", "bird"))
    review_active_hits()

    hit = services.outsourcer_reopen(outsourcer=outsourcer, by=None)
    assert hit.max_assignments == 6
    assert platform_for(account).get_hit(hit.hit_id).max_assignments == 6
    answer(crowd, outsourcer, ("AW4", "dog"), ("AW5", "dog"))
    review_active_hits()

    assert decisions(outsourcer) == {
        "AW1": "rejected",
        "AW2": "approved",
        "AW3": "rejected",
        "AW4": "approved",
        "AW5": "approved",
    }
    outsourcer.refresh_from_db()
    assert outsourcer.answer == {"answer": "dog"}


def test_an_invalid_agreed_answer_goes_to_human_review(account, crowd):
    outsourcer = publish(account, task_type="number", max=100)
    answer(crowd, outsourcer, ("AW1", "5000"), ("AW2", "5000.5"))

    review_active_hits()

    outsourcer.refresh_from_db()
    assert outsourcer.needs_review and "not valid" in outsourcer.problem
    assert outsourcer.answer is None
    assert set(decisions(outsourcer).values()) == {"undecided"}


def test_a_forced_import_closes_the_open_outsourcer_and_approves_its_answers(account, crowd):
    first = publish(account)
    answer(crowd, first, ("AW1", "cat"))

    with pytest.raises(services.ServiceError):
        publish(account)
    second = services.outsourcer_create(
        owner=account.owner,
        account=account,
        task_type="categorical",
        target="item-1",
        inputs={"text": "Item again"},
        task_config={"question": "Which?", "choices": ["cat", "dog"]},
        settings=services.HitSettings(title="Again", description="Again", reward=Decimal("0.10")),
        force=True,
        by=None,
    )

    first.refresh_from_db()
    assert not first.active
    assert decisions(first) == {"AW1": "approved"}
    old_hit = first.hits.get()
    assert (
        platform_for(account).get_hit(old_hit.hit_id).expiration.timestamp()
        <= old_hit.expiration.timestamp() + 1
    )
    with pytest.raises(crowd.Refused):
        crowd.accept(old_hit.hit_id, "AW9")
    assert second.active and second.hits.get().status == HIT.Status.LIVE
    assert Outsourcer.objects.filter(target="item-1", active=True).count() == 1


def test_delete_expires_the_hit_and_keeps_every_record(account, crowd):
    outsourcer = publish(account)
    answer(crowd, outsourcer, ("AW1", "cat"))
    review_active_hits()

    services.outsourcer_delete(outsourcer=outsourcer, by=None)

    outsourcer.refresh_from_db()
    hit = outsourcer.hits.get()
    assert not outsourcer.active and not hit.active and hit.expired
    with pytest.raises(crowd.Refused):
        crowd.accept(hit.hit_id, "AW2")
    assert Assignment.objects.filter(hit=hit).count() == 1
    with pytest.raises(services.ServiceError):
        services.outsourcer_reopen(outsourcer=outsourcer, by=None)


def test_expire_pauses_and_unexpire_resumes(account, crowd):
    outsourcer = publish(account)
    hit = outsourcer.hits.get()

    assert services.outsourcer_expire(outsourcer=outsourcer, by=None) == 1
    with pytest.raises(crowd.Refused):
        crowd.accept(hit.hit_id, "AW1")

    assert services.outsourcer_unexpire(outsourcer=outsourcer, by=None) == 1
    assert crowd.accept(hit.hit_id, "AW1")


def test_quality_score_moves_36_37_28_and_reaches_the_platform(account, crowd):
    first = publish(account, "item-1", assignments=2)
    answer(crowd, first, ("AW1", "cat"), ("AW2", "cat"))
    review_active_hits()
    worker = Worker.objects.get(worker_id="AW1")
    assert scoring.scores_of(account, worker)[Qualification.QUALITY_SCORE] == 37

    second = publish(account, "item-2", assignments=3)
    answer(crowd, second, ("AW1", "dog"), ("AW2", "cat"), ("AW3", "cat"))
    review_active_hits()

    row = WorkerQualification.objects.get(
        account=account, worker=worker, qualification=Qualification.QUALITY_SCORE
    )
    assert row.value == 28
    assert [(c.old_value, c.new_value) for c in row.history.order_by("at", "id")] == [(36, 37), (37, 28)]
    type_id = scoring.qualification_type_id(account, Qualification.QUALITY_SCORE)
    assert platform_for(account).get_qualification_score(type_id, "AW1") == 28
    assert scoring.scores_of(account, worker)[Qualification.APPROVAL_STREAK] == 0


def test_a_worker_below_the_threshold_is_refused_by_the_platform(account, crowd):
    first = publish(account, "item-1", quality_threshold=30)
    answer(crowd, first, ("AW1", "dog"), ("AW2", "cat"), ("AW3", "cat"))
    review_active_hits()  # AW1 rejected: 36 - 9 = 27, below 30

    second = publish(account, "item-2", quality_threshold=30)
    hit = second.hits.get()
    with pytest.raises(crowd.Refused, match="qualification"):
        crowd.accept(hit.hit_id, "AW1")
    assert crowd.accept(hit.hit_id, "AW2")


def test_a_banned_worker_is_refused_until_unbanned(account, crowd):
    first = publish(account, "item-1", assignments=2)
    answer(crowd, first, ("AW1", "cat"), ("AW2", "cat"))
    review_active_hits()
    worker = Worker.objects.get(worker_id="AW1")

    scoring.ban_worker(account, worker, reason="copy-pasted answers", by=None)
    scoring.sync_qualifications(account=account)
    hit = publish(account, "item-2").hits.get()
    with pytest.raises(crowd.Refused):
        crowd.accept(hit.hit_id, "AW1")

    scoring.unban_worker(account, worker, by=None)
    scoring.sync_qualifications(account=account)
    assert scoring.scores_of(account, worker)[Qualification.QUALITY_SCORE] == 37
    assert crowd.accept(hit.hit_id, "AW1")


def test_an_achievement_bonus_is_paid_once(account, crowd):
    for number in range(5):
        item = publish(account, f"item-{number}", assignments=2)
        answer(crowd, item, ("AW1", "cat"), ("AW2", "cat"))
    review_active_hits()
    review_active_hits()

    bonuses = Payment.objects.filter(kind="bonus", worker__worker_id="AW1")
    assert sorted(bonuses.values_list("reason", "status")) == [
        ("Achievement reached: Approval Streak: Steady. Thank you for your work!", "done"),
        ("Achievement reached: Early Bird: Riser. Thank you for your work!", "done"),
    ]
    platform = platform_for(account)
    paid = [
        b
        for hit in HIT.objects.filter(outsourcer__owner=account.owner)
        for b in platform.list_bonus_payments(hit_id=hit.hit_id)
        if b.worker_id == "AW1"
    ]
    assert len(paid) == 2
    assert sum(b.amount for b in paid) == sum(p.amount for p in bonuses)


def test_an_assignment_the_platform_approved_on_its_own_is_recorded_once(account, crowd):
    outsourcer = publish(account)
    (assignment_id,) = answer(crowd, outsourcer, ("AW1", "cat"))
    review_active_hits()  # stored, one answer is not enough to decide
    crowd.age_assignment(assignment_id, 4 * 24 * 3600)  # past the 3-day auto-approval delay

    review_active_hits()
    review_active_hits()

    stored = Assignment.objects.get(assignment_id=assignment_id)
    assert (stored.decision, stored.decided_by) == ("approved", "platform (automatic)")
    assert Payment.objects.filter(assignment=stored).values_list("kind", "status").get() == (
        "approval",
        "done",
    )
    assert scoring.scores_of(account, stored.worker)[Qualification.QUALITY_SCORE] == 37


def test_a_late_answer_is_judged_against_the_agreed_one_and_then_the_hit_is_retired(account, crowd):
    outsourcer = publish(account)
    answer(crowd, outsourcer, ("AW1", "cat"), ("AW2", "cat"))
    review_active_hits()
    hit = outsourcer.hits.get()
    assert hit.active  # the third worker may still submit

    answer(crowd, outsourcer, ("AW3", "dog"))
    review_active_hits()

    assert decisions(outsourcer) == {"AW1": "approved", "AW2": "approved", "AW3": "rejected"}
    assert "cat" in Assignment.objects.get(worker__worker_id="AW3").feedback
    hit.refresh_from_db()
    assert not hit.active
