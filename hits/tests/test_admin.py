"""The researcher's HIT admin, through the Django test client against the local Mechanical Turk."""

from __future__ import annotations

import csv
import html
import io
import re
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from hits import services
from hits.models import HIT, Assignment, Outsourcer, Payment, Progress, RejectionPolicy
from hits.review.sync import fetch_assignments
from platforms import platform_for
from platforms.models import PlatformAccount
from workers.models import Worker

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "admin:hits_hit_changelist"


# --- helpers other admin tests use too ------------------------------------------------------------
def publish(account, target="item-1", *, assignments=3, reward="0.10"):
    """Post a choice HIT on the local Mechanical Turk through the service."""
    return services.outsourcer_create(
        owner=account.owner,
        account=account,
        task_type="categorical",
        target=target,
        inputs={"text": f"Item {target}", "url": f"https://data.example.org/{target}"},
        task_config={"question": "Which animal?", "choices": ["cat", "dog", "bird"]},
        settings=services.HitSettings(
            title=f"Name the animal {target}",
            description="Choose the animal.",
            reward=Decimal(reward),
            assignments_required=assignments,
            agreements_required=2,
        ),
    )


def answered(crowd, outsourcer, *workers_and_answers):
    """Workers answer on the emulator, and crowdhr stores their assignments (nothing decided)."""
    hit = outsourcer.hits.get()
    for number, (worker, value) in enumerate(workers_and_answers):
        assignment_id = crowd.accept(hit.hit_id, worker)
        crowd.age_assignment(assignment_id, 40 + 75 * number)  # worked 40 s, 115 s, 190 s, ...
        crowd.submit(assignment_id, {"answer": value, "comments": f"{worker} was here"})
    fetch_assignments(hit)
    return hit


def make_researcher(django_user_model, name):
    from crowdhr.researchers import researchers_group

    user = django_user_model.objects.create_user(username=name, password=f"{name}-password-1", is_staff=True)
    user.groups.add(researchers_group())
    return user


def offline_hit(owner, target="offline", *, environment="sandbox", account=None):
    """A HIT row as if posted (no platform call): for pages that only read."""
    if account is None:
        account, _ = PlatformAccount.objects.get_or_create(
            owner=owner, name=f"{owner.username} lab", defaults={"environment": environment}
        )
    outsourcer = Outsourcer.objects.create(
        owner=owner,
        account=account,
        target=target,
        task_type="categorical",
        task_config={"choices": ["cat", "dog"]},
    )
    return HIT.objects.create(
        outsourcer=outsourcer,
        hit_id=f"H-{owner.username}-{target}",
        environment=environment,
        status=HIT.Status.LIVE,
        creation_token=f"t-{owner.username}-{target}",
        title=f"{owner.username} secret study {target}",
        description="d",
        reward=Decimal("0.50"),
        max_assignments=3,
        question="<q/>",
    )


def action_post(client, action, ids, **extra):
    data = {"action": action, "index": 0, helpers.ACTION_CHECKBOX_NAME: [str(i) for i in ids], **extra}
    return client.post(reverse(CHANGELIST), data)


