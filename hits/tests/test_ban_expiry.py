"""A ban lasts until the Quality Score's retry delay has passed, then ends by itself (seed 002)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from crowdhr.models import AuditEntry
from hits import services
from hits.review.cycle import review_active_hits
from workers import scoring
from workers.models import Block, Qualification, Worker


def publish(account, target: str):
    return services.outsourcer_create(
        owner=account.owner,
        account=account,
        task_type="categorical",
        target=target,
        inputs={"text": target},
        task_config={"question": "Which animal?", "choices": ["cat", "dog"]},
        settings=services.HitSettings(
            title="Name the animal", description="Choose.", reward=Decimal("0.10"), assignments_required=2
        ),
    )


def later(seconds: float):
    """The clock, `seconds` from now."""
    return mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(seconds=seconds))


def test_a_ban_keeps_the_worker_out_until_the_retry_delay_then_ends(account, crowd):
    hit = publish(account, "item-1").hits.get()
    crowd.work(hit.hit_id, "AW1", {"answer": "cat"})
    review_active_hits()
    worker = Worker.objects.get(worker_id="AW1")
    block = scoring.ban_worker(account, worker, reason="copy-pasted answers", by=None)
    scoring.sync_qualifications(account=account)
    assert block.expires is not None
    assert block.expires - block.created >= timedelta(seconds=scoring.QUALITY_RETRY_DELAY_SECONDS - 1)

    next_hit = publish(account, "item-2").hits.get()
    with later(scoring.QUALITY_RETRY_DELAY_SECONDS - 60):
        assert scoring.bans_expire() == 0
    with pytest.raises(crowd.Refused):
        crowd.accept(next_hit.hit_id, "AW1")

    with later(scoring.QUALITY_RETRY_DELAY_SECONDS + 60):
        assert scoring.bans_expire() == 1
        assert scoring.bans_expire() == 0  # ends once
    scoring.sync_qualifications(account=account)

    assert scoring.scores_of(account, worker)[Qualification.QUALITY_SCORE] == scoring.QUALITY_START
    assert Block.objects.get(pk=block.pk).lifted is not None
    assert AuditEntry.objects.filter(action="ban expired").count() == 1
    assert crowd.accept(next_hit.hit_id, "AW1")


def test_an_earlier_ban_ending_leaves_a_later_ban_standing(account):
    worker = Worker.objects.create(platform=account.platform, worker_id="AW9")
    scoring.ban_worker(account, worker, reason="first", by=None)
    with later(3600):
        scoring.ban_worker(account, worker, reason="second", by=None)

    with later(scoring.QUALITY_RETRY_DELAY_SECONDS + 60):
        assert scoring.bans_expire() == 1

    assert scoring.scores_of(account, worker)[Qualification.QUALITY_SCORE] == 0
