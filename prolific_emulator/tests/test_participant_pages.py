"""The participant pages: choose an id, take part, come back through the completion URL, return."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from prolific_emulator import accounts, participants, studies
from prolific_emulator.models import Submission
from prolific_emulator.tests.conftest import new_pid, study_body

HOME = "/emulator/prolific/"


@pytest.fixture
def study(transactional_db):
    workspace = accounts.ensure_workspace("ui-token")
    draft = studies.create(workspace, study_body())
    return studies.transition(draft, "PUBLISH")


@pytest.fixture
def browser() -> Client:
    return Client()


def _sign_in(browser: Client, pid: str) -> None:
    browser.post(HOME + "participant/", {"participant_id": pid})


def test_an_eligible_study_is_listed_and_taking_part_redirects_to_it(browser, study):
    pid = new_pid()
    _sign_in(browser, pid)

    assert study.name in browser.get(HOME).content.decode()
    answer = browser.post(f"{HOME}studies/{study.id}/take-part/")

    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["PROLIFIC_PID"] == [pid]
    assert query["SESSION_ID"] == [Submission.objects.get(participant_id=pid).id]


def test_the_completion_url_uses_the_browsers_participant(browser, study):
    pid = new_pid()
    _sign_in(browser, pid)
    browser.post(f"{HOME}studies/{study.id}/take-part/")

    page = browser.get(HOME + "submissions/complete?cc=DONE1")

    assert page.status_code == 200
    assert Submission.objects.get(participant_id=pid).status == "AWAITING REVIEW"


def test_the_completion_url_without_the_cookie_completes_nothing(study):
    submission = participants.take_part(study.id, new_pid())

    page = Client().get(HOME + "submissions/complete?cc=DONE1")

    assert page.status_code == 400
    submission.refresh_from_db()
    assert submission.status == "ACTIVE"


def test_the_return_button_frees_the_place(browser, study):
    pid = new_pid()
    _sign_in(browser, pid)
    browser.post(f"{HOME}studies/{study.id}/take-part/")
    submission = Submission.objects.get(participant_id=pid)

    browser.post(f"{HOME}submissions/{submission.id}/return/")

    submission.refresh_from_db()
    assert submission.status == "RETURNED"
    assert "RETURNED" in browser.get(HOME + "me/").content.decode()


def test_someone_elses_submission_cannot_be_returned(browser, study):
    submission = participants.take_part(study.id, new_pid())
    _sign_in(browser, new_pid())

    browser.post(f"{HOME}submissions/{submission.id}/return/")

    submission.refresh_from_db()
    assert submission.status == "ACTIVE"


def test_a_malformed_participant_id_is_refused(browser, transactional_db):
    _sign_in(browser, "not-hex")

    assert "24 hexadecimal" in browser.get(HOME).content.decode()


def test_the_participant_command_takes_part_and_completes(study, capsys):
    pid = new_pid()

    call_command("prolific_emulator_participant", study.id, "--participant", pid, "--code", "DONE1")

    assert Submission.objects.get(participant_id=pid).status == "AWAITING REVIEW"
    assert "AWAITING REVIEW" in capsys.readouterr().out


def test_my_submissions_show_earnings_bonuses_feedback_and_continue(browser, study):
    from prolific_emulator import bonuses, submissions

    done, other = new_pid(), new_pid()
    _sign_in(browser, done)
    browser.post(f"{HOME}studies/{study.id}/take-part/")
    browser.get(HOME + "submissions/complete?cc=DONE1")
    submission = Submission.objects.get(participant_id=done)
    submissions.approve(submission)
    bonuses.pay(bonuses.set_up(study.workspace, {"study_id": study.id, "csv_bonuses": f"{done},0.40"}))

    page = browser.get(HOME + "me/").content.decode()
    assert 'id="earned-total">1.40<' in page  # reward 1.00 + bonus 0.40
    assert "0.40 (paid" in page and "Approved by the researcher." in page

    _sign_in(browser, other)
    browser.post(f"{HOME}studies/{study.id}/take-part/")
    page = browser.get(HOME + "me/").content.decode()
    assert "Continue" in page and study.external_study_url.split("?")[0] in page
