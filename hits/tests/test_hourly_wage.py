"""The effective hourly wage of an experiment: reward plus bonuses per assignment over the median
work time, with a warning below the floor (the US federal minimum by default)."""

from __future__ import annotations

from decimal import Decimal

from experiments.models import Experiment
from hits import payments, services
from hits.models import Assignment
from hits.review.sync import fetch_assignments
from hits.selectors import hourly_wage


def worked(account, crowd, *seconds: int) -> Experiment:
    experiment = Experiment.objects.create(
        owner=account.owner, account=account, name="Animals", title="Name it", description="Choose."
    )
    outsourcer = services.outsourcer_create(
        owner=account.owner,
        account=account,
        experiment=experiment,
        task_type="categorical",
        target="item-1",
        inputs={"text": "Item"},
        task_config={"question": "Which animal?", "choices": ["cat", "dog"]},
        settings=services.HitSettings(
            title="Name it", description="Choose.", reward=Decimal("0.10"), assignments_required=len(seconds)
        ),
    )
    hit = outsourcer.hits.get()
    for number, spent in enumerate(seconds):
        assignment_id = crowd.accept(hit.hit_id, f"AW{number}")
        crowd.age_assignment(assignment_id, spent)
        crowd.submit(assignment_id, {"answer": "cat"})
    fetch_assignments(hit)
    return experiment


def test_reward_over_the_median_work_time_warns_below_the_floor(account, crowd):
    experiment = worked(account, crowd, 40, 120, 600)

    wage = hourly_wage(experiment_id=experiment.pk)

    assert wage.assignments == 3 and round(wage.median_seconds) == 120
    assert wage.per_hour == Decimal("3.00")  # $0.10 per 2 minutes
    assert wage.below_floor and wage.floor == Decimal("7.25")
    assert "$3.00/h" in str(wage) and "Below the floor of $7.25/h" in str(wage)


def test_bonuses_count_toward_the_wage(account, crowd):
    experiment = worked(account, crowd, 40, 120, 600)
    assignment = Assignment.objects.order_by("pk").first()
    payments.pay_bonus(
        assignment=assignment, amount=Decimal("0.50"), reason="Thanks", key="b1", triggered_by="t"
    )

    wage = hourly_wage(experiment_id=experiment.pk)

    assert wage.per_hour == Decimal("8.00")  # ($0.30 + $0.50) / 3 per 2 minutes
    assert not wage.below_floor
    assert "Below the floor" not in str(wage)


def test_no_work_yet_says_so(account):
    experiment = Experiment.objects.create(
        owner=account.owner, account=account, name="Animals", title="Name it", description="Choose."
    )
    wage = hourly_wage(experiment_id=experiment.pk, floor=Decimal("12.00"))
    assert wage.per_hour is None and not wage.below_floor
    assert "not known until work has been submitted" in str(wage)