def confirm_post(client, response, **extra):
    """Submit the confirmation page's form as the researcher would."""
    html = response.content.decode()
    action = re.search(r'<form method="post" action="([^"]+)"', html).group(1).replace("&amp;", "&")
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    data: dict[str, list[str]] = {}
    for name, value in fields:
        if name != "csrfmiddlewaretoken":
            data.setdefault(name, []).append(value)
    data.update({k: [v] for k, v in extra.items()})
    return client.post(action, data, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def ada(client, researcher):
    client.force_login(researcher)
    return client


# --- change list actions ----------------------------------------------------------------------
def test_expire_from_the_change_list_asks_first_then_expires_on_the_platform(ada, account):
    hit = publish(account).hits.get()

    page = action_post(ada, "expire_hits", [hit.pk])
    assert page.status_code == 200
    assert "1 HIT" in page.content.decode() and "Workers can no longer accept" in page.content.decode()
    hit.refresh_from_db()
    assert not hit.expired, "nothing happens before the confirmation"

    done = confirm_post(ada, page)
    assert "1 expired." in messages_of(done)
    hit.refresh_from_db()
    assert hit.expired
    assert platform_for(account).get_hit(hit.hit_id).status != "Assignable"


def test_approve_all_shows_the_money_with_fees_and_pays_each_worker_once(ada, account, crowd):
    hit = answered(crowd, publish(account, reward="0.50"), ("AW1", "cat"), ("AW2", "dog"))

    page = action_post(ada, "approve_all_hits", [hit.pk])
    text = page.content.decode()
    assert "2 assignments" in text
    assert "$1.20" in text  # 2 x (0.50 + 20% fee)

    confirm_post(ada, page)
    confirm_post(ada, page)  # a double click changes nothing
    assert sorted(Payment.objects.values_list("kind", "status", "amount", "fee")) == [
        ("approval", "done", Decimal("0.50"), Decimal("0.10")),
        ("approval", "done", Decimal("0.50"), Decimal("0.10")),
    ]


def test_reject_all_needs_the_confirmation_and_sends_the_feedback(ada, account, crowd):
    outsourcer = publish(account)
    Outsourcer.objects.filter(pk=outsourcer.pk).update(on_rejection=RejectionPolicy.REJECT)
    hit = answered(crowd, outsourcer, ("AW1", "cat"))
    page = action_post(ada, "reject_all_hits", [hit.pk])
    assert "reject on the platform: 1 worker is not paid" in page.content.decode()
    assert "approval rates" in page.content.decode()

    done = confirm_post(ada, page, feedback="You did not look at the picture.")
    assert "1 rejected." in messages_of(done)
    (remote,) = platform_for(account).list_assignments(hit.hit_id)
    assert remote.status == "Rejected" and remote.requester_feedback == "You did not look at the picture."


def test_a_platform_error_is_an_admin_message_not_a_traceback(ada, account):
    hit = publish(account).hits.get()
    HIT.objects.filter(pk=hit.pk).update(hit_id="NO-SUCH-HIT")
    done = confirm_post(ada, action_post(ada, "expire_hits", [hit.pk]))
    assert done.status_code == 200
    assert any("0 expired" in m for m in messages_of(done))
    assert any("NO-SUCH-HIT" in m or "not" in m.lower() for m in messages_of(done)[1:])


def test_flag_and_unflag_for_review(ada, account):
    hit = publish(account).hits.get()
    confirm_post(ada, action_post(ada, "flag_hits", [hit.pk]), problem="Strange answers")
    assert Outsourcer.objects.get().problem == "Strange answers"
    confirm_post(ada, action_post(ada, "unflag_hits", [hit.pk]))
    assert not Outsourcer.objects.get().needs_review


@pytest.mark.django_db
def test_many_hits_run_in_the_background_with_progress(ada, researcher, django_capture_on_commit_callbacks):
    from hits.tasks import run_admin_operation

    hits = [offline_hit(researcher, f"item-{n}") for n in range(25)]
    page = action_post(ada, "flag_hits", [h.pk for h in hits])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        done = confirm_post(ada, page, problem="check")
    assert len(callbacks) == 1
    progress = Progress.objects.get()
    assert (progress.done, progress.total) == (0, 25)
    assert done.redirect_chain[-1][0].endswith(f"/progress/{progress.pk}/change/")
    assert "0/25" in done.content.decode()

    run_admin_operation(progress.pk, "flag", list(Outsourcer.objects.values_list("pk", flat=True)), {})
    progress.refresh_from_db()
    assert (progress.done, progress.total, progress.finished is not None) == (25, 25, True)
    assert Outsourcer.objects.filter(needs_review=True).count() == 25
    assert "25/25" in ada.get(reverse("admin:hits_progress_change", args=[progress.pk])).content.decode()


# --- change form, object buttons, pages ---------------------------------------------------------
def test_change_form_shows_fieldsets_buttons_and_links(ada, account):
    hit = publish(account).hits.get()
    text = ada.get(reverse("admin:hits_hit_change", args=[hit.pk])).content.decode()
    for expected in ["Basics", "HIT Utils", "HIT Stats", "View assignments", "Manually input data", "Reopen"]:
        assert expected in text
    assert f"/hits/{hit.hit_id}/" in text  # on the local worker site
    assert "https://data.example.org/item-1" in text


def test_object_button_reopen_confirms_with_cost_then_adds_assignments(ada, account):
    hit = publish(account, assignments=3, reward="0.10").hits.get()
    url = reverse("admin:hits_hit_button", args=[hit.pk, "reopen_button"])
    page = ada.post(url)
    assert "$0.36" in page.content.decode()  # 3 more x (0.10 + 0.02)
    confirm_post(ada, page)
    hit.refresh_from_db()
    assert hit.max_assignments == 6
    assert platform_for(account).get_hit(hit.hit_id).max_assignments == 6


def test_object_buttons_refuse_unknown_names_wrong_methods_and_other_researchers(
    ada, researcher, django_user_model
):
    mine = offline_hit(researcher)
    theirs = offline_hit(make_researcher(django_user_model, "bob"))
    assert ada.post(reverse("admin:hits_hit_button", args=[mine.pk, "nonsense"])).status_code == 404
    opened = ada.get(reverse("admin:hits_hit_button", args=[mine.pk, "expire_button"]))
    assert opened.status_code == 200 and b'id="confirm-button"' in opened.content  # asks, does nothing
    mine.refresh_from_db()
    assert not mine.expired
    assert ada.post(reverse("admin:hits_hit_button", args=[theirs.pk, "expire_button"])).status_code == 404
    assert ada.get(reverse("admin:hits_hit_assignments", args=[theirs.pk])).status_code == 404


def test_manually_input_data_saves_the_answer_and_expires_the_hit(ada, account):
    outsourcer = publish(account)
    hit = outsourcer.hits.get()
    page = ada.post(reverse("admin:hits_hit_button", args=[hit.pk, "input_data"]))
    bad = confirm_post(ada, page, answer="[1, 2]")
    assert "Enter a JSON object" in bad.content.decode()
    confirm_post(ada, page, answer='{"answer": "dog"}')
    outsourcer.refresh_from_db()
    assert outsourcer.answer == {"answer": "dog"} and not outsourcer.active
    assert HIT.objects.get().expired


def test_view_assignments_shows_answers_groups_and_decides_per_row(ada, account, crowd):
    hit = answered(crowd, publish(account), ("AW1", "cat"), ("AW2", "dog"), ("AW3", "cat"))
    page = ada.get(reverse("admin:hits_hit_assignments", args=[hit.pk]))
    text = page.content.decode()
    assert "cat &times; 2" in text and "dog &times; 1" in text
    assert "AW2 was here" in text

    w1 = Assignment.objects.get(worker__worker_id="AW1")
    w2 = Assignment.objects.get(worker__worker_id="AW2")
    approve = ada.post(reverse("admin:hits_assignment_button", args=[w1.pk, "approve"]))
    assert "$0.12" in approve.content.decode()
    back = confirm_post(ada, approve)
    assert back.redirect_chain[-1][0] == reverse("admin:hits_hit_assignments", args=[hit.pk])

    reject = ada.post(
        reverse("admin:hits_assignment_button", args=[w2.pk, "reject"]), {"feedback": "Not a dog."}
    )
    assert "Not a dog." in reject.content.decode()  # carried to the confirmation form
    confirm_post(ada, reject, feedback="Not a dog.")
    decided = dict(Assignment.objects.values_list("worker__worker_id", "decision"))
    assert decided == {"AW1": "approved", "AW2": "rejected", "AW3": "undecided"}


def test_statistics_page_has_numbers_and_a_chart(ada, account, crowd):
    hit = answered(crowd, publish(account), ("AW1", "cat"), ("AW2", "dog"))
    page = action_post(ada, "response_time_statistics", [hit.pk])
    text = page.content.decode()
    assert 'id="stat-count">2<' in text
    mean = float(re.search(r'id="stat-mean">([\d.]+) s<', text).group(1))
    assert 77.5 <= mean < 80  # (40 + 115) / 2, plus the moments between accepting and submitting
    assert "<svg" in text and 'class="bar"' in text
    assert "cdn" not in text.lower()


def test_csv_export_streams_assignments_with_answer_columns(ada, account, crowd):
    hit = answered(crowd, publish(account), ("AW1", "cat"), ("AW2", "=HYPERLINK(1)"))
    ids = Assignment.objects.values_list("pk", flat=True)
    response = ada.post(
        reverse("admin:hits_assignment_changelist"),
        {"action": "export_csv", "index": 0, helpers.ACTION_CHECKBOX_NAME: [str(i) for i in ids]},
    )
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["worker_id"]: r["answer:answer"] for r in rows} == {"AW1": "cat", "AW2": "'=HYPERLINK(1)"}
    assert all(r["hit_id"] == hit.hit_id for r in rows)

    hits_csv = action_post(ada, "export_csv", [hit.pk])
    assert b"Name the animal item-1" in b"".join(hits_csv.streaming_content)


