"""A researcher's first hour with a batch: where the work is, how it stands, its results, doing it again."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from experiments import services
from experiments.models import Experiment
from experiments.tasks import publish_experiment_on_schedule
from experiments.tests.test_batches import make_batch
from hits import services as hit_services
from hits.models import HIT, Assignment, Outsourcer
from hits.review.cycle import review_active_hits
from workers.models import Block, Message, Worker

pytestmark = pytest.mark.django_db(transaction=True)

EXPERIMENTS = "/admin/experiments/experiment/"
CITIES = "name,country\nLyon,France\nRhine,Germany\n"


@pytest.fixture
def ada(client, researcher):
    client.force_login(researcher)
    return client


def button(experiment, name: str) -> str:
    return f"{EXPERIMENTS}{experiment.pk}/button/{name}/"


def confirm(client, url: str, **fields):
    page = client.post(url, fields)
    assert page.status_code == 200, page.content[:2000]
    nonce = re.search(rb'name="nonce" value="([^"]+)"', page.content)
    data = {**fields, "confirmed": "yes", **({"nonce": nonce.group(1).decode()} if nonce else {})}
    return page, client.post(url, data)


def answered_batch(account, crowd) -> Experiment:
    """Two items posted; Lyon agreed on ("yes"), Rhine with one answer so far."""
    experiment = make_batch(account, CITIES)
    services.experiment_publish(experiment=experiment, by=None)
    lyon, rhine = HIT.objects.filter(outsourcer__experiment=experiment).order_by("pk")
    for worker, value in [("AW1", "yes"), ("AW2", "yes")]:
        crowd.work(lyon.hit_id, worker, {"answer": value})
    crowd.work(rhine.hit_id, "AW3", {"answer": "no"})
    review_active_hits()
    return experiment


def rows_of(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_experiment_page_links_to_its_work_and_the_lists_filter_by_experiment(ada, account, crowd):
    experiment = answered_batch(account, crowd)
    other = make_batch(account, "name,country\nOslo,Norway\n")
    services.experiment_publish(experiment=other, by=None)

    page = ada.get(f"{EXPERIMENTS}{experiment.pk}/change/").content.decode()

    for label in ["Outsourcers", "HITs", "Assignments", "Participants", "Payments", "Progress", "Schedules"]:
        assert f">{label}</a>" in page
    hits_url = re.search(r'href="([^"]+)" id="link-hits"', page).group(1).replace("&amp;", "&")
    hits_page = ada.get(hits_url).content.decode()
    assert "Is it a city?" in hits_page and hits_page.count('class="action-checkbox"') == 2
    assignments_url = re.search(r'href="([^"]+)" id="link-assignments"', page).group(1)
    assert ada.get(assignments_url).content.decode().count('class="action-checkbox"') == 3
    outsourcers_url = re.search(r'href="([^"]+)" id="link-outsourcers"', page).group(1)
    listed = ada.get(outsourcers_url).content.decode()
    assert "item:1" in listed and f"experiment:{other.pk}:item" not in listed


def test_progress_counts_the_work_money_and_wage(ada, account, crowd):
    experiment = answered_batch(account, crowd)

    page = ada.get(button(experiment, "progress_button")).content.decode()

    def cell(name: str) -> str:
        return re.search(rf'id="p-{name}"[^>]*>([^<]*)<', page).group(1)

    assert cell("items") == "2"
    assert cell("published") == "6"  # two items, three workers each
    assert cell("submitted") == "3"
    assert cell("approved") == "2"
    assert cell("rejected") == "0"
    # Lyon's two approvals cost 2 x ($0.05 + 20% fee); Lyon is done, Rhine's 3 places stay held
    assert cell("spent") == "$0.12"
    assert cell("held") == "$0.18"
    assert "more at the pace so far" in cell("time")
    assert "Effective hourly wage" in cell("wage")


def test_results_have_each_items_inputs_every_answer_and_the_agreed_answer(ada, account, crowd):
    experiment = answered_batch(account, crowd)

    rows = rows_of(ada.get(button(experiment, "results_button")))

    lyon = [r for r in rows if r["input:name"] == "Lyon"]
    assert [r["answer:answer"] for r in lyon] == ["yes", "yes"]
    assert {r["agreed:answer"] for r in lyon} == {"yes"}
    assert {r["worker_id"] for r in lyon} == {"AW1", "AW2"}
    (rhine,) = [r for r in rows if r["input:name"] == "Rhine"]
    assert rhine["answer:answer"] == "no" and rhine["agreed:answer"] == ""


@pytest.mark.parametrize(
    ("path", "header"),
    [
        ("/admin/experiments/experiment/", "name"),
        ("/admin/hits/outsourcer/", "target"),
        ("/admin/experiments/participant/", "worker_id"),
        ("/admin/workers/block/", "reason"),
        ("/admin/workers/message/", "subject"),
    ],
)
def test_every_change_list_downloads_its_selection_as_csv(ada, account, crowd, path, header):
    experiment = answered_batch(account, crowd)

    worker = Worker.objects.get(worker_id="AW3")
    Block.objects.create(account=account, worker=worker, kind=Block.Kind.BAN, reason="=cmd()")
    message = Message.objects.create(account=account, subject="Thanks", body="Thank you")
    message.workers.add(worker)
    experiment.participants.create(worker_id="AW9")
    page = ada.get(path).content.decode()
    action = re.search(r'<option value="(export_csv)"', page).group(1)
    ids = re.findall(r'name="_selected_action" value="(\d+)"', page)

    response = ada.post(path, {"action": action, "_selected_action": ids})

    assert response.streaming
    rows = rows_of(response)
    assert header in rows[0] and rows
    assert all(not value.startswith("=") for row in rows for value in row.values())


def test_forced_import_closes_the_open_outsourcers_and_posts_every_item_anew(ada, account, crowd):
    experiment = answered_batch(account, crowd)
    rhine = Outsourcer.objects.get(experiment=experiment, inputs__name="Rhine", active=True)

    page, done = confirm(ada, button(experiment, "forced_import_button"))

    assert b"unreviewed assignments approved" in page.content
    assert done.status_code == 302
    assert not Outsourcer.objects.filter(pk=rhine.pk, active=True).exists()
    assert Assignment.objects.get(worker__worker_id="AW3").decision == Assignment.Decision.APPROVED
    assert HIT.objects.get(outsourcer=rhine).expired
    fresh = Outsourcer.objects.filter(experiment=experiment, active=True)
    assert sorted(o.inputs["name"] for o in fresh) == ["Lyon", "Rhine"]


def test_republishing_a_batch_after_deleting_its_outsourcers_posts_them_again(account):
    experiment = make_batch(account, CITIES)
    services.experiment_publish(experiment=experiment, by=None)
    for outsourcer in Outsourcer.objects.filter(experiment=experiment):
        hit_services.outsourcer_delete(outsourcer=outsourcer, by=None)

    posted = services.experiment_publish(experiment=experiment, by=None)

    assert len(posted) == 2
    assert Outsourcer.objects.filter(experiment=experiment, active=True).count() == 2
    assert HIT.objects.filter(outsourcer__experiment=experiment, expired=False).count() == 2


def test_a_repeating_schedule_reposts_a_batchs_items_as_new_outsourcers(account, crowd):
    experiment = answered_batch(account, crowd)

    assert publish_experiment_on_schedule(experiment.pk, account.owner.pk) == "published"

    assert Outsourcer.objects.filter(experiment=experiment).count() == 4
    assert Outsourcer.objects.filter(experiment=experiment, active=True).count() == 2


def test_scheduling_a_batch_shows_what_its_items_cost_and_what_a_repeat_does(ada, account):
    experiment = make_batch(account, CITIES)
    page = ada.get(button(experiment, "schedule_button"), follow=True).content.decode()
    assert "a batch every item again as new Outsourcers" in page
    when = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")

    _, summary = confirm(
        ada,
        "/admin/experiments/experiment/schedule/",
        experiment=str(experiment.pk),
        when=when,
        repeat_every_hours="24",
    )

    text = summary.content.decode()
    assert "2 of 2 items to post, 3 workers each" in text
    assert "$0.36" in text  # 2 items x 3 x ($0.05 + 20%); not "0 assignment(s) ... $0.00"


def test_a_one_off_schedule_that_has_run_is_shown_done_not_enabled(ada, account):
    experiment = make_batch(account, CITIES)
    task = services.experiment_schedule_publish(
        experiment=experiment, when=timezone.now(), repeat_every_hours=None, by=account.owner
    )
    PeriodicTask.objects.filter(pk=task.pk).update(total_run_count=1, last_run_at=timezone.now())

    page = ada.get(f"/admin/experiments/experiment/schedule/?experiment={experiment.pk}").content.decode()

    assert "done (ran once)" in page
    assert json.loads(task.kwargs)["experiment_id"] == experiment.pk


def test_the_publish_cost_of_an_otree_study_includes_its_expected_bonuses(account):
    study = Experiment(
        owner=account.owner,
        account=account,
        kind=Experiment.Kind.OTREE,
        reward=Decimal("0.50"),
        num_participants=4,
        session_config_fields={"max_payoff": "1.00"},
    )

    cost = services.publish_cost(experiment=study)

    assert cost.bonuses == Decimal("4.80")  # 4 x ($1.00 + 20% bonus fee)
    assert cost.total == cost.rewards + cost.fees + Decimal("4.80")


def test_a_finished_hit_shows_its_agreed_answer_and_only_the_buttons_that_can_act(ada, account, crowd):
    experiment = answered_batch(account, crowd)
    lyon = HIT.objects.get(outsourcer__experiment=experiment, outsourcer__inputs__name="Lyon")
    rhine = HIT.objects.get(outsourcer__experiment=experiment, outsourcer__inputs__name="Rhine")

    finished = ada.get(f"/admin/hits/hit/{lyon.pk}/change/").content.decode()
    open_page = ada.get(f"/admin/hits/hit/{rhine.pk}/change/").content.decode()

    assert "yes (consensus" in finished
    assert 'id="button-reopen_button"' not in finished and 'id="button-expire_button"' not in finished
    assert 'id="button-reopen_button"' in open_page and 'id="button-expire_button"' in open_page
    assert 'id="button-unexpire_button"' not in open_page  # not expired: nothing to unexpire
    assert 'id="button-unflag_button"' not in open_page  # not flagged: nothing to unflag
