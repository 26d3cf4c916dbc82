"""The emulator's management commands: play a worker from the shell, apply what is due."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from mturk_emulator import clock


def test_emulator_worker_submits_answers(mturk, create_hit, capsys):
    hit = create_hit()

    call_command(
        "emulator_worker", hit["HITId"], "--worker", "ADEMO1", "--answer", "label=cat", "--answer", "note=a=b"
    )

    assert "Submitted assignment" in capsys.readouterr().out
    answer = mturk.list_assignments_for_hit(HITId=hit["HITId"])["Assignments"][0]["Answer"]
    assert "<FreeText>cat</FreeText>" in answer and "<FreeText>a=b</FreeText>" in answer


def test_emulator_worker_reports_a_refusal(mturk, create_hit):
    hit = create_hit()
    mturk.create_worker_block(WorkerId="ADEMO1", Reason="Spam")

    with pytest.raises(CommandError, match="blocked"):
        call_command("emulator_worker", hit["HITId"], "--worker", "ADEMO1")


def test_emulator_process_auto_approves_due_work(mturk, create_hit):
    hit = create_hit(AutoApprovalDelayInSeconds=60)
    call_command("emulator_worker", hit["HITId"], "--worker", "ADEMO1", "--answer", "label=cat")
    assignment = mturk.list_assignments_for_hit(HITId=hit["HITId"])["Assignments"][0]
    clock.age_assignment(assignment["AssignmentId"], 61)

    call_command("emulator_process")

    from mturk_emulator.models import Assignment

    assert Assignment.objects.get(assignment_id=assignment["AssignmentId"]).status == "Approved"
