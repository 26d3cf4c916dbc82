"""The worker marketplace pages, clicked through with Django's test client."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from mturk_emulator.models import Assignment
from mturk_emulator.questions import ANSWERS_NAMESPACE
from mturk_emulator.tests.conftest import EXTERNAL_QUESTION

HTML_QUESTION = (
    '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/'
    'HTMLQuestion.xsd"><HTMLContent><![CDATA[<!DOCTYPE html><html><body>'
    "<form method='post' action='https://www.mturk.com/mturk/externalSubmit'>"
    "<input type='hidden' name='assignmentId' value=''><p>Is this a cat?</p><input name='cat'>"
    "</form></body></html>]]></HTMLContent><FrameHeight>450</FrameHeight></HTMLQuestion>"
)


def frame_query(response) -> dict[str, str]:
    url = response.context["task"]["frame_url"]
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def alice(client):
    client.post("/emulator/worker/", {"name": "alice"})
    return client


def test_choosing_a_worker_keeps_it_in_the_session(client, transactional_db):
    response = client.post("/emulator/worker/", {"name": "alice"}, follow=True)

    assert response.status_code == 200
    assert "Working as" in response.content.decode()
    assert client.session["emulator_worker_id"] == "AALICE"


def test_hit_list_shows_assignable_hits_of_every_requester(alice, create_hit, other_mturk):
    mine = create_hit(Title="Label pictures")
    theirs = other_mturk.create_hit(
        Title="Rate sentences",
        Description="d",
        Reward="0.10",
        LifetimeInSeconds=600,
        AssignmentDurationInSeconds=60,
        Question=EXTERNAL_QUESTION,
    )["HIT"]

    page = alice.get("/emulator/").content.decode()

    assert "Label pictures" in page and "Rate sentences" in page
    assert mine["HITId"] in page and theirs["HITId"] in page


def test_preview_shows_the_task_without_an_assignment(alice, create_hit):
    hit = create_hit()

    response = alice.get(f"/emulator/hits/{hit['HITId']}/")

    assert response.status_code == 200
    assert frame_query(response) == {"assignmentId": "ASSIGNMENT_ID_NOT_AVAILABLE", "hitId": hit["HITId"]}


def test_accepting_opens_the_work_page_with_mturk_parameters(alice, create_hit):
    hit = create_hit()

    response = alice.post(f"/emulator/hits/{hit['HITId']}/accept/", follow=True)

    assignment = Assignment.objects.get()
    query = frame_query(response)
    assert response.context["task"]["frame_url"].startswith("https://study.example.org/start?")
    assert query == {
        "assignmentId": assignment.assignment_id,
        "hitId": hit["HITId"],
        "workerId": "AALICE",
        "turkSubmitTo": "http://testserver/emulator",
    }


def test_external_submit_stores_question_form_answers_for_the_requester(alice, create_hit, mturk):
    hit = create_hit()
    alice.post(f"/emulator/hits/{hit['HITId']}/accept/")
    assignment_id = Assignment.objects.get().assignment_id

    response = alice.post(
        "/emulator/mturk/externalSubmit",
        {"assignmentId": assignment_id, "label": "cat", "comment": "<b>easy</b>"},
        follow=True,
    )

    assert response.status_code == 200
    assert "submitted" in response.content.decode()
    listed = mturk.list_assignments_for_hit(HITId=hit["HITId"])["Assignments"]
    assert [a["AssignmentStatus"] for a in listed] == ["Submitted"]
    answer = listed[0]["Answer"]
    assert f'<QuestionFormAnswers xmlns="{ANSWERS_NAMESPACE}">' in answer
    assert "<Answer><QuestionIdentifier>label</QuestionIdentifier><FreeText>cat</FreeText></Answer>" in answer
    assert "<FreeText>&lt;b&gt;easy&lt;/b&gt;</FreeText>" in answer
    assert "assignmentId" not in answer


def test_external_submit_by_get_and_without_assignment(client, create_hit):
    from mturk_emulator import workers

    hit = create_hit()
    assignment_id = workers.accept(hit["HITId"], "ABOB")

    assert client.get("/emulator/mturk/externalSubmit", {"label": "x"}).status_code == 400
    assert client.get("/emulator/mturk/externalSubmit", {"assignmentId": "3NOPE"}).status_code == 404
    response = client.get("/emulator/mturk/externalSubmit", {"assignmentId": assignment_id, "label": "dog"})
    assert response.status_code == 302
    assert client.get("/emulator/mturk/externalSubmit", {"assignmentId": assignment_id}).status_code == 400
    assert Assignment.objects.get().status == "Submitted"


def test_returning_frees_the_slot(alice, create_hit, mturk):
    hit = create_hit(MaxAssignments=1)
    alice.post(f"/emulator/hits/{hit['HITId']}/accept/")
    assignment_id = Assignment.objects.get().assignment_id
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["NumberOfAssignmentsAvailable"] == 0

    response = alice.post(f"/emulator/assignments/{assignment_id}/return/", follow=True)

    assert "You returned" in response.content.decode()
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["NumberOfAssignmentsAvailable"] == 1


def test_refused_accept_explains_why(alice, create_hit, mturk):
    type_id = mturk.create_qualification_type(
        Name="Quality", Description="q", QualificationTypeStatus="Active"
    )["QualificationType"]["QualificationTypeId"]
    mturk.associate_qualification_with_worker(QualificationTypeId=type_id, WorkerId="AALICE", IntegerValue=10)
    hit = create_hit(
        QualificationRequirements=[
            {"QualificationTypeId": type_id, "Comparator": "GreaterThanOrEqualTo", "IntegerValues": [50]}
        ]
    )

    response = alice.post(f"/emulator/hits/{hit['HITId']}/accept/", follow=True)

    assert "You do not meet the qualification requirement" in response.content.decode()
    assert not Assignment.objects.exists()


def test_blocked_worker_is_told(alice, create_hit, mturk):
    hit = create_hit()
    mturk.create_worker_block(WorkerId="AALICE", Reason="Spam")

    response = alice.post(f"/emulator/hits/{hit['HITId']}/accept/", follow=True)

    assert "blocked" in response.content.decode()


def test_html_question_is_served_with_the_submit_url_of_the_emulator(alice, create_hit):
    hit = create_hit(Question=HTML_QUESTION)
    work = alice.post(f"/emulator/hits/{hit['HITId']}/accept/", follow=True)
    frame_url = work.context["task"]["frame_url"]

    page = alice.get(frame_url)

    assert page.status_code == 200
    assert "http://testserver/emulator/mturk/externalSubmit" in page.content.decode()
    assert "Is this a cat?" in page.content.decode()
    assert page["X-Frame-Options"] == "SAMEORIGIN"
    assert page["Content-Security-Policy"].startswith("sandbox ")


def test_someone_elses_assignment_and_unknown_pages(alice, client, create_hit):
    from mturk_emulator import workers

    hit = create_hit()
    bobs = workers.accept(hit["HITId"], "ABOB")

    assert alice.get(f"/emulator/assignments/{bobs}/").status_code == 403
    assert alice.get("/emulator/hits/3NOSUCHHIT/").status_code == 404
    assert alice.get("/emulator/assignments/3NOSUCH/").status_code == 404


def test_worker_page_shows_messages_and_qualifications(alice, mturk, create_hit):
    from mturk_emulator import workers

    # MTurk notifies only workers whose work the requester has decided.
    assignment_id = workers.work(create_hit()["HITId"], "AALICE", {"label": "cat"})
    mturk.approve_assignment(AssignmentId=assignment_id)
    mturk.notify_workers(Subject="Welcome", MessageText="Glad you are here.", WorkerIds=["AALICE"])

    page = alice.get("/emulator/me/").content.decode()

    assert "Welcome" in page and "Glad you are here." in page


def test_worker_page_shows_bonuses_with_their_reason_feedback_earnings_and_continue(alice, mturk, create_hit):
    from mturk_emulator import workers

    paid = workers.work(
        create_hit(Title="Label pictures", Reward="0.50")["HITId"], "AALICE", {"label": "cat"}
    )
    mturk.approve_assignment(AssignmentId=paid, RequesterFeedback="Clear labels, thank you.")
    mturk.send_bonus(
        WorkerId="AALICE",
        BonusAmount="0.25",
        AssignmentId=paid,
        Reason="Fast and careful",
        UniqueRequestToken="b1",
    )
    open_one = workers.accept(create_hit(Title="Rate sentences")["HITId"], "AALICE")

    page = alice.get("/emulator/me/").content.decode()

    assert "Fast and careful" in page and "$0.25" in page
    assert "Clear labels, thank you." in page
    assert 'id="earned-total">$0.75<' in page
    assert f"/emulator/assignments/{open_one}/" in page and "Continue" in page


def test_a_qualification_only_the_requester_grants_is_not_offered_for_request(alice, mturk):
    from mturk_emulator import workers

    granted_only = mturk.create_qualification_type(
        Name="Took part before", Description="Marks previous participants", QualificationTypeStatus="Active"
    )["QualificationType"]
    scored = mturk.create_qualification_type(
        Name="Quality",
        Description="Auto-granted",
        QualificationTypeStatus="Active",
        AutoGranted=True,
        AutoGrantedValue=36,
    )["QualificationType"]

    page = alice.get("/emulator/me/").content.decode()

    assert granted_only["IsRequestable"] is False and scored["IsRequestable"] is True
    assert "Took part before" not in page and "Quality" in page
    with pytest.raises(workers.WorkRefused):
        workers.request_qualification(granted_only["QualificationTypeId"], "AALICE")
