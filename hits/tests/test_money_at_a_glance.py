"""A researcher's first hour, money and workers: the account summary adds up, a manual bonus is for
the assignment the researcher chooses (and a second confirmation pays nothing), and a worker's page
offers Ban or Unban as the worker stands."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from hits.models import Assignment, Payment
from hits.tests.test_admin import answered, confirm_post, messages_of, publish
from workers.models import Worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ada(client, researcher):
    client.force_login(researcher)
    return client


def cell(text: str, css: str) -> Decimal:
    return Decimal(re.search(rf'<td class="{css}">\$([\d.,]+)</td>', text).group(1).replace(",", ""))


def test_the_account_summary_shows_balance_held_and_spent_that_add_up(ada, account, crowd):
    from hits import payments

    answered(crowd, publish(account, "one", assignments=3, reward="0.50"), ("AW1", "cat"))
    payments.approve_assignment(Assignment.objects.get(), decided_by="test")

    text = ada.get(reverse("admin:index")).content.decode()
    balance = Decimal(re.search(r"<td>\$([\d.]+)</td>\s*<td class=\"held\">", text).group(1))
    held, spent, total = cell(text, "held"), cell(text, "spent"), cell(text, "total")
    assert held == Decimal("1.20")  # two places not taken yet, $0.50 + 20% each
    assert spent == Decimal("0.60")
    assert balance + held + spent == total == Decimal("10000.00")


def test_a_bonus_is_for_the_assignment_the_researcher_chooses_and_a_resubmit_says_already_sent(
    ada, account, crowd
):
    answered(crowd, publish(account, "first", reward="0.50"), ("AW1", "cat"))
    answered(crowd, publish(account, "second", reward="0.50"), ("AW1", "dog"))
    worker = Worker.objects.get(worker_id="AW1")
    first = Assignment.objects.get(hit__outsourcer__target="first")

    form = ada.post(reverse("admin:workers_worker_button", args=[worker.pk, "bonus"]))
    choices = html.unescape(form.content.decode())
    assert "Name the animal first" in choices and "Name the animal second" in choices
    review = confirm_post(
        ada, form, account=str(account.pk), assignment=str(first.pk), amount="0.40", reason="Careful work"
    )
    assert "$0.48" in review.content.decode()
    done = confirm_post(ada, review)
    assert "1 bonus sent." in messages_of(done)
    again = confirm_post(ada, review)  # the same confirmation submitted again
    assert any("already sent" in m for m in messages_of(again))
    assert not any("bonus sent." in m for m in messages_of(again))
    (bonus,) = Payment.objects.filter(kind=Payment.Kind.BONUS)
    assert (bonus.assignment_id, bonus.status) == (first.pk, Payment.Status.DONE)


def test_the_worker_page_offers_ban_or_unban_as_the_worker_stands(ada, account, crowd):
    answered(crowd, publish(account), ("AW1", "cat"))
    worker = Worker.objects.get(worker_id="AW1")
    page = reverse("admin:workers_worker_change", args=[worker.pk])

    def buttons() -> set[str]:
        return set(re.findall(r'id="button-(\w+)"', ada.get(page).content.decode()))

    assert {"ban", "hard_block"} <= buttons() and not {"unban", "unblock"} & buttons()
    ban = ada.post(
        reverse("admin:workers_worker_changelist"),
        {"action": "ban_workers", "index": 0, helpers.ACTION_CHECKBOX_NAME: [str(worker.pk)]},
    )
    confirm_post(ada, ban, account=str(account.pk), reason="Random answers")
    assert "unban" in buttons() and "ban" not in buttons()


def test_save_as_data_is_explained_on_its_button_and_confirmation(ada, account, crowd):
    hit = answered(crowd, publish(account), ("AW1", "cat"))
    (assignment,) = Assignment.objects.all()

    listing = ada.get(reverse("admin:hits_hit_assignments", args=[hit.pk])).content.decode()
    confirmation = ada.post(reverse("admin:hits_assignment_button", args=[assignment.pk, "save_as_data"]))

    assert 'title="Save as data: you judge this answer right.' in html.unescape(listing)
    assert "agreed answer" in html.unescape(confirmation.content.decode())
