"""Publishing many HITs at once against the local MTurk's request rate limit: every HIT exactly once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from hits import services
from hits.models import HIT
from platforms import platform_for
from platforms.models import PlatformAccount

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def faults(mturk):
    from mturk_emulator import faults

    yield faults
    faults.clear_faults()  # the rate limit too


@pytest.fixture
def publisher(researcher, mturk):
    """An account of its own: its boto3 client (and botocore's retry quota) is nobody else's."""
    from mturk_emulator.testing import register_requester

    register_requester("AKIAPUBLISHER", "publisher-secret")
    return PlatformAccount.objects.create(
        owner=researcher,
        name="Publishing lab",
        environment=PlatformAccount.Environment.EMULATOR,
        access_key_id="AKIAPUBLISHER",
        secret_access_key="publisher-secret",
    )


def publish(account, hits: int):
    return services.outsourcer_create(
        owner=account.owner,
        account=account,
        task_type="categorical",
        target="pictures",
        inputs={"text": "A picture"},
        task_config={"question": "Which animal?", "choices": ["cat", "dog"]},
        settings=services.HitSettings(
            title="Name the animal", description="Choose.", reward=Decimal("0.05"), quality_threshold=None
        ),
        batch_sizes=[3] * hits,
    )


def throttled_answers(account) -> list[int]:
    """Counts the ThrottlingException answers the account's client gets (each retried attempt)."""
    seen = [0]

    def count(response=None, **_) -> None:
        if response and response[1].get("Error", {}).get("Code") == "ThrottlingException":
            seen[0] += 1

    platform_for(account).client.meta.events.register("needs-retry.mturk", count)
    return seen


def on_the_platform(account) -> dict[str, str]:
    """HIT id -> RequesterAnnotation of every HIT the local MTurk holds for the account."""
    return {hit.hit_id: hit.requester_annotation for hit in platform_for(account).list_hits()}


def used_tokens(account) -> list[str]:
    from mturk_emulator.models import RequestToken

    return sorted(
        RequestToken.objects.filter(
            account__access_key_id=account.access_key_id, purpose="CreateHIT"
        ).values_list("token", flat=True)
    )


def test_many_hits_under_a_low_rate_limit_are_each_posted_exactly_once(publisher, faults, settings):
    settings.PUBLISH_CONCURRENCY = 8
    # crowdhr paces to twice what the platform lets it have (another process of the account takes
    # the rest), so many calls are throttled
    settings.MTURK_RATE_LIMIT = (30, 4)
    faults.fail_next("CreateHIT", "lose_answer", times=3)  # created, but the answer never came back
    from mturk_emulator.rate_limit import set_rate_limit

    set_rate_limit(15, burst=2)
    throttled = throttled_answers(publisher)

    outsourcer = publish(publisher, 30)
    faults.clear_faults()  # the storm is over; the next review cycle finishes what it left
    services.hits_finish_creating(older_than=timedelta(0))

    rows = list(outsourcer.hits.order_by("batch_number"))
    assert throttled[0] > 0
    assert [row.status for row in rows] == [HIT.Status.LIVE] * 30
    posted = on_the_platform(publisher)
    assert sorted(posted) == sorted(row.hit_id for row in rows)  # none lost, none twice
    assert len(set(posted.values())) == 30  # one HIT per batch on the platform
    assert used_tokens(publisher) == sorted(row.creation_token for row in rows)


def test_a_call_throttled_to_the_last_attempt_leaves_its_row_to_be_finished_once(publisher, faults):
    faults.fail_next("CreateHIT", "throttle", times=platform_for(publisher).throttled_attempts)

    (hit,) = publish(publisher, 1).hits.all()

    assert hit.status == HIT.Status.CREATING
    assert "Rate exceeded" in hit.creation_error
    assert on_the_platform(publisher) == {}
    faults.clear_faults()
    assert services.hits_finish_creating(older_than=timedelta(0)) == 1
    hit.refresh_from_db()
    assert hit.status == HIT.Status.LIVE
    assert list(on_the_platform(publisher)) == [hit.hit_id]
    assert services.hits_finish_creating(older_than=timedelta(0)) == 0
    assert used_tokens(publisher) == [hit.creation_token]
