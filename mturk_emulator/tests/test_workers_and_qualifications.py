"""Qualifications, requirements, blocks and messages to workers, through the real boto3 client."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mturk_emulator import clock, qualifications, workers
from mturk_emulator.models import WorkerMessage


def create_quality_type(mturk, name: str = "Quality score", **extra) -> str:
    return mturk.create_qualification_type(
        Name=name, Description="How well the worker labels.", QualificationTypeStatus="Active", **extra
    )["QualificationType"]["QualificationTypeId"]


def test_qualification_scores_are_granted_read_and_revoked(mturk):
    type_id = create_quality_type(mturk)

    mturk.associate_qualification_with_worker(
        QualificationTypeId=type_id, WorkerId="AWORKER1", IntegerValue=87
    )
    score = mturk.get_qualification_score(QualificationTypeId=type_id, WorkerId="AWORKER1")["Qualification"]
    assert (score["IntegerValue"], score["Status"]) == (87, "Granted")
    holders = mturk.list_workers_with_qualification_type(QualificationTypeId=type_id)["Qualifications"]
    assert [q["WorkerId"] for q in holders] == ["AWORKER1"]

    mturk.disassociate_qualification_from_worker(
        QualificationTypeId=type_id, WorkerId="AWORKER1", Reason="Reset"
    )
    with pytest.raises(ClientError) as revoked:
        mturk.get_qualification_score(QualificationTypeId=type_id, WorkerId="AWORKER1")
    assert revoked.value.response["Error"]["Code"] == "RequestError"
    assert (
        "This operation can be called with a status of: Granted" in revoked.value.response["Error"]["Message"]
    )
    with pytest.raises(ClientError) as never:
        mturk.get_qualification_score(QualificationTypeId=type_id, WorkerId="ANEVERGRANTED")
    assert never.value.response["Error"]["Message"] == "You requested a Qualification that does not exist."
    holders = mturk.list_workers_with_qualification_type(QualificationTypeId=type_id, Status="Revoked")
    assert [q["WorkerId"] for q in holders["Qualifications"]] == ["AWORKER1"]


def test_qualification_type_names_are_unique_per_account(mturk, other_mturk):
    create_quality_type(mturk, RetryDelayInSeconds=3600)

    with pytest.raises(ClientError) as excinfo:
        create_quality_type(mturk)
    assert excinfo.value.response["Error"]["Code"] == "RequestError"
    create_quality_type(other_mturk)

    mine = mturk.list_qualification_types(MustBeRequestable=True, MustBeOwnedByCaller=True)[
        "QualificationTypes"
    ]
    assert [(t["Name"], t["RetryDelayInSeconds"]) for t in mine] == [("Quality score", 3600)]


def test_qualification_type_can_be_read_updated_and_deleted(mturk):
    type_id = create_quality_type(mturk)

    mturk.update_qualification_type(
        QualificationTypeId=type_id, Description="New text", RetryDelayInSeconds=60
    )
    fetched = mturk.get_qualification_type(QualificationTypeId=type_id)["QualificationType"]
    assert (fetched["Description"], fetched["RetryDelayInSeconds"]) == ("New text", 60)

    mturk.delete_qualification_type(QualificationTypeId=type_id)
    with pytest.raises(ClientError):
        mturk.get_qualification_type(QualificationTypeId=type_id)
    create_quality_type(mturk)  # the name is free again


def test_requirement_refuses_a_low_score_and_accepts_a_high_one(mturk, create_hit):
    type_id = create_quality_type(mturk)
    mturk.associate_qualification_with_worker(QualificationTypeId=type_id, WorkerId="ALOW", IntegerValue=40)
    mturk.associate_qualification_with_worker(QualificationTypeId=type_id, WorkerId="AHIGH", IntegerValue=90)
    requirement = {
        "QualificationTypeId": type_id,
        "Comparator": "GreaterThanOrEqualTo",
        "IntegerValues": [80],
    }
    hit = create_hit(QualificationRequirements=[requirement])

    with pytest.raises(workers.WorkRefused, match="Quality score"):
        workers.accept(hit["HITId"], "ALOW")
    with pytest.raises(workers.WorkRefused):
        workers.accept(hit["HITId"], "ANOSCORE")
    assert workers.accept(hit["HITId"], "AHIGH")

    listed = mturk.list_hits_for_qualification_type(QualificationTypeId=type_id, MaxResults=10)["HITs"]
    assert [h["HITId"] for h in listed] == [hit["HITId"]]


@pytest.mark.parametrize(
    ("comparator", "values", "allowed"),
    [
        ("Exists", [], {"ALOW", "AHIGH"}),
        ("DoesNotExist", [], {"ANOSCORE"}),
        ("LessThan", [50], {"ALOW"}),
        ("In", [40, 41], {"ALOW"}),
        ("NotIn", [40], {"AHIGH"}),
    ],
)
def test_comparators(mturk, create_hit, comparator, values, allowed):
    type_id = create_quality_type(mturk)
    mturk.associate_qualification_with_worker(QualificationTypeId=type_id, WorkerId="ALOW", IntegerValue=40)
    mturk.associate_qualification_with_worker(QualificationTypeId=type_id, WorkerId="AHIGH", IntegerValue=90)
    requirement = {"QualificationTypeId": type_id, "Comparator": comparator}
    if values:
        requirement["IntegerValues"] = values
    hit = create_hit(QualificationRequirements=[requirement])

    accepted = set()
    for worker_id in ("ALOW", "AHIGH", "ANOSCORE"):
        try:
            workers.accept(hit["HITId"], worker_id)
            accepted.add(worker_id)
        except workers.WorkRefused:
            pass
    assert accepted == allowed


def test_locale_requirement(mturk, create_hit):
    workers.set_locale("AINUS", "US", "CA")
    workers.set_locale("AINDE", "DE")
    requirement = {
        "QualificationTypeId": qualifications.LOCALE,
        "Comparator": "In",
        "LocaleValues": [{"Country": "US", "Subdivision": "CA"}, {"Country": "GB"}],
    }
    hit = create_hit(QualificationRequirements=[requirement])

    assert workers.accept(hit["HITId"], "AINUS")
    with pytest.raises(workers.WorkRefused, match="Location"):
        workers.accept(hit["HITId"], "AINDE")


def test_actions_guarded_decides_whether_a_hit_is_even_listed(mturk, create_hit):
    type_id = create_quality_type(mturk)
    hidden = create_hit(
        QualificationRequirements=[
            {
                "QualificationTypeId": type_id,
                "Comparator": "Exists",
                "ActionsGuarded": "DiscoverPreviewAndAccept",
            }
        ]
    )
    visible = create_hit(QualificationRequirements=[{"QualificationTypeId": type_id, "Comparator": "Exists"}])

    listed = {hit.hit_id for hit in workers.marketplace_hits("AUNQUALIFIED")}

    assert visible["HITId"] in listed and hidden["HITId"] not in listed


def test_a_blocked_worker_cannot_accept_until_unblocked(mturk, create_hit):
    hit = create_hit()
    mturk.create_worker_block(WorkerId="ASPAMMER", Reason="Random answers")

    with pytest.raises(workers.WorkRefused, match="blocked"):
        workers.accept(hit["HITId"], "ASPAMMER")
    blocks = mturk.list_worker_blocks()["WorkerBlocks"]
    assert blocks == [{"WorkerId": "ASPAMMER", "Reason": "Random answers"}]

    mturk.delete_worker_block(WorkerId="ASPAMMER", Reason="Appeal accepted")
    assert workers.accept(hit["HITId"], "ASPAMMER")
    assert mturk.list_worker_blocks()["WorkerBlocks"] == []


def test_notify_workers_delivers_only_to_workers_whose_work_was_decided(mturk, other_mturk, create_hit):
    hit = create_hit()
    mturk.approve_assignment(AssignmentId=workers.work(hit["HITId"], "AAPPROVED", {"label": "cat"}))
    mturk.reject_assignment(
        AssignmentId=workers.work(hit["HITId"], "AREJECTED", {"label": "?"}), RequesterFeedback="Empty."
    )
    workers.work(hit["HITId"], "AUNDECIDED", {"label": "dog"})
    workers.ensure_worker("ASTRANGER")
    everyone = ["AAPPROVED", "AREJECTED", "AUNDECIDED", "ASTRANGER", "AGHOST"]

    result = mturk.notify_workers(Subject="New batch", MessageText="More pictures today.", WorkerIds=everyone)
    theirs = other_mturk.notify_workers(Subject="Hi", MessageText="Hello.", WorkerIds=["AAPPROVED"])

    failures = result["NotifyWorkersFailureStatuses"]
    assert [(f["WorkerId"], f["NotifyWorkersFailureCode"]) for f in failures] == [
        ("AUNDECIDED", "HardFailure"),
        ("ASTRANGER", "HardFailure"),
        ("AGHOST", "HardFailure"),
    ]
    assert all("approved or rejected" in f["NotifyWorkersFailureMessage"] for f in failures)
    assert [f["WorkerId"] for f in theirs["NotifyWorkersFailureStatuses"]] == ["AAPPROVED"]
    assert sorted(WorkerMessage.objects.values_list("worker_id", "subject")) == [
        ("AAPPROVED", "New batch"),
        ("AREJECTED", "New batch"),
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"WorkerIds": [f"AWORKER{n}" for n in range(101)]},
        {"Subject": "x" * 201},
        {"MessageText": "x" * 4097},
    ],
)
def test_notify_workers_limits(mturk, overrides):
    params = {"Subject": "Hello", "MessageText": "Hi", "WorkerIds": ["AKNOWN"]} | overrides

    with pytest.raises(ClientError) as excinfo:
        mturk.notify_workers(**params)

    assert excinfo.value.response["Error"]["Code"] == "RequestError"
    assert not WorkerMessage.objects.exists()


def test_qualification_requests_can_be_accepted_or_rejected(mturk):
    type_id = create_quality_type(mturk, RetryDelayInSeconds=600)
    first = workers.request_qualification(type_id, "AASKER1", answer="I label well")
    second = workers.request_qualification(type_id, "AASKER2")

    pending = mturk.list_qualification_requests(QualificationTypeId=type_id)["QualificationRequests"]
    assert {r["QualificationRequestId"] for r in pending} == {first, second}

    mturk.accept_qualification_request(QualificationRequestId=first, IntegerValue=70)
    mturk.reject_qualification_request(QualificationRequestId=second, Reason="Not now")
    score = mturk.get_qualification_score(QualificationTypeId=type_id, WorkerId="AASKER1")["Qualification"]
    assert score["IntegerValue"] == 70
    assert mturk.list_qualification_requests()["QualificationRequests"] == []

    with pytest.raises(workers.WorkRefused, match="again after"):
        workers.request_qualification(type_id, "AASKER2")
    from mturk_emulator.models import QualificationRequest

    request = QualificationRequest.objects.get(request_id=second)
    request.decided_time = request.decided_time.replace(year=request.decided_time.year - 1)
    request.save()
    assert workers.request_qualification(type_id, "AASKER2")


def test_system_qualification_counts_approved_hits(mturk, create_hit):
    warmup = create_hit(MaxAssignments=2)
    done = workers.work(warmup["HITId"], "AVETERAN", {"label": "cat"})
    mturk.approve_assignment(AssignmentId=done)
    requirement = {
        "QualificationTypeId": qualifications.NUMBER_HITS_APPROVED,
        "Comparator": "GreaterThanOrEqualTo",
        "IntegerValues": [1],
    }
    hit = create_hit(QualificationRequirements=[requirement])

    assert workers.accept(hit["HITId"], "AVETERAN")
    with pytest.raises(workers.WorkRefused):
        workers.accept(hit["HITId"], "ANEWCOMER")
    clock.process_due()
