"""What a researcher does in the admin: register an oTree site, set up a study, publish, pay bonuses."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from experiments import services
from experiments.models import Experiment, OtreeSite
from experiments.tests.conftest import make_study
from experiments.tests.test_worker_way import finish, hits_of
from hits.models import HIT, Payment
from hits.review.cycle import review_active_hits
from platforms import platform_for
from workers.models import Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.otree]

SITES = "/admin/experiments/otreesite/"
EXPERIMENTS = "/admin/experiments/experiment/"


@pytest.fixture
def ada(client, researcher):
    client.force_login(researcher)
    return client


def button(experiment, name: str) -> str:
    return f"{EXPERIMENTS}{experiment.pk}/button/{name}/"


def confirm(client, url: str, **fields):
    """Open a confirmation page, then press its yes button with the page's nonce."""
    page = client.post(url, fields)
    assert page.status_code == 200, page.content[:2000]
    nonce = re.search(rb'name="nonce" value="([^"]+)"', page.content)
    data = {**fields, "confirmed": "yes", **({"nonce": nonce.group(1).decode()} if nonce else {})}
    return page, client.post(url, data)


NOT_OTREE = b"did not answer as an oTree server with this REST key"


def test_a_site_that_does_not_answer_is_not_saved(ada):
    page = ada.post(f"{SITES}add/", {"name": "Mine", "url": "http://127.0.0.1:9", "rest_key": "key"})

    assert page.status_code == 200
    assert NOT_OTREE in page.content
    assert not OtreeSite.objects.exists()


def test_a_wrong_rest_key_is_not_saved(ada, otree_server):
    page = ada.post(f"{SITES}add/", {"name": "Mine", "url": otree_server.url, "rest_key": "wrong"})

    assert NOT_OTREE in page.content and b"OTREE_REST_KEY" in page.content
    assert not OtreeSite.objects.exists()


@pytest.mark.parametrize("url", ["ftp://otree.example.org/", "file:///etc/passwd", "gopher://127.0.0.1:70/"])
def test_only_http_addresses_are_asked(ada, url):
    page = ada.post(f"{SITES}add/", {"name": "Mine", "url": url, "rest_key": "key"})

    assert (
        page.status_code == 200 and b"starts with https://" in page.content
    ) or b"Enter a valid URL" in page.content
    assert not OtreeSite.objects.exists()


def test_the_check_does_not_tell_whether_an_inner_port_is_open(ada, live_server):
    """A closed port and an open port that is not oTree (crowdhr itself) get the same answer."""
    closed = ada.post(f"{SITES}add/", {"name": "Mine", "url": "http://127.0.0.1:9", "rest_key": "k"})
    open_port = ada.post(f"{SITES}add/", {"name": "Mine", "url": live_server.url, "rest_key": "k"})

    def said(page) -> bytes:
        return re.search(rb'<ul class="errorlist[^"]*"[^>]*><li>([^<]*)</li>', page.content).group(1)

    assert said(closed).replace(b"http://127.0.0.1:9", b"URL") == said(open_port).replace(
        live_server.url.encode(), b"URL"
    )


def test_a_site_that_answers_is_saved_with_its_version_and_the_key_is_never_shown(ada, otree_server):
    page = ada.post(
        f"{SITES}add/", {"name": "Mine", "url": otree_server.url, "rest_key": otree_server.rest_key}
    )

    assert page.status_code == 302
    site = OtreeSite.objects.get()
    assert site.otree_version.startswith("6.")
    change = ada.get(f"{SITES}{site.pk}/change/")
    assert otree_server.rest_key.encode() not in change.content


def test_the_study_form_offers_the_sites_session_configs_and_only_own_sites(
    ada, site, account, django_user_model, otree_server
):
    other = django_user_model.objects.create_user("grace", is_staff=True)
    OtreeSite.objects.create(owner=other, name="Grace's oTree", url=otree_server.url, rest_key="x")

    page = ada.get(f"{EXPERIMENTS}add/?kind=otree")

    assert b'<option value="effort">Effort task (crowdhr demo) (Lab oTree)</option>' in page.content
    assert b"Grace&#x27;s oTree" not in page.content


