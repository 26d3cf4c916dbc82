"""Bans on Prolific, which has no qualifications: a ban also puts the participant in the block group
every study excludes (after the ban commits, finished by the review cycle if that fails), and an
unban takes them out again."""

from __future__ import annotations

from decimal import Decimal

import pytest

from platforms import ExternalPage, WorkSpec, platform_for
from platforms.models import PlatformAccount
from prolific_emulator import faults
from prolific_emulator import participants as twin
from prolific_emulator.accounts import ensure_workspace
from workers import scoring
from workers.models import Block, Worker

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "ban-prolific-token"


@pytest.fixture
def account(researcher, live_server, settings) -> PlatformAccount:
    settings.PROLIFIC_EMULATOR_URL = f"{live_server.url}/emulator/prolific/api/v1/"
    ensure_workspace(TOKEN, balance=Decimal("100.00"))
    return PlatformAccount.objects.create(
        owner=researcher,
        name="Ada on Prolific",
        platform="prolific",
        environment=PlatformAccount.Environment.EMULATOR,
        secret_access_key=TOKEN,
    )


def new_study(account: PlatformAccount, token: str) -> str:
    spec = WorkSpec(
        title="A study",
        description="d",
        reward=Decimal("1.00"),
        places=3,
        destination=ExternalPage("https://example.org/study/"),
        time_allowed_seconds=600,
        estimated_seconds=300,
    )
    return platform_for(account).create_hit(spec, unique_request_token=token).hit_id


def test_a_banned_participant_cannot_take_part_in_a_new_study_until_unbanned(account):
    pid = twin.new_participant()
    worker = Worker.objects.create(platform="prolific", worker_id=pid)

    block = scoring.ban_worker(account, worker, reason="copied answers", by=None)

    block.refresh_from_db()
    assert block.platform_synced
    study = new_study(account, "crowdhr-after-ban")
    with pytest.raises(twin.Refused):
        twin.take_part(study, pid)
    assert twin.take_part(study, twin.new_participant())  # others still can

    assert scoring.unban_worker(account, worker, by=None) == 1
    assert twin.take_part(new_study(account, "crowdhr-after-unban"), pid)
    assert Block.objects.get(pk=block.pk).platform_synced


def test_a_ban_the_platform_did_not_take_is_finished_by_the_next_cycle(account):
    pid = twin.new_participant()
    worker = Worker.objects.create(platform="prolific", worker_id=pid)
    faults.fail_next("groups.add_participants", "unavailable", times=1)

    block = scoring.ban_worker(account, worker, reason="copied answers", by=None)

    assert not Block.objects.get(pk=block.pk).platform_synced
    assert scoring.sync_bans() == 1
    with pytest.raises(twin.Refused):
        twin.take_part(new_study(account, "crowdhr-later"), pid)