# --- the index and platform accounts ---------------------------------------------------------------
def test_index_shows_balance_and_spend_and_survives_a_platform_error(ada, account, researcher):
    text = ada.get(reverse("admin:index")).content.decode()
    assert "Ada&#x27;s lab" in text or "Ada's lab" in text
    assert re.search(r"\$\d+\.\d\d", text)
    PlatformAccount.objects.create(owner=researcher, name="broken", environment="sandbox", access_key_id="X")
    page = ada.get(reverse("admin:index"))
    assert page.status_code == 200
    assert "Balance unavailable" in page.content.decode()


def test_platform_account_secret_is_write_only_and_blank_keeps_it(ada, researcher, settings):
    add = reverse("admin:platforms_platformaccount_add")
    form = {"name": "Lab", "environment": "sandbox", "access_key_id": "AKIA1", "secret_access_key": "s3cret"}
    assert ada.post(add, form).status_code == 302
    account = PlatformAccount.objects.get(name="Lab")
    assert account.owner == researcher and account.secret_access_key == "s3cret"
    change = reverse("admin:platforms_platformaccount_change", args=[account.pk])
    assert "s3cret" not in ada.get(change).content.decode()
    ada.post(change, {**form, "secret_access_key": ""})
    account.refresh_from_db()
    assert account.secret_access_key == "s3cret"

    settings.EMULATOR_ENABLED = False
    assert 'value="emulator"' not in ada.get(add).content.decode()


