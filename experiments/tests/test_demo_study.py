"""`make demo`: the demo researcher finds the local oTree, the local Prolific and MTurk, and a study
ready to publish on each."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from experiments.models import Experiment, OtreeSite
from experiments.otree_server import DEMO_OTREE_REST_KEY
from platforms.models import PlatformAccount

pytestmark = pytest.mark.django_db


def test_demo_setup_registers_the_local_otree_prolific_and_mturk_once(capsys):
    call_command("demo_setup")
    call_command("demo_setup")

    site = OtreeSite.objects.get()
    assert (site.owner.username, site.url, site.rest_key) == (
        "researcher",
        "http://127.0.0.1:8001",
        DEMO_OTREE_REST_KEY,
    )
    accounts = {a.platform: a for a in PlatformAccount.objects.all()}
    assert sorted(accounts) == ["mturk", "prolific"]
    assert {(a.owner, a.environment) for a in accounts.values()} == {(site.owner, "emulator")}
    studies = {s.account.platform: s for s in Experiment.objects.all()}
    assert sorted(studies) == ["mturk", "prolific"]
    output = capsys.readouterr().out
    for study in studies.values():
        assert (study.kind, study.otree_site, study.otree_session_code) == ("otree", site, "")
        assert f"/admin/experiments/experiment/{study.pk}/change/" in output
    assert output.index("Prolific") < output.index("Mechanical Turk")


def test_demo_setup_opens_a_workspace_on_the_local_prolific():
    from crowdhr.management.commands.demo_setup import DEMO_PROLIFIC_TOKEN
    from prolific_emulator.accounts import workspace_for_token

    call_command("demo_setup")

    assert workspace_for_token(DEMO_PROLIFIC_TOKEN) is not None
    assert PlatformAccount.objects.get(platform="prolific").secret_access_key == DEMO_PROLIFIC_TOKEN
