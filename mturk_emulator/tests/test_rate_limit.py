"""MTurk's request rate limit, seen through the real boto3 client: a token bucket per account."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from botocore.exceptions import ClientError

from mturk_emulator import faults
from mturk_emulator.protocol import ThrottlingError
from mturk_emulator.rate_limit import Buckets, RateLimit, clear_rate_limit, set_rate_limit
from mturk_emulator.tests.conftest import requester_client


@pytest.fixture(autouse=True)
def unlimited_after():
    clear_rate_limit()
    yield
    clear_rate_limit()


@pytest.fixture
def no_retry(emulator_url, transactional_db):
    return requester_client(emulator_url, "AKIDRESEARCHERONE", retries={"total_max_attempts": 1})


def outcome(call) -> str:
    try:
        call()
    except ClientError as error:
        response = error.response
        return f"{response['Error']['Code']} {response['ResponseMetadata']['HTTPStatusCode']}: {response['Error']['Message']}"
    return "ok"


def test_no_limit_by_default(no_retry):
    assert {outcome(no_retry.get_account_balance) for _ in range(30)} == {"ok"}


def test_over_the_limit_mturk_answers_throttling_exception(no_retry):
    set_rate_limit(0.01, burst=3)

    seen = [outcome(no_retry.get_account_balance) for _ in range(5)]

    assert seen == ["ok"] * 3 + ["ThrottlingException 400: Rate exceeded"] * 2


def test_each_requester_account_has_its_own_bucket(no_retry, emulator_url):
    other = requester_client(emulator_url, "AKIDRESEARCHERTWO", retries={"total_max_attempts": 1})
    set_rate_limit(0.01, burst=1)

    assert outcome(no_retry.get_account_balance) == "ok"
    assert outcome(no_retry.get_account_balance).startswith("ThrottlingException")
    assert outcome(other.get_account_balance) == "ok"


def test_botocore_standard_retry_gets_through_at_the_rate(emulator_url, transactional_db):
    retrying = requester_client(
        emulator_url, "AKIDRESEARCHERONE", retries={"mode": "standard", "max_attempts": 8}
    )
    set_rate_limit(10, burst=1)

    answers = [retrying.get_account_balance() for _ in range(4)]

    assert all(answer["AvailableBalance"] == "10000.00" for answer in answers)
    assert sum(answer["ResponseMetadata"]["RetryAttempts"] for answer in answers) >= 1


def test_callers_at_once_get_exactly_the_burst(no_retry):
    set_rate_limit(0.01, burst=10)

    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = list(pool.map(lambda _: outcome(no_retry.get_account_balance), range(30)))

    assert seen.count("ok") == 10
    assert seen.count("ThrottlingException 400: Rate exceeded") == 20


def test_the_setting_limits_every_account(no_retry, settings):
    settings.MTURK_EMULATOR_RATE_LIMIT = "0.01,2"

    assert [outcome(no_retry.get_account_balance) for _ in range(3)][-1].startswith("ThrottlingException")
    settings.MTURK_EMULATOR_RATE_LIMIT = None
    assert outcome(no_retry.get_account_balance) == "ok"


def test_tokens_come_back_at_the_rate():
    now = [100.0]
    buckets = Buckets(clock=lambda: now[0])
    buckets.set(RateLimit(per_second=4, burst=2))

    taken = 0
    for _ in range(40):  # ten seconds, a call every quarter second, two at once
        for _ in range(2):
            try:
                buckets.take("A")
                taken += 1
            except ThrottlingError:
                pass
        now[0] += 0.25

    assert taken == 2 + 39  # the burst, then one token per quarter second


def test_fault_endpoint_sets_and_clears_the_limit(live_server, no_retry, settings):
    url = f"{live_server.url}/emulator/faults/"
    settings.MTURK_EMULATOR_FAULT_ENDPOINT = True

    posted = requests.post(url, json={"rate_limit": {"per_second": 0.01, "burst": 1}}, timeout=10)

    assert posted.json()["rate_limit"] == {"per_second": 0.01, "burst": 1}
    assert outcome(no_retry.get_account_balance) == "ok"
    assert outcome(no_retry.get_account_balance).startswith("ThrottlingException")
    assert requests.delete(url, timeout=10).json()["rate_limit"] is None
    assert outcome(no_retry.get_account_balance) == "ok"
    for bad in ({"per_second": 0}, {"per_second": 5, "burst": 0.5}, "lots", [1, 2, 3], {"burst": 3}, True):
        answer = requests.post(url, json={"rate_limit": bad}, timeout=10)
        assert answer.status_code == 400, bad
    faults.clear_faults()