# --- scheduled publishing ------------------------------------------------------------------------
def make_experiment(owner, name="Effort study"):
    from experiments.models import Experiment

    account, _ = PlatformAccount.objects.get_or_create(owner=owner, name=f"{owner.username} lab")
    return Experiment.objects.create(
        owner=owner,
        account=account,
        name=name,
        kind=Experiment.Kind.OTREE,
        title="A study",
        description="d",
        num_participants=4,
    )


def test_a_researcher_schedules_a_publish_sees_its_cost_and_cancels_it(
    ada, researcher, client, django_user_model
):
    from django_celery_beat.models import PeriodicTask

    experiment = make_experiment(researcher)
    schedule = reverse("admin:experiments_experiment_schedule")
    form = ada.post(schedule)
    review = confirm_post(
        ada, form, experiment=str(experiment.pk), when="2030-01-02 09:00", repeat_every_hours=""
    )
    text = review.content.decode()
    assert "2030-01-02 09:00" in text and "$2.40" in text  # 4 x (0.50 + 0.10)
    assert not PeriodicTask.objects.filter(task="experiments.tasks.publish_experiment_on_schedule").exists()

    confirm_post(ada, review)
    task = PeriodicTask.objects.get(task="experiments.tasks.publish_experiment_on_schedule")
    assert task.one_off and task.clocked.clocked_time.year == 2030
    assert "Effort study" in ada.get(schedule).content.decode()
    assert ada.get("/admin/django_celery_beat/periodictask/").status_code == 403

    bob = make_researcher(django_user_model, "bob")
    client.force_login(bob)
    assert "Effort study" not in client.get(schedule).content.decode()
    cancel = reverse("admin:experiments_experiment_schedule_cancel", args=[task.pk])
    assert client.post(cancel).status_code == 404
    client.force_login(researcher)
    client.post(cancel)
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


