"""Scores on the platform never go backwards: a slower sync's older value is overwritten by the
current one, an unknown outcome is sent again, and the drift check repairs what changed behind
crowdhr's back. Verified against the local MTurk."""

from __future__ import annotations

import pytest
from django.db import transaction

from platforms import platform_for
from platforms.mturk import MTurk
from workers import scoring
from workers.models import Qualification, Worker, WorkerQualification

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker_scores(account):
    worker = Worker.objects.create(platform=account.platform, worker_id="AWSCORE")
    decide_once_more(account, worker)
    return worker


def on_platform(account, worker, qualification=Qualification.TOTAL_HITS) -> int | None:
    type_id = scoring.qualification_type_id(account, qualification)
    return platform_for(account).get_qualification_score(type_id, worker.worker_id)


def decide_once_more(account, worker) -> None:
    with transaction.atomic():  # as the ledger records a decision
        scoring.record_outcome(
            scoring.Outcome(account=account, worker=worker, approved=True, early_bird=False, reference="more")
        )


def test_an_older_value_arriving_last_is_replaced_by_the_newest(account, worker_scores, monkeypatch):
    total = WorkerQualification.objects.get(worker=worker_scores, qualification=Qualification.TOTAL_HITS)
    assert total.value == 1
    real_send = MTurk.set_qualification_score
    overtaken = []

    def slow_send(platform, type_id, worker_id, value):
        # The first send of the total (value 1) is overtaken: meanwhile a decision raises the total
        # to 2 and a concurrent, faster sync sends 2 and records it as synced. Then 1 arrives.
        total_type = scoring.qualification_type_id(account, Qualification.TOTAL_HITS)
        if value == 1 and type_id == total_type and not overtaken:
            overtaken.append(value)
            decide_once_more(account, worker_scores)
            monkeypatch.setattr(MTurk, "set_qualification_score", real_send)
            scoring.sync_qualifications()
            monkeypatch.setattr(MTurk, "set_qualification_score", slow_send)
        real_send(platform, type_id, worker_id, value)

    monkeypatch.setattr(MTurk, "set_qualification_score", slow_send)
    scoring.sync_qualifications()

    assert overtaken == [1]
    assert on_platform(account, worker_scores) == 2
    total.refresh_from_db()
    assert total.value == total.synced_value == 2
    assert not WorkerQualification.objects.unsynced().exists()


def test_a_send_with_an_unknown_outcome_is_sent_again(account, worker_scores, faults_endpoint):
    from mturk_emulator import faults

    # every answer lost, whichever of the sync's concurrent sends (and botocore's retries) asks
    faults.fail_next("AssociateQualificationWithWorker", "lose_answer", times=100)
    scoring.sync_qualifications()
    faults.clear_faults()
    assert WorkerQualification.objects.unsynced().exists()

    scoring.sync_qualifications()

    assert not WorkerQualification.objects.unsynced().exists()
    assert on_platform(account, worker_scores, Qualification.QUALITY_SCORE) == scoring.QUALITY_START + 1


def test_the_drift_check_repairs_a_score_changed_on_the_platform_and_reports_it(account, worker_scores):
    scoring.sync_qualifications()
    assert scoring.repair_score_drift() == []
    type_id = scoring.qualification_type_id(account, Qualification.QUALITY_SCORE)
    platform_for(account).set_qualification_score(type_id, worker_scores.worker_id, 5)  # behind our back

    repaired = scoring.repair_score_drift()

    assert [(d.worker_id, d.on_platform, d.in_crowdhr) for d in repaired] == [
        ("AWSCORE", 5, scoring.QUALITY_START + 1)
    ]
    assert "Quality Score" in str(repaired[0])
    assert on_platform(account, worker_scores, Qualification.QUALITY_SCORE) == scoring.QUALITY_START + 1
    assert scoring.repair_score_drift() == []


@pytest.fixture
def faults_endpoint(mturk, settings):
    settings.MTURK_EMULATOR_FAULT_ENDPOINT = True
    yield
    from mturk_emulator import faults

    faults.clear_faults()
