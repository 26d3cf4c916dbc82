"""The emulator's tables can be inspected in the admin, and are not editable there."""

from __future__ import annotations

import pytest
from django.contrib import admin

from mturk_emulator import workers
from mturk_emulator.models import HIT, Account


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(user)
    return client


def test_every_emulator_table_has_a_working_admin_page(staff_client, mturk, create_hit):
    hit = create_hit()
    workers.work(hit["HITId"], "AWORKER1", {"label": "cat"})
    models = [model for model in admin.site._registry if model._meta.app_label == "mturk_emulator"]

    for model in models:
        url = f"/admin/mturk_emulator/{model._meta.model_name}/"
        assert staff_client.get(url).status_code == 200, url

    hit_page = staff_client.get(f"/admin/mturk_emulator/hit/{HIT.objects.get().pk}/change/")
    assert hit_page.status_code == 200
    assert "AWORKER1" in hit_page.content.decode()
    account_page = staff_client.get(f"/admin/mturk_emulator/account/{Account.objects.get().pk}/change/")
    assert "1.80" in account_page.content.decode()  # the charge for 3 x ($0.50 + $0.10)


def test_hits_cannot_be_added_in_the_admin(staff_client, transactional_db):
    assert staff_client.get("/admin/mturk_emulator/hit/add/").status_code == 403
