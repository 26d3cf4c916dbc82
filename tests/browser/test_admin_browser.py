"""A researcher clicks through the admin in real headless Chromium, against the local Mechanical Turk."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.urls import reverse

from hits.models import HIT, Assignment, Outsourcer
from hits.payments import PAID_ANYWAY_NOTE
from hits.tests.test_admin import answered, make_researcher, offline_hit, publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username="ada", password="ada-password-1"):
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def run_action(page, action: str, hit_pks: list[int]):
    page.goto(reverse("admin:hits_hit_changelist"))
    for pk in hit_pks:
        page.check(f"input.action-select[value='{pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def test_a_researcher_runs_actions_buttons_reviews_and_downloads(page, screenshot, account, crowd):
    first = publish(account, "item-1").hits.get()
    second = answered(crowd, publish(account, "item-2"), ("AW1", "cat"), ("AW2", "dog"), ("AW3", "cat"))
    log_in(page)
    page.goto("/admin/")
    assert "Ada's lab" in page.inner_text("#platform-balances")
    screenshot(page, "01-index-with-balance")

    # an action from the change list, with its confirmation page
    page.goto(reverse("admin:hits_hit_changelist"))
    assert page.locator("#result_list .env-badge").first.inner_text() == "local"
    screenshot(page, "02-hit-changelist")
    run_action(page, "expire_hits", [first.pk])
    assert "1 HIT" in page.inner_text("#confirmation")
    screenshot(page, "03-confirm-expire")
    page.click("#confirm-button")
    assert "1 expired." in page.inner_text("ul.messagelist")
    first.refresh_from_db()
    assert first.expired

    # an object button on the change form
    page.goto(reverse("admin:hits_hit_change", args=[second.pk]))
    screenshot(page, "04-hit-change-form")
    page.click("#button-flag_button")
    page.fill("#id_problem", "Two workers disagree")
    page.click("#confirm-button")
    assert "1 flagged for review." in page.inner_text("ul.messagelist")
    assert Outsourcer.objects.get(target="item-2").problem == "Two workers disagree"

    # approve and reject on the View assignments page
    page.goto(reverse("admin:hits_hit_change", args=[second.pk]))
    page.click("#button-view_assignments")
    assert "cat × 2" in page.inner_text("#consensus-groups")
    screenshot(page, "05-view-assignments")
    aw1 = Assignment.objects.get(worker__worker_id="AW1")
    aw2 = Assignment.objects.get(worker__worker_id="AW2")
    page.click(f"#assignment-{aw1.assignment_id} button.approve")
    assert "$0.12" in page.inner_text("#confirmation")
    page.click("#confirm-button")
    assert page.inner_text(f"#assignment-{aw1.assignment_id} td.decision") == "Approved"
    page.fill(f"#assignment-{aw2.assignment_id} input[name=feedback]", "The picture shows a cat.")
    page.click(f"#assignment-{aw2.assignment_id} button.reject")
    assert page.input_value("#id_feedback") == "The picture shows a cat."
    page.click("#confirm-button")
    assert page.inner_text(f"#assignment-{aw2.assignment_id} td.decision") == "Rejected"
    screenshot(page, "06-assignments-decided")
    aw2.refresh_from_db()
    # the default policy pays anyway: the worker reads the reason, then that they are paid all the same
    assert aw2.feedback == f"The picture shows a cat. {PAID_ANYWAY_NOTE}"
    assert aw2.paid_despite_rejection

    # the statistics chart
    run_action(page, "response_time_statistics", [first.pk, second.pk])
    assert page.inner_text("#stat-count") == "3"
    assert page.locator("#histogram rect.bar").count() >= 1
    screenshot(page, "07-statistics-chart")

    # a CSV download of the selection
    page.goto(reverse("admin:hits_hit_changelist"))
    page.check(f"input.action-select[value='{second.pk}']")
    page.select_option("select[name=action]", "export_csv")
    with page.expect_download() as download:
        page.click("button[name=index]")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [(r["target"], r["assignments_done"]) for r in rows] == [("item-2", "2")]


def test_another_researchers_hit_is_refused(page, screenshot, researcher, django_user_model):
    theirs = offline_hit(make_researcher(django_user_model, "bob"), "bobs-item")
    log_in(page)
    page.goto(reverse("admin:hits_hit_change", args=[theirs.pk]))
    assert "doesn’t exist" in page.inner_text("ul.messagelist")
    assert "bob secret study" not in page.content()
    screenshot(page, "08-other-researchers-hit-refused")
    response = page.goto(reverse("admin:hits_hit_assignments", args=[theirs.pk]))
    assert response.status == 404
    page.goto(reverse("admin:hits_hit_changelist"))
    assert "bob secret study" not in page.content()
    assert HIT.objects.filter(pk=theirs.pk, expired=False).exists()
