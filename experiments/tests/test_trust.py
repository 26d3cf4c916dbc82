"""What a stranger who knows only a public HIT id and a worker's id can no longer do.

Each test is one attack from the "Trust" issue, run against the local MTurk (or the local Prolific)
and the real oTree: the stranger is a second browser (its own cookies) typing the victim's ids.
Every test also shows that the honest worker is not harmed: they finish, are approved and paid.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from experiments import places, services
from experiments.models import Participant, Visit
from experiments.testing import walk_participant
from experiments.tests.conftest import find, make_study, went_in
from experiments.tests.test_prolific_study import prolific_account  # noqa: F401  (a fixture)
from hits.models import HIT, Assignment, Payment
from hits.review.cycle import review_active_hits
from platforms import platform_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.otree]


@pytest.fixture(autouse=True)
def ask_the_platform_each_time(monkeypatch):
    """Landings follow each other within milliseconds here: let each one ask for the count again."""
    monkeypatch.setattr(places._ASKED, "seconds", 0)


def published(account, site, **fields):
    study = make_study(
        account, site, reject_unfinished=True, unfinished_feedback="No finished session.", **fields
    )
    services.experiment_publish(experiment=study, by=None)
    study.refresh_from_db()
    return study, HIT.objects.filter(outsourcer__experiment=study).order_by("batch_number").first()


def to_done_page(worker, study, hit, crowd, effort: int = 5) -> tuple[str, str]:
    """The honest worker accepts, lands, plays oTree to the end; (assignment id, done link)."""
    assignment_id = crowd.accept(hit.hit_id, worker.worker_id)
    worker.go(worker.land(assignment_id, hit.hit_id))
    walk = walk_participant(
        study.otree_session_wide_url,
        worker.worker_id,
        {"effort": str(effort)},
        done_link_prefix=worker.site_url,
    )
    assert walk.done_link, walk.last_html[:2000]
    return assignment_id, walk.done_link


def approved_and_paid(assignment_id: str, study) -> None:
    review_active_hits()
    assignment = Assignment.objects.get(assignment_id=assignment_id)
    assert assignment.decision == "approved", assignment.problem
    assert platform_for(study.account).get_assignment(assignment_id).status == "Approved"
    assert Payment.objects.get(assignment=assignment, kind="bonus").status == "done"


def test_another_browser_is_not_shown_a_workers_completion_code(account, site, browser, crowd):
    study, hit = published(account, site)
    honest = browser(study, "AW1")
    assignment_id, done_link = to_done_page(honest, study, hit, crowd)
    code = find(r'id="crowdhr-code">([^<]+)<', honest.http.get(done_link).text)

    stranger = requests.get(done_link, timeout=10)  # a fresh browser typing the same link

    assert stranger.status_code == 403
    assert code not in stranger.text and assignment_id not in stranger.text
    assert "externalSubmit" not in stranger.text
    honest.submit_from_done_page(done_link)
    approved_and_paid(assignment_id, study)


def test_submitting_from_another_browser_changes_nothing(account, site, browser, crowd, site_url):
    study, hit = published(account, site)
    honest = browser(study, "AW1")
    assignment_id, done_link = to_done_page(honest, study, hit, crowd)
    assert honest.http.get(done_link).status_code == 200

    url = f"{site_url}/study/{study.pk}/submitting/?participant_label=AW1"
    forged = [requests.post(url, timeout=10), requests.post(url, data={"token": "0" * 64}, timeout=10)]
    cross_site = honest.http.post(url, timeout=10)  # the victim's own cookie, without the page's token

    assert [r.status_code for r in (*forged, cross_site)] == [403, 403, 403]
    assert Participant.objects.get(worker_id="AW1").submitted_at is None
    page = honest.http.get(done_link)
    assert page.status_code == 200 and "crowdhr-code" in page.text
    honest.submit_from_done_page(done_link)
    approved_and_paid(assignment_id, study)


def test_relanding_as_a_worker_overwrites_nothing_and_opens_no_way_into_otree(account, site, browser, crowd):
    study, hit = published(account, site)
    honest = browser(study, "AW1")
    assignment_id = crowd.accept(hit.hit_id, "AW1")
    honest.go(honest.land(assignment_id, hit.hit_id))
    before = Participant.objects.values("assignment_id", "hit_id", "turk_submit_to", "browser_key").get()

    stranger = browser(study, "AW1")
    page = stranger.land("3MADEUPASSIGNMENT", hit.hit_id, turkSubmitTo="https://workersandbox.mturk.com")

    assert page.status_code == 403 and "another browser" in page.text
    assert not went_in(page) and study.otree_session_wide_url not in page.text
    assert "crowdhr_place" not in "".join(stranger.http.cookies.keys())
    assert (
        Participant.objects.values("assignment_id", "hit_id", "turk_submit_to", "browser_key").get() == before
    )
    walk = walk_participant(
        study.otree_session_wide_url, "AW1", {"effort": "4"}, done_link_prefix=honest.site_url
    )
    done = honest.http.get(walk.done_link)
    assert assignment_id in done.text and "3MADEUPASSIGNMENT" not in done.text
    assert find(r'id="crowdhr-submit-form" method="post" action="([^"]+)"', done.text).startswith(
        honest.submit_base
    )
    honest.submit_from_done_page(walk.done_link)
    approved_and_paid(assignment_id, study)  # the study rejects unfinished work: the real one is approved


def test_forged_landings_cannot_fill_a_study_before_real_workers_accept(
    account, site, browser, crowd, client
):
    study, hit = published(account, site, num_participants=8, assignments_to_post=6)
    assert places.spare_places(study) == 2
    client.force_login(account.owner)
    page = client.get(reverse("admin:experiments_experiment_change", args=[study.pk]))
    assert "2 spare places in reserve" in page.content.decode()

    forged = [
        browser(study, f"FAKE{n}").land(f"3FORGED{n}", hit.hit_id, turkSubmitTo="https://www.mturk.com")
        for n in range(8)
    ]

    assert sum(went_in(page) for page in forged) == 2  # the spare places, no more
    assert sum("crowdhr-wait" in page.text for page in forged) == 6
    reals = [browser(study, f"AWREAL{n}") for n in range(1, 7)]
    pages = [worker.land(crowd.accept(hit.hit_id, worker.worker_id), hit.hit_id) for worker in reals]
    assert [went_in(page) for page in pages] == [True] * 6
    first = Participant.objects.get(worker_id="AWREAL1").assignment_id
    reals[0].go(pages[0])
    walk = walk_participant(
        study.otree_session_wide_url, "AWREAL1", {"effort": "6"}, done_link_prefix=reals[0].site_url
    )
    reals[0].submit_from_done_page(walk.done_link)
    approved_and_paid(first, study)


def test_with_nobody_at_work_forged_landings_hold_only_the_spare_places(account, site, browser, crowd):
    study, hit = published(account, site, num_participants=8, assignments_to_post=6)

    pages = [browser(study, f"FAKE{n}").land(f"3FORGED{n}", hit.hit_id) for n in range(6)]

    assert sum(went_in(p) for p in pages) == 2
    assert Participant.objects.filter(verified=False).count() == 2


def test_a_forged_claim_holds_its_place_no_longer_than_the_assignment_duration(account, site, browser, crowd):
    study, hit = published(account, site, num_participants=1, assignments_to_post=1)
    real = crowd.accept(hit.hit_id, "AW1")
    assert went_in(browser(study, "FAKE1").land("3FORGED1", hit.hit_id))  # won the race
    waiting = browser(study, "AW1").land(real, hit.hit_id).text
    assert "crowdhr-wait" in waiting and "crowdhr-full" not in waiting  # never told the study is full

    Participant.objects.filter(worker_id="FAKE1").update(
        claim_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert went_in(browser(study, "AW1").land(real, hit.hit_id))


def test_a_worker_on_a_new_device_gets_back_in_once_the_old_assignment_is_abandoned(
    account, site, browser, crowd
):
    study, hit = published(account, site)
    laptop, phone = browser(study, "AW1"), browser(study, "AW1")
    first = crowd.accept(hit.hit_id, "AW1")
    laptop.go(laptop.land(first, hit.hit_id))
    crowd.return_assignment(first)
    second = crowd.accept(hit.hit_id, "AW1")
    assert phone.land(second, hit.hit_id).status_code == 403  # the laptop still holds the place

    Participant.objects.update(claim_expires_at=timezone.now() - timedelta(seconds=1))  # MTurk took it back
    landing = phone.land(second, hit.hit_id)

    assert went_in(landing) and Participant.objects.get().assignment_id == second
    phone.go(landing)
    walk = walk_participant(
        study.otree_session_wide_url, "AW1", {"effort": "2"}, done_link_prefix=phone.site_url
    )
    assert laptop.http.get(walk.done_link).status_code == 403  # the old binding is released
    phone.submit_from_done_page(walk.done_link)
    approved_and_paid(second, study)


BAD_IDS = {
    "a trailing newline": "AW1\n",
    "an encoded newline": "AW1%0A",
    "a NUL": "AW1\x00",
    "a carriage return": "AW1\r",
    "65 characters": "A" * 65,
}


@pytest.mark.parametrize("value", BAD_IDS.values(), ids=BAD_IDS.keys())
@pytest.mark.parametrize("name", ["workerId", "assignmentId", "hitId"])
def test_ids_are_validated_completely(account, site, browser, crowd, site_url, name, value):
    study, hit = published(account, site)
    good = {"assignmentId": crowd.accept(hit.hit_id, "AW1"), "hitId": hit.hit_id, "workerId": "AW1"}
    query = urlencode({**good, "turkSubmitTo": f"{site_url}/emulator"} | {name: value})
    if value == "AW1%0A":
        query = query.replace("AW1%250A", "AW1%0A")  # the raw encoded newline, as a forger types it

    page = requests.get(f"{site_url}/study/{study.pk}/?{query}", timeout=10)

    assert page.status_code == 400 and "crowdhr-problem" in page.text
    assert not Participant.objects.exists() and not Visit.objects.exists()


@pytest.mark.parametrize("label", ["AW1\n", "AW1%0A", "AW1\x00"], ids=["newline", "encoded newline", "NUL"])
def test_done_page_labels_are_validated_completely(account, site, site_url, label):
    study, _ = published(account, site)
    query = urlencode({"participant_label": label}).replace("%250A", "%0A")

    assert requests.get(f"{site_url}/study/{study.pk}/done/?{query}", timeout=10).status_code == 400


@pytest.fixture
def prolific_study(prolific_account, site, site_url):  # noqa: F811
    study = make_study(
        prolific_account, site, num_participants=3, reward=Decimal("1.00"), duration_seconds=300
    )
    services.experiment_publish(experiment=study, by=None)
    study.refresh_from_db()
    return study


def test_prolific_landings_the_platform_does_not_show_are_refused(prolific_study, site_url):
    from prolific_emulator import participants as twin

    (hit,) = HIT.objects.filter(outsourcer__experiment=prolific_study)
    pid = twin.new_participant()
    params = {"PROLIFIC_PID": pid, "STUDY_ID": hit.hit_id, "SESSION_ID": "forgedsession1"}

    page = requests.get(f"{site_url}/study/{prolific_study.pk}/?{urlencode(params)}", timeout=10)

    assert page.status_code == 403 and not Participant.objects.exists()


def test_a_prolific_participant_changes_browser_when_prolific_confirms_the_pair(prolific_study, site_url):
    from prolific_emulator import participants as twin

    (hit,) = HIT.objects.filter(outsourcer__experiment=prolific_study)
    pid = twin.new_participant()
    link = twin.study_link(twin.take_part(hit.hit_id, pid))
    old, new = requests.Session(), requests.Session()
    assert went_in(old.get(link, allow_redirects=False, timeout=10))

    landing = new.get(link, allow_redirects=False, timeout=10)

    assert went_in(landing) and Participant.objects.get().verified
    assert landing.headers["Location"].endswith(f"participant_label={pid}")
    done = f"{site_url}/study/{prolific_study.pk}/done/?participant_label={pid}"
    assert old.get(done, timeout=10).status_code == 403  # the old binding is released
