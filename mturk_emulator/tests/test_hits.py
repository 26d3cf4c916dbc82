"""HITs and assignments through the real boto3 client: create, list, extend, expire, delete, decide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from mturk_emulator import clock, workers
from mturk_emulator.tests.conftest import EXTERNAL_QUESTION


def error_of(excinfo) -> tuple[str, str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], excinfo.value.response.get("TurkErrorCode", ""), error["Message"]


def test_created_hit_can_be_read_back_and_listed(mturk, create_hit):
    hit = create_hit(RequesterAnnotation="batch 7", Keywords="pictures")

    fetched = mturk.get_hit(HITId=hit["HITId"])["HIT"]

    assert fetched["HITStatus"] == "Assignable"
    assert fetched["Reward"] == "0.50"
    assert fetched["NumberOfAssignmentsAvailable"] == 3
    assert fetched["RequesterAnnotation"] == "batch 7"
    assert fetched["Expiration"] - fetched["CreationTime"] == timedelta(hours=1)
    assert [h["HITId"] for h in mturk.list_hits()["HITs"]] == [hit["HITId"]]


def test_accounts_are_separated_by_access_key(mturk, other_mturk, create_hit):
    hit = create_hit()

    assert other_mturk.list_hits()["HITs"] == []
    with pytest.raises(ClientError) as excinfo:
        other_mturk.get_hit(HITId=hit["HITId"])
    assert error_of(excinfo)[0] == "RequestError"
    assert other_mturk.get_account_balance()["AvailableBalance"] == "10000.00"


def test_hit_type_is_shared_by_identical_hits_and_usable(mturk, create_hit):
    type_id = mturk.create_hit_type(
        Title="Label pictures",
        Description="Say what the picture shows.",
        Reward="0.50",
        AssignmentDurationInSeconds=600,
        AutoApprovalDelayInSeconds=86400,
    )["HITTypeId"]

    hit = mturk.create_hit_with_hit_type(
        HITTypeId=type_id, MaxAssignments=2, LifetimeInSeconds=3600, Question=EXTERNAL_QUESTION
    )["HIT"]

    assert hit["HITTypeId"] == type_id
    assert create_hit()["HITTypeId"] == type_id


def test_create_hit_refuses_invalid_parameters(mturk, create_hit):
    refusals = [
        {"Reward": "0.505"},
        {"Reward": "one dollar"},
        {"LifetimeInSeconds": 29},
        {"LifetimeInSeconds": 365 * 24 * 3600 + 1},
        {"Question": "<ExternalQuestion><ExternalURL>"},
        {
            "QualificationRequirements": [
                {"QualificationTypeId": "00000000000000000040", "Comparator": "Exists"}
            ]
            * 11
        },
    ]
    for overrides in refusals:
        with pytest.raises(ClientError) as excinfo:
            create_hit(**overrides)
        assert error_of(excinfo)[0] == "RequestError", overrides
    assert mturk.list_hits()["HITs"] == []
    assert mturk.get_account_balance()["AvailableBalance"] == "10000.00"


def test_boto3_itself_refuses_a_missing_required_parameter(mturk):
    with pytest.raises(ParamValidationError):
        mturk.create_hit(
            Title="No reward", Description="x", LifetimeInSeconds=60, AssignmentDurationInSeconds=60
        )


def test_unique_request_token_creates_the_hit_only_once(mturk, create_hit):
    first = create_hit(UniqueRequestToken="publish-42-batch-1")

    with pytest.raises(ClientError) as excinfo:
        create_hit(UniqueRequestToken="publish-42-batch-1")

    code, turk_code, message = error_of(excinfo)
    assert (code, turk_code) == ("RequestError", "AWS.MechanicalTurk.HitAlreadyExists")
    assert first["HITId"] in message
    assert len(mturk.list_hits()["HITs"]) == 1


def test_token_is_forgotten_after_24_hours(mturk, create_hit):
    from mturk_emulator.models import RequestToken

    create_hit(UniqueRequestToken="old-token")
    RequestToken.objects.update(created=datetime.now(UTC) - timedelta(hours=25))

    create_hit(UniqueRequestToken="old-token")

    assert len(mturk.list_hits()["HITs"]) == 2


def test_list_hits_pages_with_next_token(mturk, create_hit):
    created = {create_hit(MaxAssignments=1)["HITId"] for _ in range(12)}

    first = mturk.list_hits(MaxResults=5)
    second = mturk.list_hits(MaxResults=5, NextToken=first["NextToken"])
    third = mturk.list_hits(MaxResults=5, NextToken=second["NextToken"])

    seen = [h["HITId"] for page in (first, second, third) for h in page["HITs"]]
    assert set(seen) == created and len(seen) == 12
    # As on MTurk, the last page with results still has a NextToken; the page after it is empty.
    after = mturk.list_hits(MaxResults=5, NextToken=third["NextToken"])
    assert (after["NumResults"], after["HITs"]) == (0, [])
    assert "NextToken" not in after
    assert len(mturk.list_hits()["HITs"]) == 10  # MTurk's default page


def test_paging_through_250_assignments(mturk, create_hit):
    hit = create_hit(MaxAssignments=250, Reward="0.01")
    for number in range(250):
        workers.work(hit["HITId"], f"AWORKER{number}", {"n": str(number)})

    paginator = mturk.get_paginator("list_assignments_for_hit")
    pages = list(paginator.paginate(HITId=hit["HITId"], PaginationConfig={"PageSize": 100}))

    # botocore pages until MTurk answers an empty page without a NextToken.
    assert [page["NumResults"] for page in pages] == [100, 100, 50, 0]
    assert len({a["WorkerId"] for page in pages for a in page["Assignments"]}) == 250


def test_max_results_above_100_is_refused(emulator_url, mturk):
    import requests

    from mturk_emulator.tests.conftest import signed_headers

    body = b'{"MaxResults": 101}'
    response = requests.post(
        emulator_url, data=body, headers=signed_headers(emulator_url, body, "ListHITs"), timeout=10
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "RequestError"
    assert "MaxResults" in response.json()["Message"]


def test_hit_states_follow_its_assignments(mturk, create_hit):
    hit = create_hit(MaxAssignments=1)
    status = lambda: mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"]  # noqa: E731

    assignment_id = workers.accept(hit["HITId"], "AWORKER1")
    assert status() == "Unassignable"
    workers.submit(assignment_id, {"label": "cat"})
    assert status() == "Reviewable"
    assert [h["HITId"] for h in mturk.list_reviewable_hits()["HITs"]] == [hit["HITId"]]

    mturk.update_hit_review_status(HITId=hit["HITId"], Revert=False)
    assert status() == "Reviewing"
    assert mturk.list_reviewable_hits(Status="Reviewing")["NumResults"] == 1
    mturk.update_hit_review_status(HITId=hit["HITId"], Revert=True)
    assert status() == "Reviewable"

    mturk.approve_assignment(AssignmentId=assignment_id)
    mturk.delete_hit(HITId=hit["HITId"])
    assert status() == "Disposed"
    assert mturk.list_hits()["HITs"] == []


def test_update_expiration_in_the_past_expires_now_and_future_extends(mturk, create_hit):
    hit = create_hit()

    mturk.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=datetime(2015, 1, 1, tzinfo=UTC))
    expired = mturk.get_hit(HITId=hit["HITId"])["HIT"]
    assert expired["HITStatus"] == "Reviewable"
    assert expired["Expiration"] <= datetime.now(UTC)
    with pytest.raises(workers.WorkRefused):
        workers.accept(hit["HITId"], "AWORKER1")

    later = datetime.now(UTC) + timedelta(days=2)
    mturk.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=later)
    extended = mturk.get_hit(HITId=hit["HITId"])["HIT"]
    assert extended["HITStatus"] == "Assignable"
    assert abs((extended["Expiration"] - later).total_seconds()) < 1


def test_additional_assignments_cannot_take_a_small_hit_to_ten(mturk, create_hit):
    hit = create_hit(MaxAssignments=9)

    with pytest.raises(ClientError) as excinfo:
        mturk.create_additional_assignments_for_hit(HITId=hit["HITId"], NumberOfAdditionalAssignments=1)
    assert error_of(excinfo)[0] == "RequestError"
    assert "10" in error_of(excinfo)[2]

    small = create_hit(MaxAssignments=5)
    mturk.create_additional_assignments_for_hit(HITId=small["HITId"], NumberOfAdditionalAssignments=4)
    assert mturk.get_hit(HITId=small["HITId"])["HIT"]["MaxAssignments"] == 9

    large = create_hit(MaxAssignments=10)
    mturk.create_additional_assignments_for_hit(HITId=large["HITId"], NumberOfAdditionalAssignments=5)
    assert mturk.get_hit(HITId=large["HITId"])["HIT"]["NumberOfAssignmentsAvailable"] == 15


def test_additional_assignments_token_is_used_once(mturk, create_hit):
    hit = create_hit(MaxAssignments=2)
    mturk.create_additional_assignments_for_hit(
        HITId=hit["HITId"], NumberOfAdditionalAssignments=2, UniqueRequestToken="reopen-1"
    )

    with pytest.raises(ClientError) as excinfo:
        mturk.create_additional_assignments_for_hit(
            HITId=hit["HITId"], NumberOfAdditionalAssignments=2, UniqueRequestToken="reopen-1"
        )

    assert "already been used" in error_of(excinfo)[2]
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["MaxAssignments"] == 4


def test_delete_is_refused_while_work_is_pending_undecided_or_open(mturk, create_hit):
    hit = create_hit(MaxAssignments=2)
    assignment_id = workers.accept(hit["HITId"], "AWORKER1")

    with pytest.raises(ClientError) as excinfo:
        mturk.delete_hit(HITId=hit["HITId"])
    assert error_of(excinfo)[0] == "RequestError"

    workers.submit(assignment_id, {"label": "dog"})
    with pytest.raises(ClientError):
        mturk.delete_hit(HITId=hit["HITId"])

    mturk.reject_assignment(AssignmentId=assignment_id, RequesterFeedback="Not a dog.")
    with pytest.raises(ClientError) as excinfo:
        mturk.delete_hit(HITId=hit["HITId"])  # still Assignable: one slot open
    assert "Assignable" in error_of(excinfo)[2]

    mturk.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=datetime(2015, 1, 1, tzinfo=UTC))
    mturk.delete_hit(HITId=hit["HITId"])
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Disposed"


def test_assignment_decisions_only_from_submitted(mturk, create_hit):
    hit = create_hit()
    first = workers.work(hit["HITId"], "AWORKER1", {"label": "cat"})
    second = workers.work(hit["HITId"], "AWORKER2", {"label": "dog"})

    mturk.approve_assignment(AssignmentId=first, RequesterFeedback="Thanks!")
    mturk.reject_assignment(AssignmentId=second, RequesterFeedback="Wrong label.")

    for call, assignment_id in [
        (mturk.approve_assignment, first),
        (lambda **kw: mturk.reject_assignment(RequesterFeedback="again", **kw), second),
        (lambda **kw: mturk.reject_assignment(RequesterFeedback="late", **kw), first),
    ]:
        with pytest.raises(ClientError) as excinfo:
            call(AssignmentId=assignment_id)
        assert error_of(excinfo)[0] == "RequestError"
        assert "already" in error_of(excinfo)[2]

    approved = mturk.get_assignment(AssignmentId=first)["Assignment"]
    rejected = mturk.get_assignment(AssignmentId=second)["Assignment"]
    assert (approved["AssignmentStatus"], approved["RequesterFeedback"]) == ("Approved", "Thanks!")
    assert (rejected["AssignmentStatus"], rejected["RequesterFeedback"]) == ("Rejected", "Wrong label.")
    only_rejected = mturk.list_assignments_for_hit(HITId=hit["HITId"], AssignmentStatuses=["Rejected"])
    assert [a["AssignmentId"] for a in only_rejected["Assignments"]] == [second]


def test_rejection_can_be_overridden_within_30_days(mturk, create_hit):
    hit = create_hit()
    recent = workers.work(hit["HITId"], "AWORKER1", {"label": "cat"})
    old = workers.work(hit["HITId"], "AWORKER2", {"label": "cat"})
    mturk.reject_assignment(AssignmentId=recent, RequesterFeedback="Oops")
    mturk.reject_assignment(AssignmentId=old, RequesterFeedback="Oops")
    clock.age_assignment(old, timedelta(days=31).total_seconds())

    mturk.approve_assignment(AssignmentId=recent, OverrideRejection=True)
    with pytest.raises(ClientError) as excinfo:
        mturk.approve_assignment(AssignmentId=old, OverrideRejection=True)

    assert mturk.get_assignment(AssignmentId=recent)["Assignment"]["AssignmentStatus"] == "Approved"
    assert "30 days" in error_of(excinfo)[2]


def test_submitted_work_is_auto_approved_after_the_delay(mturk, create_hit):
    hit = create_hit(AutoApprovalDelayInSeconds=3600)
    assignment_id = workers.work(hit["HITId"], "AWORKER1", {"label": "cat"})

    clock.age_assignment(assignment_id, 3601)

    assignment = mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]
    assert assignment["AssignmentStatus"] == "Approved"
    assert assignment["ApprovalTime"] == assignment["AutoApprovalTime"]


def test_work_not_submitted_in_time_is_released(mturk, create_hit):
    hit = create_hit(MaxAssignments=1, AssignmentDurationInSeconds=60)
    assignment_id = workers.accept(hit["HITId"], "AWORKER1")

    clock.age_assignment(assignment_id, 61)

    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["NumberOfAssignmentsAvailable"] == 1
    with pytest.raises(workers.WorkRefused, match="ran out"):
        workers.submit(assignment_id, {"label": "late"})


def test_unknown_hit_and_assignment_ids_get_request_errors(mturk):
    for call in (
        lambda: mturk.get_hit(HITId="3NOSUCHHIT"),
        lambda: mturk.get_assignment(AssignmentId="3NOSUCHASSIGNMENT"),
        lambda: mturk.list_assignments_for_hit(HITId="3NOSUCHHIT"),
        lambda: mturk.update_expiration_for_hit(HITId="3NOSUCHHIT", ExpireAt=datetime.now(UTC)),
        lambda: mturk.delete_hit(HITId="3NOSUCHHIT"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo)[0] == "RequestError"


def test_paging_is_stable_while_new_hits_are_posted(mturk, create_hit):
    first_batch = [create_hit(MaxAssignments=1)["HITId"] for _ in range(4)]

    first = mturk.list_hits(MaxResults=2)
    create_hit(MaxAssignments=1)
    second = mturk.list_hits(MaxResults=2, NextToken=first["NextToken"])

    assert [h["HITId"] for h in first["HITs"] + second["HITs"]] == first_batch
