"""MTurk's client on the wire, against the local Mechanical Turk through the real boto3 client:
botocore retries throttling and not permanent errors (a throttled CreateHIT goes again with the
pace's next token instead, past botocore's attempts), listing and messaging page as MTurk does,
the question XML crowdhr posts, the micro-batch rule, the money gate and the call log.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from mturk_emulator import faults as emulator_faults
from mturk_emulator.testing import register_requester
from platforms import ExternalPage, HtmlForm, PlatformError, platform_for
from platforms.models import PlatformAccount
from platforms.mturk import MTurk, question_xml
from platforms.tests.conftest import mturk_client
from platforms.tests.test_platform_contract import spec

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def faults(mturk):
    yield emulator_faults
    emulator_faults.clear_faults()


@pytest.fixture
def platform(mturk) -> MTurk:
    return mturk_client(mturk, "AKIACONTRACT")


def count_attempts(platform: MTurk) -> list[str]:
    """Observe every HTTP attempt botocore makes (retries included)."""
    attempts: list[str] = []
    platform.client.meta.events.register(
        "before-send.mturk.*",
        lambda request, **kwargs: attempts.append(request.headers["X-Amz-Target"].decode()),
    )
    return attempts


def test_where_the_worker_goes_becomes_mturk_question_xml():
    external = question_xml(ExternalPage("https://crowdhr.example.org/study/1/?a=1&b=2"))
    assert "<ExternalQuestion" in external and "?a=1&amp;b=2</ExternalURL>" in external
    form = question_xml(HtmlForm('<input name="answer"> ]]> end'))
    assert "<HTMLQuestion" in form and 'id="mturk_form"' in form and '<input name="answer">' in form
    assert "]]&gt; end" in form  # the form cannot close the CDATA section


def test_the_worker_site_shows_the_hit(platform):
    created = platform.create_hit(spec(), unique_request_token="mturk-site")
    assert platform.worker_site_url(created).endswith(f"/hits/{created.hit_id}/")


def test_a_hit_made_with_fewer_than_ten_assignments_cannot_grow_past_nine(platform):
    hit = platform.create_hit(spec(places=9), unique_request_token="contract-nine")
    with pytest.raises(PlatformError) as refused:
        platform.add_assignments(hit.hit_id, 1, unique_request_token="contract-nine-1")
    assert refused.value.permanent


def test_listing_pages_through_more_than_250_assignments(platform, crowd):
    hit = platform.create_hit(spec(places=260, reward=Decimal("0.01")), unique_request_token="contract-many")
    for number in range(260):
        crowd.work(hit.hit_id, f"AMANY{number}", {"answer": str(number)})
    attempts = count_attempts(platform)

    listed = platform.list_assignments(hit.hit_id)

    assert len(listed) == 260
    assert len({a.assignment_id for a in listed}) == 260
    assert len(attempts) == 3  # pages of 100, 100 and 60: a short page is the last, no empty page asked


def test_work_in_progress_of_a_studys_hits_is_counted_in_as_few_calls_as_the_account_allows(platform, crowd):
    hits = [platform.create_hit(spec(places=3), unique_request_token=f"busy-{n}") for n in range(4)]
    for n, hit in enumerate(hits):
        for worker in range(n):
            crowd.accept(hit.hit_id, f"ABUSY{n}X{worker}")
    wanted = [hit.hit_id for hit in hits[1:]]  # one HIT of the account is another study's

    attempts = count_attempts(platform)
    listed = platform.in_progress_of(wanted, account_hits=len(hits))  # one page beats three GetHITs
    one_each = platform.in_progress_of(wanted, account_hits=1000)  # ten pages would not

    assert listed == one_each == {hits[1].hit_id: 1, hits[2].hit_id: 2, hits[3].hit_id: 3}
    assert (
        attempts
        == ["MTurkRequesterServiceV20170117.ListHITs"] + ["MTurkRequesterServiceV20170117.GetHIT"] * 3
    )
    assert platform.in_progress_of(["3NOSUCHHIT"], account_hits=1000) == {}  # unknown: left out


def test_notify_workers_splits_into_calls_of_one_hundred(platform, crowd):
    hit = platform.create_hit(spec(places=1), unique_request_token="contract-notify")
    platform.approve_assignment(crowd.work(hit.hit_id, "AWORKER1", {"answer": "x"}))
    attempts = count_attempts(platform)
    unknown = [f"AUNKNOWN{n}" for n in range(150)]

    failed = platform.notify_workers(
        ["AWORKER1", *unknown], subject="A new study", message="Come back tomorrow."
    )

    assert len(attempts) == 2
    assert "AWORKER1" not in failed


def test_throttling_is_retried_by_botocore(platform, faults):
    hit = platform.create_hit(spec(), unique_request_token="contract-throttle")
    faults.fail_next("GetHIT", "throttle", times=2)
    attempts = count_attempts(platform)

    assert platform.get_hit(hit.hit_id).hit_id == hit.hit_id
    assert len(attempts) == 3


def test_a_throttled_create_hit_goes_again_with_the_next_token_past_botocores_attempts(platform, faults):
    faults.fail_next("CreateHIT", "throttle", times=8)  # botocore gives up after 6 attempts
    attempts = count_attempts(platform)

    hit = platform.create_hit(spec(), unique_request_token="contract-paced")

    assert len(attempts) == 9
    assert [listed.hit_id for listed in platform.list_hits()] == [hit.hit_id]


def test_a_create_hit_throttled_to_its_last_attempt_is_a_temporary_error(mturk, faults):
    platform = mturk_client(mturk, "AKIACONTRACT", throttled_attempts=3)
    faults.fail_next("CreateHIT", "throttle", times=3)
    with pytest.raises(PlatformError) as failed:
        platform.create_hit(spec(), unique_request_token="contract-throttled-out")
    assert not failed.value.permanent
    assert platform.list_hits() == []


def test_an_outage_of_create_hit_is_left_to_botocores_backoff(mturk, faults):
    platform = mturk_client(mturk, "AKIACONTRACT", max_attempts=1)
    faults.fail_next("CreateHIT", "unavailable", times=2)
    with pytest.raises(PlatformError) as failed:
        platform.create_hit(spec(), unique_request_token="contract-outage")
    assert not failed.value.permanent


def test_an_outage_longer_than_the_retries_is_a_temporary_error(mturk, faults):
    platform = mturk_client(mturk, "AKIACONTRACT", max_attempts=2)
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


def test_live_accounts_are_refused_unless_the_installation_is_live(researcher, settings):
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