@pytest.mark.django_db
def test_deciding_thousands_of_assignments_runs_in_the_background(
    ada, researcher, django_capture_on_commit_callbacks
):
    from workers.models import Worker

    hit = offline_hit(researcher)
    worker = Worker.objects.create(worker_id="AMANY")
    rows = Assignment.objects.bulk_create(
        Assignment(hit=hit, assignment_id=f"A{n}", worker=worker, platform_status="Submitted")
        for n in range(101)
    )
    page = ada.post(
        reverse("admin:hits_assignment_changelist"),
        {"action": "reject_selected", "index": 0, helpers.ACTION_CHECKBOX_NAME: [str(r.pk) for r in rows]},
    )
    assert "101 assignments" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        done = confirm_post(ada, page, feedback="Empty answers")
    assert len(callbacks) == 1
    progress = Progress.objects.get()
    assert (progress.total, progress.description) == (101, "Rejected: 101 assignments")
    assert "0/101" in done.content.decode()
    assert Assignment.objects.filter(decision="undecided").count() == 101, "nothing decided in the request"


@pytest.mark.django_db
def test_huge_change_lists_say_more_than_the_cap_instead_of_counting_everything(ada, researcher, monkeypatch):
    from crowdhr.admin_tools import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    for n in range(3):
        offline_hit(researcher, f"item-{n}")
    text = ada.get(reverse(CHANGELIST)).content.decode()
    assert "More than 2 HITs" in text
    assert "item-0" in text and "item-2" in text
    assert "1 HIT" in ada.get(reverse(CHANGELIST), {"q": "item-1"}).content.decode()


@pytest.mark.django_db
def test_a_prolific_account_confirms_approvals_and_bonuses_with_prolifics_fee(ada, researcher):
    prolific = PlatformAccount.objects.create(
        owner=researcher, name="Ada on Prolific", platform="prolific", environment="emulator"
    )
    hit = offline_hit(researcher, "study", account=prolific)  # reward $0.50
    worker = Worker.objects.create(platform="prolific", worker_id="5f0c1a2b3c4d5e6f7a8b9c0d")
    Assignment.objects.create(hit=hit, assignment_id="S-1", worker=worker, platform_status="Submitted")

    approve = ada.post(
        reverse("admin:hits_assignment_changelist"),
        {
            "action": "approve_selected",
            "index": 0,
            helpers.ACTION_CHECKBOX_NAME: [str(hit.assignments.get().pk)],
        },
    )
    approve = html.unescape(approve.content.decode())
    assert "Prolific's fee: 33.33%" in approve and "$0.67" in approve  # 0.50 + 0.17
    assert "MTurk" not in approve and "20%" not in approve

    form = ada.post(
        reverse("admin:workers_worker_changelist"),
        {"action": "send_bonus", "index": 0, helpers.ACTION_CHECKBOX_NAME: [str(worker.pk)]},
    )
    bonus = html.unescape(
        confirm_post(ada, form, account=str(prolific.pk), amount="3.00", reason="Thanks").content.decode()
    )
    assert "Prolific's fee: 33.33%, $1.00 each" in bonus and "$4.00" in bonus
    assert "MTurk" not in bonus
