"""The wire protocol: malformed requests get MTurk-shaped errors, and every operation answers."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
import requests
from botocore.exceptions import ClientError

from mturk_emulator import protocol, workers
from mturk_emulator.requester import OPERATIONS
from mturk_emulator.testing import register_requester, secret_for
from mturk_emulator.tests.conftest import make_client, signed_headers

SIGNED = "signed"


def call(
    url: str, body: str | bytes, target: str | None = "ListHITs", authorization: str = SIGNED, method="POST"
):
    """A raw request signed as botocore signs (unless `authorization` replaces the signature)."""
    register_requester("AKIDRAW", secret_for("AKIDRAW"))
    data = body.encode() if isinstance(body, str) else body
    headers = signed_headers(url, data, target, "AKIDRAW", method=method)
    if authorization != SIGNED:
        headers["Authorization"] = authorization
    return requests.request(method, url, data=data, headers=headers, timeout=10)


def test_all_39_operations_of_the_service_model_are_implemented():
    assert sorted(OPERATIONS) == protocol.operation_names()
    assert len(OPERATIONS) == 39


@pytest.mark.parametrize(
    ("body", "target", "authorization", "method", "fragment"),
    [
        ("{not json", "ListHITs", SIGNED, "POST", "JSON"),
        ("[1, 2]", "ListHITs", SIGNED, "POST", "JSON object"),
        ("{}", "LaunchRockets", SIGNED, "POST", "Unknown operation"),
        ("{}", None, SIGNED, "POST", "X-Amz-Target"),
        ("{}", "ListHITs", SIGNED, "GET", "POST"),
        ('{"HITId": 42}', "GetHIT", SIGNED, "POST", "HITId"),
        ("{}", "GetHIT", SIGNED, "POST", "HITId"),
        ('{"HITId": "3ABC", "Colour": "red"}', "GetHIT", SIGNED, "POST", "Colour"),
        ('{"HITId": "not-an-id"}', "GetHIT", SIGNED, "POST", "pattern"),
        ('{"HITId": "3NOSUCHHIT"}', "GetHIT", SIGNED, "POST", "does not exist"),
        ('{"MaxResults": "ten"}', "ListHITs", SIGNED, "POST", "MaxResults"),
        ('{"NextToken": "garbage"}', "ListHITs", SIGNED, "POST", "NextToken"),
        ('{"HITId": "3ABC", "ExpireAt": "tomorrow"}', "UpdateExpirationForHIT", SIGNED, "POST", "ExpireAt"),
        (
            '{"WorkerId": "AW1", "Reason": "x", "Extra": {"a": 1}}',
            "CreateWorkerBlock",
            SIGNED,
            "POST",
            "Extra",
        ),
    ],
)
def test_bad_requests_get_request_errors(
    emulator_url, transactional_db, body, target, authorization, method, fragment
):
    response = call(emulator_url, body, target, authorization, method)

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
    answer = response.json()
    assert answer["__type"] == "RequestError"
    assert fragment in answer["Message"]
    assert answer["TurkErrorCode"]


def test_timestamps_are_epoch_seconds_on_the_wire(emulator_url, transactional_db):
    response = call(emulator_url, "{}", "ListHITs")
    assert response.json() == {"NumResults": 0, "HITs": []}
    created = call(
        emulator_url,
        json.dumps(
            {
                "Title": "t",
                "Description": "d",
                "Reward": "0.10",
                "LifetimeInSeconds": 60,
                "AssignmentDurationInSeconds": 60,
                "HITLayoutId": "3LAYOUT",
            }
        ),
        "CreateHIT",
    ).json()["HIT"]
    assert isinstance(created["CreationTime"], float)
    assert created["Expiration"] - created["CreationTime"] == pytest.approx(60)


def test_remaining_operations(mturk, create_hit):
    hit = create_hit()
    other_type = mturk.create_hit_type(
        Title="Label pictures", Description="Other text", Reward="1.00", AssignmentDurationInSeconds=900
    )["HITTypeId"]

    mturk.update_hit_type_of_hit(HITId=hit["HITId"], HITTypeId=other_type)
    moved = mturk.get_hit(HITId=hit["HITId"])["HIT"]
    assert (
        moved["HITTypeId"],
        moved["Description"],
        moved["AssignmentDurationInSeconds"],
        moved["Reward"],
    ) == (
        other_type,
        "Other text",
        900,
        "1.00",
    )
    # Three slots now cost $1.20 each instead of $0.60.
    assert mturk.get_account_balance()["AvailableBalance"] == "9996.40"

    notification = {
        "Destination": "https://example.org/hook",
        "Transport": "SNS",
        "Version": "2006-05-05",
        "EventTypes": ["AssignmentSubmitted"],
    }
    mturk.update_notification_settings(HITTypeId=other_type, Notification=notification, Active=True)
    mturk.send_test_event_notification(Notification=notification, TestEventType="AssignmentSubmitted")

    results = mturk.list_review_policy_results_for_hit(HITId=hit["HITId"])
    assert results["HITId"] == hit["HITId"]

    assignment_id = workers.work(hit["HITId"], "AWORKER1", {"label": "cat"})
    with pytest.raises(ClientError) as excinfo:
        mturk.get_file_upload_url(AssignmentId=assignment_id, QuestionIdentifier="photo")
    assert "no uploaded file" in excinfo.value.response["Error"]["Message"]


def test_two_researchers_approving_the_same_assignment_at_once_approve_it_once(
    emulator_url, mturk, create_hit
):
    hit = create_hit()
    assignment_id = workers.work(hit["HITId"], "AWORKER1", {"label": "cat"})
    clients = [make_client(emulator_url, "AKIDRESEARCHERONE") for _ in range(2)]
    outcomes: list[str] = []

    def approve(client) -> None:
        try:
            client.approve_assignment(AssignmentId=assignment_id)
            outcomes.append("approved")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Message"])

    threads = [threading.Thread(target=approve, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("approved") == 1
    assert any("already" in outcome for outcome in outcomes)


def test_two_workers_racing_for_the_last_slot(mturk, create_hit):
    hit = create_hit(MaxAssignments=1)
    results: list[str] = []

    def take(worker_id: str) -> None:
        try:
            results.append(workers.accept(hit["HITId"], worker_id))
        except workers.WorkRefused as refusal:
            results.append(str(refusal))

    threads = [threading.Thread(target=take, args=(f"ARACER{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum("taken" in result for result in results) == 1
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["NumberOfAssignmentsPending"] == 1


def test_expire_at_accepts_a_datetime_from_boto3(mturk, create_hit):
    hit = create_hit()
    mturk.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=datetime(2099, 5, 1, tzinfo=UTC))
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["Expiration"].year == 2099
