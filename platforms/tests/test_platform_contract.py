"""The platform layer against the local Mechanical Turk, through the real boto3 client over HTTP.

Every method of the Platform interface, and the error paths crowdhr relies on: throttling is
retried by botocore, permanent errors are not, a repeated UniqueRequestToken is success, and
listing pages through hundreds of assignments.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from hits.task_types import external_question
from mturk_emulator.testing import register_requester
from platforms import HitSpec, PlatformError, QualificationRequirement
from platforms.mturk import MTurk

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def faults(mturk):
    from mturk_emulator import faults

    yield faults
    faults.clear_faults()


def make_platform(url: str, key: str = "AKIACONTRACT", **options) -> MTurk:
    register_requester(key, "secret")
    return MTurk(
        environment="emulator", access_key_id=key, secret_access_key="secret", endpoint_url=url, **options
    )


@pytest.fixture
def platform(mturk) -> MTurk:
    return make_platform(mturk)


def count_attempts(platform: MTurk) -> list[str]:
    """Observe every HTTP attempt botocore makes (retries included)."""
    attempts: list[str] = []
    platform.client.meta.events.register(
        "before-send.mturk.*",
        lambda request, **kwargs: attempts.append(request.headers["X-Amz-Target"].decode()),
    )
    return attempts


def spec(**overrides) -> HitSpec:
    values = {
        "title": "Rate a sentence",
        "description": "Say whether the sentence is polite.",
        "reward": Decimal("0.25"),
        "max_assignments": 3,
        "question": external_question("https://crowdhr.example.org/study/1/"),
        "lifetime_seconds": 3600,
        "duration_seconds": 600,
        "auto_approval_delay_seconds": 86400,
        "keywords": "rating, language",
    }
    return HitSpec(**(values | overrides))


def test_create_get_and_list_hits(platform):
    created = platform.create_hit(spec(), unique_request_token="contract-1")
    assert created.status == "Assignable"
    assert created.reward == Decimal("0.25") and created.max_assignments == 3 and created.available == 3
    fetched = platform.get_hit(created.hit_id)
    assert fetched.hit_id == created.hit_id and fetched.title == "Rate a sentence"
    assert created.hit_id in {hit.hit_id for hit in platform.list_hits()}
    assert platform.worker_site_url(created).endswith(f"/hits/{created.hit_id}/")


def test_a_repeated_creation_token_returns_the_first_hit_and_charges_once(platform):
    before = platform.account_balance()
    first = platform.create_hit(spec(), unique_request_token="contract-twice")
    again = platform.create_hit(spec(), unique_request_token="contract-twice")
    assert again.hit_id == first.hit_id
    assert len(platform.list_hits()) == 1
    assert before - platform.account_balance() == Decimal("0.90")  # 3 x (0.25 + 0.05 fee)


def test_expire_update_expiration_and_delete(platform, crowd):
    hit = platform.create_hit(spec(max_assignments=1), unique_request_token="contract-expire")
    platform.expire_hit(hit.hit_id)
    assert platform.get_hit(hit.hit_id).expiration <= timezone.now()
    with pytest.raises(crowd.Refused):
        crowd.accept(hit.hit_id, "AWORKER1")

    later = timezone.now() + timedelta(hours=2)
    platform.update_expiration(hit.hit_id, later)
    assert abs((platform.get_hit(hit.hit_id).expiration - later).total_seconds()) < 2
    assignment_id = crowd.work(hit.hit_id, "AWORKER1", {"answer": "yes"})

    with pytest.raises(PlatformError) as refused:
        platform.delete_hit(hit.hit_id)  # a submitted assignment is still undecided
    assert refused.value.permanent
    platform.approve_assignment(assignment_id)
    platform.expire_hit(hit.hit_id)
    platform.delete_hit(hit.hit_id)
    assert platform.get_hit(hit.hit_id).status == "Disposed"


def test_added_assignments_with_a_repeated_token_are_added_once(platform):
    hit = platform.create_hit(spec(max_assignments=3), unique_request_token="contract-more")
    platform.add_assignments(hit.hit_id, 3, unique_request_token="contract-more-1")
    platform.add_assignments(hit.hit_id, 3, unique_request_token="contract-more-1")
    assert platform.get_hit(hit.hit_id).max_assignments == 6


def test_a_hit_made_with_fewer_than_ten_assignments_cannot_grow_past_nine(platform):
    hit = platform.create_hit(spec(max_assignments=9), unique_request_token="contract-nine")
    with pytest.raises(PlatformError) as refused:
        platform.add_assignments(hit.hit_id, 1, unique_request_token="contract-nine-1")
    assert refused.value.permanent


def test_assignments_are_listed_with_their_answers_and_decided_once(platform, crowd):
    hit = platform.create_hit(spec(), unique_request_token="contract-decide")
    first = crowd.work(hit.hit_id, "AWORKER1", {"answer": "polite", "comments": "nice task"})
    second = crowd.work(hit.hit_id, "AWORKER2", {"answer": "rude"})

    listed = {a.worker_id: a for a in platform.list_assignments(hit.hit_id)}
    assert listed["AWORKER1"].answers == {"answer": "polite", "comments": "nice task"}
    assert listed["AWORKER1"].status == "Submitted" and listed["AWORKER1"].accept_time is not None
    assert platform.get_assignment(second).worker_id == "AWORKER2"

    platform.approve_assignment(first, feedback="Thank you!")
    platform.approve_assignment(first, feedback="Thank you!")  # already approved: success
    platform.reject_assignment(second, feedback="The agreed answer was: polite.")
    platform.reject_assignment(second, feedback="again")  # already rejected: success
    assert platform.get_assignment(first).status == "Approved"
    assert platform.get_assignment(second).requester_feedback == "The agreed answer was: polite."
    assert [a.worker_id for a in platform.list_assignments(hit.hit_id, statuses=["Rejected"])] == ["AWORKER2"]

    with pytest.raises(PlatformError) as refused:
        platform.reject_assignment(first, feedback="changed my mind")
    assert refused.value.permanent
    platform.approve_assignment(second, override_rejection=True)
    assert platform.get_assignment(second).status == "Approved"


def test_listing_pages_through_more_than_250_assignments(platform, crowd):
    hit = platform.create_hit(
        spec(max_assignments=260, reward=Decimal("0.01")), unique_request_token="contract-many"
    )
    for number in range(260):
        crowd.work(hit.hit_id, f"AMANY{number}", {"answer": str(number)})
    attempts = count_attempts(platform)

    listed = platform.list_assignments(hit.hit_id)

    assert len(listed) == 260
    assert len({a.assignment_id for a in listed}) == 260
    assert len(attempts) == 4  # pages of 100, 100 and 60, then the empty page MTurk ends a listing with


def test_bonuses_with_a_repeated_token_are_paid_once(platform, crowd):
    hit = platform.create_hit(spec(), unique_request_token="contract-bonus")
    assignment_id = crowd.work(hit.hit_id, "AWORKER1", {"answer": "polite"})
    before = platform.account_balance()

    for _ in range(2):
        platform.send_bonus(
            worker_id="AWORKER1",
            assignment_id=assignment_id,
            amount=Decimal("1.00"),
            reason="Your payoff in the study",
            unique_request_token="contract-bonus-1",
        )

    paid = platform.list_bonus_payments(assignment_id=assignment_id)
    assert [(b.worker_id, b.amount, b.reason) for b in paid] == [
        ("AWORKER1", Decimal("1.00"), "Your payoff in the study")
    ]
    assert [b.worker_id for b in platform.list_bonus_payments(hit_id=hit.hit_id)] == ["AWORKER1"]
    assert before - platform.account_balance() == Decimal("1.20")  # the bonus plus 20%


def test_a_bonus_goes_only_to_the_worker_who_did_the_assignment(platform, crowd):
    hit = platform.create_hit(spec(), unique_request_token="contract-bonus-who")
    assignment_id = crowd.work(hit.hit_id, "AWORKER1", {"answer": "polite"})
    with pytest.raises(PlatformError) as refused:
        platform.send_bonus(
            worker_id="AOTHER",
            assignment_id=assignment_id,
            amount=Decimal("1.00"),
            reason="x",
            unique_request_token="contract-bonus-who-1",
        )
    assert refused.value.permanent


def test_notify_workers_splits_into_calls_of_one_hundred(platform, crowd):
    hit = platform.create_hit(spec(max_assignments=1), unique_request_token="contract-notify")
    crowd.work(hit.hit_id, "AWORKER1", {"answer": "x"})
    attempts = count_attempts(platform)
    unknown = [f"AUNKNOWN{n}" for n in range(150)]

    failed = platform.notify_workers(
        ["AWORKER1", *unknown], subject="A new study", message="Come back tomorrow."
    )

    assert len(attempts) == 2
    assert "AWORKER1" not in failed


def test_blocks_and_qualifications(platform, crowd):
    platform.block_worker("AWORKER1", reason="Copied answers from another worker")
    assert platform.list_blocked_workers() == {"AWORKER1": "Copied answers from another worker"}
    platform.unblock_worker("AWORKER1", reason="Appeal accepted")
    assert platform.list_blocked_workers() == {}

    type_id = platform.ensure_qualification_type(
        name="Contract score", description="For tests", auto_granted_value=5
    )
    assert platform.ensure_qualification_type(name="Contract score", description="For tests") == type_id
    assert platform.get_qualification_score(type_id, "AWORKER1") is None
    platform.set_qualification_score(type_id, "AWORKER1", 3)
    assert platform.get_qualification_score(type_id, "AWORKER1") == 3

    requirement = QualificationRequirement(type_id, "GreaterThanOrEqualTo", (4,))
    hit = platform.create_hit(
        spec(qualification_requirements=[requirement]), unique_request_token="contract-qual"
    )
    with pytest.raises(crowd.Refused):
        crowd.accept(hit.hit_id, "AWORKER1")
    assert crowd.accept(hit.hit_id, "ANEWCOMER")  # auto-granted 5
    platform.remove_qualification(type_id, "AWORKER1", reason="reset")
    assert platform.get_qualification_score(type_id, "AWORKER1") is None


def test_accounts_are_separate(mturk):
    mine, theirs = make_platform(mturk, "AKIAMINE"), make_platform(mturk, "AKIATHEIRS")
    hit = mine.create_hit(spec(), unique_request_token="contract-mine")
    assert theirs.list_hits() == []
    assert theirs.account_balance() == Decimal("10000.00")
    assert mine.get_hit(hit.hit_id).hit_id == hit.hit_id


def test_throttling_is_retried_by_botocore(platform, faults):
    hit = platform.create_hit(spec(), unique_request_token="contract-throttle")
    faults.fail_next("GetHIT", "throttle", times=2)
    attempts = count_attempts(platform)

    assert platform.get_hit(hit.hit_id).hit_id == hit.hit_id
    assert len(attempts) == 3


def test_an_outage_longer_than_the_retries_is_a_temporary_error(mturk, faults):
    platform = make_platform(mturk, max_attempts=2)
    faults.fail_next("GetAccountBalance", "unavailable", times=5)
    with pytest.raises(PlatformError) as failed:
        platform.account_balance()
    assert not failed.value.permanent


def test_a_permanent_error_is_not_retried(platform):
    attempts = count_attempts(platform)
    with pytest.raises(PlatformError) as refused:
        platform.get_hit("NOSUCHHIT0000000000000000000000")
    assert refused.value.permanent
    assert len(attempts) == 1


def test_a_bonus_whose_answer_was_lost_is_paid_once(platform, crowd, faults):
    hit = platform.create_hit(spec(), unique_request_token="contract-lost")
    assignment_id = crowd.work(hit.hit_id, "AWORKER1", {"answer": "polite"})
    faults.fail_next("SendBonus", "lose_answer", times=1)

    platform.send_bonus(
        worker_id="AWORKER1",
        assignment_id=assignment_id,
        amount=Decimal("0.50"),
        reason="Payoff",
        unique_request_token="contract-lost-1",
    )

    assert len(platform.list_bonus_payments(assignment_id=assignment_id)) == 1


def test_a_hit_whose_creation_answer_was_lost_is_created_once(platform, faults):
    faults.fail_next("CreateHIT", "lose_answer", times=1)
    hit = platform.create_hit(spec(), unique_request_token="contract-lost-hit")
    assert [h.hit_id for h in platform.list_hits()] == [hit.hit_id]


def test_live_accounts_are_refused_unless_the_installation_is_live(researcher, settings):
    from platforms import platform_for
    from platforms.models import PlatformAccount

    live = PlatformAccount.objects.create(
        owner=researcher, name="live", environment="live", access_key_id="AKIALIVE"
    )
    settings.MTURK_ENDPOINT = "sandbox"
    with pytest.raises(PlatformError, match="MTURK_ENDPOINT=live") as refused:
        platform_for(live)
    assert refused.value.permanent
    settings.MTURK_ENDPOINT = "live"
    assert platform_for(live).name == "mturk-live"


def test_every_platform_call_is_logged_with_operation_hit_duration_and_outcome_but_no_credentials(
    mturk, caplog
):
    register_requester("AKIALOGGED", "never-in-logs")
    platform = MTurk(
        environment="emulator",
        access_key_id="AKIALOGGED",
        secret_access_key="never-in-logs",
        endpoint_url=mturk,
    )
    hit = platform.create_hit(spec(), unique_request_token="contract-logged")
    with caplog.at_level("INFO", logger="crowdhr.platform"):
        platform.get_hit(hit.hit_id)
        with pytest.raises(PlatformError):
            platform.get_hit("NOSUCHHIT0000000000000000000000")

    ok, refused = [r for r in caplog.records if r.getMessage() == "platform call" and r.operation == "GetHIT"]
    assert (ok.operation, ok.hit, ok.outcome) == ("GetHIT", hit.hit_id, "ok")
    assert ok.duration_ms >= 0
    assert refused.outcome != "ok"
    logged = caplog.text + " ".join(str(vars(r)) for r in caplog.records)
    assert "never-in-logs" not in logged and "AKIALOGGED" not in logged