def test_a_study_with_an_unknown_config_is_refused(ada, site, account):
    fields = {
        "name": "S",
        "kind": "otree",
        "account": account.pk,
        "otree_site": site.pk,
        "session_config_name": "nonexistent",
        "num_participants": 4,
        "title": "T",
        "description": "D",
        "reward": "0.50",
        "duration_seconds": 3600,
        "lifetime_seconds": 86400,
        "auto_approval_delay_seconds": 86400,
        "qualification_requirements": "[]",
        "session_config_fields": "{}",
        "task_config": "{}",
        "quality_threshold": 0,
        "assignments_required": 3,
        "agreements_required": 2,
        "unfinished_feedback": "x",
        "participants-TOTAL_FORMS": 0,
        "participants-INITIAL_FORMS": 0,
        "payments-TOTAL_FORMS": 0,
        "payments-INITIAL_FORMS": 0,
    }

    page = ada.post(f"{EXPERIMENTS}add/", fields)

    assert page.status_code == 200
    assert not Experiment.objects.exists()
    fields["session_config_name"] = "effort"
    assert ada.post(f"{EXPERIMENTS}add/", fields).status_code == 302
    assert Experiment.objects.get().session_config_name == "effort"


def test_publish_shows_the_cost_with_fees_then_posts_the_hits(ada, study):
    page = ada.post(button(study, "publish_button"))

    assert b"12 assignments as HITs of 9 + 3" in page.content
    assert b"$7.20" in page.content  # 12 x ($0.50 + $0.10 fee)
    assert not HIT.objects.exists()
    _, done = confirm(ada, button(study, "publish_button"))
    assert done.status_code == 302
    assert [hit.max_assignments for hit in hits_of(study)] == [9, 3]

    confirm(ada, button(study, "publish_button"))
    assert len(hits_of(study)) == 2


def test_another_researchers_study_cannot_be_published(client, study, django_user_model):
    client.force_login(django_user_model.objects.create_user("grace", is_staff=True))

    assert client.post(button(study, "publish_button")).status_code in (403, 404)
    assert not HIT.objects.exists()


def test_pay_bonuses_shows_each_worker_before_paying_once(ada, account, site, browser, crowd):
    study = make_study(account, site, pay_bonuses_automatically=False)
    services.experiment_publish(experiment=study, by=None)
    finish(browser, study, hits_of(study)[0], "AW1", 3, crowd)
    review_active_hits()
    assert not Payment.objects.filter(kind="bonus").exists()

    page, _ = confirm(ada, button(study, "pay_bonuses_button"))
    assert b"AW1 $0.30 + $0.06 fee" in page.content
    confirm(ada, button(study, "pay_bonuses_button"))

    granted = platform_for(account).list_bonus_payments(hit_id=hits_of(study)[0].hit_id)
    assert [(b.worker_id, b.amount) for b in granted] == [("AW1", Decimal("0.30"))]
    change = ada.get(f"{EXPERIMENTS}{study.pk}/change/")
    assert b"Bonuses paid" in change.content and b"0.30" in change.content


def test_add_participants_posts_new_micro_batches(ada, account, site):
    study = make_study(account, site, num_participants=20, assignments_to_post=12)
    services.experiment_publish(experiment=study, by=None)

    confirm(ada, button(study, "add_participants_button"), count="8")
    page = ada.post(
        button(study, "add_participants_button"),
        {"count": "8", "confirmed": "yes", "reviewed": "yes", "nonce": "n1"},
    )

    assert page.status_code == 302
    assert [(hit.batch_number, hit.max_assignments) for hit in hits_of(study)] == [(1, 9), (2, 3), (3, 8)]
    with pytest.raises(services.ServiceError, match="unused place"):
        services.experiment_add_participants(experiment=study, count=21, by=None)


def test_expire_and_message_workers(ada, study, browser, crowd):
    services.experiment_publish(experiment=study, by=None)
    finish(browser, study, hits_of(study)[0], "AW1", 3, crowd)

    confirm(ada, button(study, "message_button"), subject="Thanks", body="Results are in.")
    confirm(ada, button(study, "expire_button"))

    assert list(Message.objects.get().workers.values_list("worker_id", flat=True)) == ["AW1"]
    with pytest.raises(crowd.Refused):
        crowd.accept(hits_of(study)[1].hit_id, "AW2")
    assert all(hit.expired for hit in hits_of(study))


def test_a_publish_that_stopped_half_way_is_finished_without_doubling_hits(study):
    services.experiment_publish(experiment=study, by=None)
    second = hits_of(study)[1]
    HIT.objects.filter(pk=second.pk).update(status=HIT.Status.FAILED, hit_id="")
    Experiment.objects.filter(pk=study.pk).update(published_at=None)
    study.refresh_from_db()

    services.experiment_publish(experiment=study, by=None)

    assert [hit.status for hit in hits_of(study)] == [HIT.Status.LIVE, HIT.Status.LIVE]
    assert hits_of(study)[1].hit_id == second.hit_id
    assert len(platform_for(study.account).list_hits()) == 2
    study.refresh_from_db()
    assert study.published_at
