"""`make demo`: the demo researcher finds the local oTree, the local MTurk and a study ready to publish."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from experiments.models import Experiment, OtreeSite
from experiments.otree_server import DEMO_OTREE_REST_KEY
from platforms.models import PlatformAccount

pytestmark = pytest.mark.django_db


def test_demo_setup_registers_the_local_otree_and_mturk_once(capsys):
    call_command("demo_setup")
    call_command("demo_setup")

    site = OtreeSite.objects.get()
    assert (site.owner.username, site.url, site.rest_key) == (
        "researcher",
        "http://127.0.0.1:8001",
        DEMO_OTREE_REST_KEY,
    )
    account = PlatformAccount.objects.get()
    assert (account.owner, account.environment) == (site.owner, "emulator")
    study = Experiment.objects.get()
    assert (study.kind, study.otree_site, study.account, study.otree_session_code) == (
        "otree",
        site,
        account,
        "",
    )
    assert f"/admin/experiments/experiment/{study.pk}/change/" in capsys.readouterr().out
