"""An oTree study end to end: publish on the local MTurk, workers go through the real oTree, review pays.

Runs against a real oTree server (the `otree_server` fixture) and the local Mechanical Turk over
HTTP; simulated workers accept through the `crowd` fixture and browse with plain HTTP.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from experiments import places, services
from experiments.models import Participant, Visit
from experiments.testing import walk_participant
from experiments.tests.conftest import make_study, went_in
from hits.models import HIT, Assignment, Payment
from hits.review.cycle import review_active_hits
from platforms import platform_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.otree]


def hits_of(study) -> list[HIT]:
    return list(HIT.objects.filter(outsourcer__experiment=study).order_by("batch_number"))


def finish(browser, study, hit, worker_id: str, effort: int, crowd):
    """Accept, land, go into oTree, walk its pages, come back, submit. Returns the assignment id."""
    worker = browser(study, worker_id)
    assignment_id = crowd.accept(hit.hit_id, worker_id)
    worker.go(worker.land(assignment_id, hit.hit_id))
    walk = walk_participant(
        study.otree_session_wide_url, worker_id, {"effort": str(effort)}, done_link_prefix=worker.site_url
    )
    assert walk.done_link, walk.last_html[:2000]
    submitted = worker.submit_from_done_page(walk.done_link)
    assert submitted.status_code == 200, submitted.text[:1000]
    return assignment_id


def test_publishing_creates_the_otree_session_and_posts_hits_of_9_and_3(study, otree_server):
    services.experiment_publish(experiment=study, by=None)

    study.refresh_from_db()
    hits = hits_of(study)
    platform = platform_for(study.account)
    assert [platform.get_hit(hit.hit_id).max_assignments for hit in hits] == [9, 3]
    assert all(hit.status == HIT.Status.LIVE for hit in hits)
    session = study.otree_site.client().get_session(study.otree_session_code)
    assert session["num_participants"] == 12
    assert session["config"]["crowdhr_done_url"] == f"{services.done_url(study)}"
    assert study.otree_session_wide_url.startswith(otree_server.url)
    assert services.landing_url(study) in hits[0].question

    with pytest.raises(services.ServiceError, match="published already"):
        services.experiment_publish(experiment=study, by=None)
    assert len(hits_of(study)) == 2
    assert len(platform.list_hits()) == 2


def test_twelve_workers_finish_and_each_is_paid_the_payoff_otree_shows_exactly_once(study, browser, crowd):
    services.experiment_publish(experiment=study, by=None)
    first, second = hits_of(study)
    efforts = {f"AW{n}": n % 10 + 1 for n in range(1, 13)}
    for number, (worker_id, effort) in enumerate(efforts.items()):
        finish(browser, study, first if number < 9 else second, worker_id, effort, crowd)

    review_active_hits()
    review_active_hits()

    approved = Assignment.objects.filter(hit__outsourcer__experiment=study, decision="approved")
    assert approved.count() == 12
    results = services.study_results(experiment=study)
    shown = {worker_id: results.participants[worker_id].payoff for worker_id in efforts}
    assert shown == {worker_id: Decimal(effort) / 10 for worker_id, effort in efforts.items()}
    platform = platform_for(study.account)
    granted = [bonus for hit in hits_of(study) for bonus in platform.list_bonus_payments(hit_id=hit.hit_id)]
    assert sorted((b.worker_id, b.amount) for b in granted) == sorted(shown.items())
    ledger = Payment.objects.filter(experiment=study, kind="bonus")
    assert sorted(ledger.values_list("worker__worker_id", "amount", "status")) == sorted(
        (worker_id, amount, "done") for worker_id, amount in shown.items()
    )
    feedback = {a.requester_feedback for hit in hits_of(study) for a in platform.list_assignments(hit.hit_id)}
    assert feedback == {f"Thank you for taking part in {study.title}!"}
    assert set(Participant.objects.filter(experiment=study).values_list("payoff", flat=True)) == set(
        shown.values()
    )


def test_preview_shows_the_description_and_no_way_in(study, browser):
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]

    page = browser(study, "AW1").land("ASSIGNMENT_ID_NOT_AVAILABLE", hit.hit_id, workerId="")

    assert page.status_code == 200
    assert study.description in page.text
    assert not went_in(page) and study.otree_session_wide_url not in page.text
    assert not Participant.objects.exists()


def test_landing_records_the_visit_and_sends_the_worker_into_otree_with_their_label(study, browser, crowd):
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]
    worker = browser(study, "AW1")
    assignment_id = crowd.accept(hit.hit_id, "AW1")
    worker.http.headers["User-Agent"] = "WorkerBrowser/1.0"

    first = worker.land(assignment_id, hit.hit_id)
    link = worker.go(first)  # one request: straight into oTree
    reload = worker.land(assignment_id, hit.hit_id)
    again = worker.go(reload)  # a reload: the same place, the same visit

    assert link == again == f"{study.otree_session_wide_url}?participant_label=AW1"
    assert "crowdhr_place_" in first.headers["Set-Cookie"]
    assert "Set-Cookie" not in reload.headers  # the browser's cookie already holds the place
    visit = Visit.objects.get()
    assert (visit.user_agent, visit.screen, visit.assignment_id) == ("WorkerBrowser/1.0", "", assignment_id)
    assert visit.landed_at == visit.redirected_at
    participant = Participant.objects.get()
    assert (participant.worker_id, participant.landed_at) == ("AW1", visit.landed_at)

    walk = walk_participant(
        study.otree_session_wide_url, "AW1", {"effort": "3"}, done_link_prefix=worker.site_url
    )
    done = worker.http.get(walk.done_link)
    assert done.status_code == 200 and "screen.width" in done.text  # the done page reports the screen
    screen_url = f"{worker.site_url}/study/{study.pk}/screen/"
    assert worker.http.post(screen_url, data={"screen": "1920x1080"}).status_code == 204
    assert worker.http.post(screen_url, data={"screen": "huge"}).status_code == 400
    assert Visit.objects.get().screen == "1920x1080"
    Participant.objects.update(landed_at=timezone.now() - timedelta(days=2))
    renewed = worker.land(assignment_id, hit.hit_id)  # a day on, the cookie is renewed
    assert "crowdhr_place_" in renewed.headers["Set-Cookie"] and Visit.objects.count() == 1


def test_a_worker_who_returns_and_accepts_again_resumes_the_same_otree_participant(study, browser, crowd):
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]
    worker = browser(study, "AW1")
    first_assignment = crowd.accept(hit.hit_id, "AW1")
    worker.go(worker.land(first_assignment, hit.hit_id))
    started = walk_participant(study.otree_session_wide_url, "AW1", {"effort": ""}, http=worker.http)
    assert started.rejected  # stopped on the effort page without answering
    crowd.return_assignment(first_assignment)

    second_assignment = crowd.accept(hit.hit_id, "AW1")
    assert second_assignment != first_assignment
    worker.go(worker.land(second_assignment, hit.hit_id))
    walk = walk_participant(
        study.otree_session_wide_url, "AW1", {"effort": "7"}, done_link_prefix=worker.site_url
    )
    worker.submit_from_done_page(walk.done_link)

    assert Participant.objects.filter(experiment=study).count() == 1
    assert Visit.objects.filter(participant__worker_id="AW1").count() == 2
    labelled = [p for p in services.study_results(experiment=study).participants.values() if p.label == "AW1"]
    assert len(labelled) == 1 and labelled[0].finished
    review_active_hits()
    assert Assignment.objects.get(assignment_id=second_assignment).decision == "approved"
    assert Payment.objects.get(kind="bonus").amount == Decimal("0.70")


def test_a_worker_who_took_part_is_asked_to_return_another_hit_of_the_study(account, site, browser, crowd):
    study = make_study(account, site, exclude_previous_participants=False)
    services.experiment_publish(experiment=study, by=None)
    first, second = hits_of(study)
    finish(browser, study, first, "AW1", 3, crowd)
    review_active_hits()
    visits = Visit.objects.count()

    again = crowd.accept(second.hit_id, "AW1")
    page = browser(study, "AW1").land(again, second.hit_id)

    assert page.status_code == 200 and "return this HIT" in page.text
    assert not went_in(page)
    assert Visit.objects.count() == visits
    assert Participant.objects.get(worker_id="AW1").assignment_id != again


def test_mturk_keeps_previous_participants_away_from_the_studys_other_hits(study, browser, crowd):
    services.experiment_publish(experiment=study, by=None)
    first, second = hits_of(study)
    finish(browser, study, first, "AW1", 3, crowd)

    review_active_hits()

    with pytest.raises(crowd.Refused, match="qualification"):
        crowd.accept(second.hit_id, "AW1")
    assert crowd.accept(second.hit_id, "AW2")


def test_an_excluded_worker_is_asked_to_return_and_nothing_is_recorded(study, browser, crowd):
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]
    services.participant_exclude(experiment=study, worker_id="AW1", reason="took the pilot", by=None)
    assignment_id = crowd.accept(hit.hit_id, "AW1")

    page = browser(study, "AW1").land(assignment_id, hit.hit_id)

    assert "return this HIT" in page.text and not went_in(page)
    assert not Visit.objects.exists()
    assert Participant.objects.get().assignment_id == ""


def test_a_worker_who_did_not_finish_gets_no_completion_code(study, browser, crowd):
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]
    worker = browser(study, "AW1")
    assignment_id = crowd.accept(hit.hit_id, "AW1")
    worker.go(worker.land(assignment_id, hit.hit_id))

    page = worker.http.get(f"{worker.site_url}/study/{study.pk}/done/?participant_label=AW1")

    assert page.status_code == 409
    assert "crowdhr-code" not in page.text and "externalSubmit" not in page.text


def test_a_submission_without_a_finished_participant_waits_for_a_person(study, browser, crowd):
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]
    worker = browser(study, "AW1")
    assignment_id = crowd.accept(hit.hit_id, "AW1")
    intro = worker.http.get(worker.go(worker.land(assignment_id, hit.hit_id)))
    assert intro.status_code == 200  # joined oTree, then submitted without finishing
    crowd.submit(assignment_id, {"completion_code": "0123456789ABCDEF"})

    review_active_hits()

    assignment = Assignment.objects.get(assignment_id=assignment_id)
    assert assignment.decision == "undecided"
    assert "did not finish" in assignment.problem
    assert not Payment.objects.exists()


def test_the_researcher_may_reject_unfinished_submissions_with_a_message(account, site, browser, crowd):
    study = make_study(
        account,
        site,
        reject_unfinished=True,
        unfinished_feedback="No finished session found.",
        on_rejection="reject",
    )
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]
    assignment_id = crowd.work(hit.hit_id, "AW1", {"completion_code": "FORGED"})

    review_active_hits()

    reported = platform_for(account).get_assignment(assignment_id)
    assert (reported.status, reported.requester_feedback) == ("Rejected", "No finished session found.")


def test_a_code_shown_to_one_worker_does_not_pay_another(study, browser, crowd):
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]
    finish(browser, study, hit, "AW1", 5, crowd)
    review_active_hits()
    honest_code = Assignment.objects.get(worker__worker_id="AW1").answers["completion_code"]

    copied = crowd.work(hit.hit_id, "AW2", {"completion_code": honest_code})
    review_active_hits()

    assert Assignment.objects.get(assignment_id=copied).decision == "undecided"
    assert list(Payment.objects.filter(kind="bonus").values_list("worker__worker_id", flat=True)) == ["AW1"]


BAD_LANDINGS = {
    "no worker id": ({"workerId": ""}, 400),
    "odd characters in the worker id": ({"workerId": "AW1<script>"}, 400),
    "lower-case assignment id": ({"assignmentId": "abc"}, 400),
    "a very long hit id": ({"hitId": "H" * 65}, 400),
    "submit to an unknown site": ({"turkSubmitTo": "https://evil.example.com"}, 400),
    "submit to a look-alike of MTurk": ({"turkSubmitTo": "https://www.mturk.com.evil.example"}, 400),
    "a HIT of another study": ({"hitId": "3NOTTHISSTUDY"}, 400),
    "submit to a local page that is not MTurk": ({"turkSubmitTo": "http://127.0.0.1:8000/admin"}, 400),
}


@pytest.mark.parametrize("override,status", BAD_LANDINGS.values(), ids=BAD_LANDINGS.keys())
def test_bad_parameters_get_a_clear_page_and_change_nothing(study, browser, crowd, override, status):
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]
    assignment_id = crowd.accept(hit.hit_id, "AW1")

    page = browser(study, "AW1").land(assignment_id, hit.hit_id, **override)

    assert page.status_code == status
    assert "crowdhr-problem" in page.text
    assert not Participant.objects.exists() and not Visit.objects.exists()


def test_a_worker_id_that_is_not_the_assignments_worker_is_refused(study, browser, crowd):
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]
    someone_elses = crowd.work(hit.hit_id, "AW1", {"completion_code": "X"})

    # not reviewed yet: crowdhr cannot tell whose it is, and nothing is in progress to trust it
    waiting = browser(study, "AW2").land(someone_elses, hit.hit_id)
    review_active_hits()  # now crowdhr knows it is AW1's
    refused = browser(study, "AW2").land(someone_elses, hit.hit_id)

    assert waiting.status_code == 200 and not went_in(waiting)
    assert refused.status_code == 400 and "another worker" in refused.text
    assert not Participant.objects.filter(worker_id="AW2").exists()


def test_unknown_studies_and_labels_are_404(study, browser, site_url):
    services.experiment_publish(experiment=study, by=None)
    worker = browser(study, "AW1")

    assert worker.http.get(f"{site_url}/study/99999/?assignmentId=A&hitId=H&workerId=W").status_code == 404
    # another browser's done page: the same 403 whether or not the label takes part (no enumeration)
    assert worker.http.get(f"{site_url}/study/{study.pk}/done/?participant_label=AW404").status_code == 403
    assert worker.http.get(f"{site_url}/study/{study.pk}/done/?participant_label=a%20b").status_code == 400
    # a browser holding no place reports no screen
    assert worker.http.post(f"{site_url}/study/{study.pk}/screen/", data={"screen": "1x1"}).status_code == 403


@pytest.mark.parametrize("submit_to", ["https://workersandbox.mturk.com", "https://www.mturk.com/"])
def test_mturks_own_submit_sites_are_accepted(study, browser, crowd, submit_to):
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]
    assignment_id = crowd.accept(hit.hit_id, "AW1")

    page = browser(study, "AW1").land(assignment_id, hit.hit_id, turkSubmitTo=submit_to)

    assert went_in(page)
    assert Participant.objects.get().turk_submit_to == submit_to.rstrip("/")


def test_two_browsers_racing_for_a_first_place_give_it_to_one(study, crowd):
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]
    assignment_id = crowd.accept(hit.hit_id, "AW1")
    landing = places.Landing("AW1", assignment_id, hit.hit_id, "https://www.mturk.com", duration=600)
    # both read that the worker has no place yet, then both insert one
    nothing_yet = places.Facts(holding=0, unconfirmed=0, place_pk=None, assignment_worker=None)
    first = places._first(study, landing, nothing_yet, confirmed=True, now=timezone.now())

    second = places._first(study, landing, nothing_yet, confirmed=True, now=timezone.now())  # lost the race

    assert first.participant is not None and first.bind
    assert (second.participant, second.refusal) == (None, "elsewhere")
    assert Participant.objects.count() == 1


def test_tabs_of_separate_browsers_landing_at_once_get_one_place_and_one_way_in(study, browser, crowd):
    services.experiment_publish(experiment=study, by=None)
    hit = hits_of(study)[0]
    assignment_id = crowd.accept(hit.hit_id, "AW1")
    tabs = [browser(study, "AW1") for _ in range(6)]
    gate = threading.Barrier(len(tabs))

    def land(tab):
        gate.wait()
        return tab.land(assignment_id, hit.hit_id)

    with ThreadPoolExecutor(max_workers=len(tabs)) as pool:
        pages = list(pool.map(land, tabs))

    winners = [tab for tab, page in zip(tabs, pages, strict=True) if went_in(page)]
    assert len(winners) == 1
    assert all(page.status_code in (200, 403) for page in pages if not went_in(page))  # wait, or elsewhere
    assert Participant.objects.count() == 1 and Visit.objects.count() == 1
    # the winner comes back to the same place; a losing tab still gets no way in
    assert winners[0].go(winners[0].land(assignment_id, hit.hit_id)).endswith("participant_label=AW1")
    loser = next(tab for tab in tabs if tab is not winners[0])
    assert loser.land(assignment_id, hit.hit_id).status_code == 403
    assert Visit.objects.count() == 1
