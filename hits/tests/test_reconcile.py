"""Reconcile (`hits.reconcile`, `manage.py reconcile`, the admin page): what a crash left is shown,
then repaired once through the ledger; a failed payment is listed, never retried by the repair."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from hits import followups, payments
from hits.models import HIT, Assignment, FollowUp, Payment
from hits.reconcile import reconcile_repair, reconcile_report
from hits.review.cycle import review_active_hits
from hits.tests.test_crash_recovery import owes_follow_ups, two_agreeing_answers
from workers.models import WorkerQualification

pytestmark = pytest.mark.django_db(transaction=True)


class Killed(BaseException):
    """The process dies here: nothing after this line runs in it."""


def killed(*args, **kwargs):
    raise Killed


def crash_before_follow_ups(monkeypatch, account, crowd, ran: list[str]) -> HIT:
    hit = two_agreeing_answers(crowd, account)
    owes_follow_ups(monkeypatch, ran)
    monkeypatch.setattr("hits.review.decide.followups.run_for", killed)
    with pytest.raises(Killed):
        review_active_hits()
    monkeypatch.setattr("hits.review.decide.followups.run_for", followups.run_for)
    return hit


def test_a_follow_up_left_owed_by_a_crash_is_shown_then_repaired_once(account, crowd, monkeypatch):
    ran: list[str] = []
    hit = crash_before_follow_ups(monkeypatch, account, crowd, ran)
    assignments = sorted(Assignment.objects.filter(hit=hit).values_list("assignment_id", flat=True))

    report = reconcile_report(account.owner)
    owed = [line for experiment in report.experiments for line in experiment.follow_ups]
    assert sorted(line.assignment_id for line in owed) == assignments
    assert all("pending" in line.what for line in owed)
    assert not any(e.without_ledger_row for e in report.experiments)

    done = reconcile_repair(by=account.owner, owner=account.owner)
    again = reconcile_repair(by=account.owner, owner=account.owner)

    assert done.follow_ups_run == 2 and again.follow_ups_run == 0
    assert sorted(ran) == assignments  # each run exactly once
    assert set(FollowUp.objects.values_list("status", flat=True)) == {"done"}
    assert not any(e.follow_ups for e in reconcile_report(account.owner).experiments)
    review_active_hits()
    assert sorted(ran) == assignments


def test_another_researchers_report_does_not_show_it(account, crowd, monkeypatch, django_user_model):
    crash_before_follow_ups(monkeypatch, account, crowd, [])
    other = django_user_model.objects.create_user("other", password="x")
    assert reconcile_report(other).clean
    reconcile_repair(by=other, owner=other)
    assert set(FollowUp.objects.values_list("status", flat=True)) == {"pending"}


def test_a_failed_payment_is_listed_and_left_to_a_person(account, crowd, monkeypatch):
    hit = two_agreeing_answers(crowd, account)
    review_active_hits()
    assignment = Assignment.objects.filter(hit=hit).first()
    payment = payments.bonus_row(
        assignment=assignment, amount=Decimal("0.30"), reason="Payoff", key="refused", triggered_by="test"
    )
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED, error="Insufficient funds")

    lines = [line for e in reconcile_report(account.owner).experiments for line in e.payments]
    assert len(lines) == 1 and "failed" in lines[0].what and lines[0].detail == "Insufficient funds"
    assert lines[0].age is not None

    reconcile_repair(by=None)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.FAILED


def test_a_pending_payment_and_an_unsynced_score_are_repaired(account, crowd):
    hit = two_agreeing_answers(crowd, account)
    review_active_hits()
    assignment = Assignment.objects.filter(hit=hit).first()
    payment = payments.bonus_row(
        assignment=assignment,
        amount=Decimal("0.20"),
        reason="Left pending",
        key="pending",
        triggered_by="test",
    )
    WorkerQualification.objects.filter(account=account).update(synced_value=None)
    report = reconcile_report(None)
    assert any(e.payments for e in report.experiments) and report.scores

    done = reconcile_repair(by=None)

    assert done.payments_settled == 1 and done.scores_synced == len(report.scores)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.DONE
    assert reconcile_report(None).clean


def test_the_command_prints_the_report_and_repairs(account, crowd, monkeypatch):
    crash_before_follow_ups(monkeypatch, account, crowd, [])
    out = StringIO()
    call_command("reconcile", stdout=out)
    assert "follow-ups owed, not done: 2" in out.getvalue()
    out = StringIO()
    call_command("reconcile", "--repair", stdout=out)
    assert "2 follow-ups run" in out.getvalue() and "Nothing to reconcile" in out.getvalue()


def test_the_admin_page_shows_the_researchers_own_rows_and_repairs_after_confirmation(
    client, account, crowd, monkeypatch, django_user_model
):
    from hits.tests.test_admin import confirm_post, messages_of

    ran: list[str] = []
    crash_before_follow_ups(monkeypatch, account, crowd, ran)
    url = reverse("admin:hits_payment_reconcile")
    client.force_login(account.owner)
    assert url in client.get(reverse("admin:hits_payment_changelist")).content.decode()

    page = client.get(url).content.decode()
    assert page.count('class="reconcile-follow-up"') == 2 and 'id="reconcile-repair"' in page

    asked = client.post(url)  # the first POST asks
    assert asked.status_code == 200 and 'name="confirmed"' in asked.content.decode()
    assert ran == [] and set(FollowUp.objects.values_list("status", flat=True)) == {"pending"}

    done = confirm_post(client, asked)
    assert any("2 follow-ups run" in m for m in messages_of(done)) and len(ran) == 2
    assert 'id="reconcile-clean"' in client.get(url).content.decode()

    other = django_user_model.objects.create_user("bob", password="x", is_staff=True)
    from crowdhr.researchers import researchers_group

    other.groups.add(researchers_group())
    Payment.objects.filter(kind=Payment.Kind.APPROVAL).update(status=Payment.Status.FAILED)
    client.force_login(other)
    assert 'id="reconcile-clean"' in client.get(url).content.decode()
