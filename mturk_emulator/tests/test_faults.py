"""Injected faults, seen through the real boto3 client: throttling, outages, faults, lost answers."""

from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError

from mturk_emulator import faults
from mturk_emulator.tests.conftest import EXTERNAL_QUESTION, requester_client

HIT_PARAMS = {
    "Title": "Label pictures",
    "Description": "Say what the picture shows.",
    "Reward": "0.50",
    "MaxAssignments": 2,
    "LifetimeInSeconds": 3600,
    "AssignmentDurationInSeconds": 600,
    "Question": EXTERNAL_QUESTION,
}


@pytest.fixture
def no_retry(emulator_url, transactional_db):
    """A client that gives up after the first failure, so each fault is seen as it is."""
    return requester_client(emulator_url, "AKIDRESEARCHERONE", retries={"total_max_attempts": 1})


def failure(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as excinfo:
        call()
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_throttling_is_retried_by_botocore(mturk):
    faults.fail_next("GetAccountBalance", "throttle", times=1)

    answer = mturk.get_account_balance()

    assert answer["AvailableBalance"] == "10000.00"
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("throttle", ("ThrottlingException", 400)),
        ("unavailable", ("ServiceUnavailable", 503)),
        ("fault", ("ServiceFault", 500)),
    ],
)
def test_each_fault_kind_reaches_the_client(no_retry, kind, expected):
    faults.fail_next("GetAccountBalance", kind)

    assert failure(no_retry.get_account_balance) == expected
    assert no_retry.get_account_balance()["AvailableBalance"] == "10000.00"


def test_a_lost_answer_still_creates_the_hit_and_the_token_finds_it(no_retry):
    faults.fail_next("CreateHIT", "lose_answer")

    assert failure(lambda: no_retry.create_hit(UniqueRequestToken="batch-1", **HIT_PARAMS)) == (
        "ServiceFault",
        500,
    )

    hits = no_retry.list_hits()["HITs"]
    assert len(hits) == 1
    with pytest.raises(ClientError) as excinfo:
        no_retry.create_hit(UniqueRequestToken="batch-1", **HIT_PARAMS)
    assert excinfo.value.response["TurkErrorCode"] == "AWS.MechanicalTurk.HitAlreadyExists"
    assert hits[0]["HITId"] in excinfo.value.response["Error"]["Message"]


def test_botocore_retry_after_a_lost_answer_meets_the_used_token(mturk):
    faults.fail_next("CreateHIT", "lose_answer")

    with pytest.raises(ClientError) as excinfo:
        mturk.create_hit(UniqueRequestToken="batch-2", **HIT_PARAMS)

    assert excinfo.value.response["TurkErrorCode"] == "AWS.MechanicalTurk.HitAlreadyExists"
    assert len(mturk.list_hits()["HITs"]) == 1
    assert mturk.get_account_balance()["AvailableBalance"] == "9998.80"


def test_operations_filter_limits_random_faults(no_retry):
    faults.set_faults(fault=1.0, operations=["CreateHIT"])

    assert no_retry.get_account_balance()["AvailableBalance"] == "10000.00"
    assert failure(lambda: no_retry.create_hit(**HIT_PARAMS)) == ("ServiceFault", 500)
    faults.clear_faults()
    assert no_retry.create_hit(**HIT_PARAMS)["HIT"]["HITStatus"] == "Assignable"


def test_a_seed_makes_random_faults_repeatable(no_retry):
    def outcomes() -> list[str]:
        seen = []
        for _ in range(16):
            try:
                no_retry.get_account_balance()
                seen.append("ok")
            except ClientError as error:
                seen.append(error.response["Error"]["Code"])
        return seen

    faults.set_faults(throttle=0.3, unavailable=0.2, seed=7)
    first = outcomes()
    faults.set_faults(throttle=0.3, unavailable=0.2, seed=7)
    second = outcomes()

    assert first == second
    assert {"ok", "ThrottlingException", "ServiceUnavailable"} == set(first)


def test_fault_control_endpoint(live_server, no_retry, settings):
    url = f"{live_server.url}/emulator/faults/"
    settings.MTURK_EMULATOR_FAULT_ENDPOINT = True

    posted = requests.post(
        url,
        json={"latency_ms": 5, "next": [{"operation": "GetHIT", "kind": "unavailable", "times": 2}]},
        timeout=10,
    )
    assert posted.status_code == 200
    assert posted.json()["next"] == [{"operation": "GetHIT", "kind": "unavailable", "times": 2}]
    assert failure(lambda: no_retry.get_hit(HITId="3ANY")) == ("ServiceUnavailable", 503)

    assert requests.delete(url, timeout=10).json()["next"] == []
    assert failure(lambda: no_retry.get_hit(HITId="3ANY"))[0] == "RequestError"
    assert requests.post(url, data="not json", timeout=10).status_code == 400
    for bad in (
        {"next": [{"kind": "explode"}]},
        {"next": "fault"},
        {"throttle": 2},
        {"throttle": "lots"},
        [1],
    ):
        assert requests.post(url, json=bad, timeout=10).status_code == 400, bad


def test_fault_control_endpoint_is_not_found_unless_switched_on(live_server, no_retry, settings):
    url = f"{live_server.url}/emulator/faults/"
    settings.MTURK_EMULATOR_FAULT_ENDPOINT = False

    for method in ("GET", "POST", "DELETE"):
        assert requests.request(method, url, json={"fault": 1.0}, timeout=10).status_code == 404
    assert no_retry.get_account_balance()["AvailableBalance"] == "10000.00"
