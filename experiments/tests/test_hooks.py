"""Prolific's hooks: a signed delivery queues the review of its study at once; a forged, replayed
or stale one is refused and changes nothing."""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal

import pytest
from django.urls import reverse

from crowdhr.models import AuditEntry
from experiments import tasks
from experiments.hooks import EVENT_TYPES, HookEvent, hit_for_event
from experiments.models import PlatformHooks, ReceivedHook
from hits.models import HIT, Assignment, Outsourcer
from platforms import ExternalPage, WorkSpec, platform_for
from platforms.models import PlatformAccount
from prolific_emulator import hooks as twin_hooks
from prolific_emulator import participants as twin
from prolific_emulator.accounts import ensure_workspace

STUDY_ID = "64b1f0c2a1b2c3d4e5f60718"
SECRET = "hook-secret-of-the-workspace"


@pytest.fixture
def prolific_account(researcher) -> PlatformAccount:
    account = PlatformAccount.objects.create(
        owner=researcher,
        name="Ada on Prolific",
        platform="prolific",
        environment=PlatformAccount.Environment.EMULATOR,
        secret_access_key="ada-prolific-token",
    )
    PlatformHooks.objects.create(account=account, secret=SECRET, target_url="https://example.org/hook/")
    return account


@pytest.fixture
def study_hit(prolific_account) -> HIT:
    outsourcer = Outsourcer.objects.create(
        owner=prolific_account.owner, account=prolific_account, target="experiment:1", task_type="otree_study"
    )
    return HIT.objects.create(
        outsourcer=outsourcer,
        hit_id=STUDY_ID,
        environment="emulator",
        status=HIT.Status.LIVE,
        creation_token="crowdhr-hit-test",
        title="t",
        description="d",
        reward="0.50",
        question="{}",
    )


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(tasks.review_from_hook, "delay", lambda *args: calls.append(args))
    return calls


def deliver(client, account, body: str, *, secret: str = SECRET, timestamp: str | None = None):
    timestamp = timestamp or str(int(time.time()))
    return client.post(
        reverse("hooks:prolific", args=[account.pk]),
        data=body,
        content_type="application/json",
        HTTP_X_PROLIFIC_REQUEST_TIMESTAMP=timestamp,
        HTTP_X_PROLIFIC_REQUEST_SIGNATURE=twin_hooks.sign(secret, timestamp, body),
    )


def event(resource_id: str = STUDY_ID, event_type: str = "study.status.change") -> str:
    return json.dumps({"event_type": event_type, "resource_id": resource_id, "status": "AWAITING REVIEW"})


@pytest.mark.django_db
def test_a_signed_delivery_queues_the_review_of_its_study(
    client, prolific_account, study_hit, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, prolific_account, event())

    assert response.status_code == 204
    assert queued == [(prolific_account.pk, "study.status.change", STUDY_ID)]
    found = hit_for_event(HookEvent(prolific_account.pk, "study.status.change", STUDY_ID))
    assert found == study_hit


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forge",
    [
        {"secret": "not-the-secret"},
        {"timestamp": str(int(time.time()) - 600)},
        {"timestamp": "yesterday"},
    ],
    ids=["wrong secret", "stale", "no unix time"],
)
def test_a_forged_or_stale_delivery_is_refused_and_changes_nothing(
    client, prolific_account, queued, django_capture_on_commit_callbacks, forge
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, prolific_account, event(), **forge)

    assert response.status_code == 403
    assert (queued, ReceivedHook.objects.count()) == ([], 0)


@pytest.mark.django_db
def test_a_replayed_delivery_is_refused(client, prolific_account, queued, django_capture_on_commit_callbacks):
    timestamp = str(int(time.time()))
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(client, prolific_account, event(), timestamp=timestamp)
        replay = deliver(client, prolific_account, event(), timestamp=timestamp)

    assert (first.status_code, replay.status_code) == (204, 403)
    assert len(queued) == 1
    assert ReceivedHook.objects.count() == 1


@pytest.mark.django_db
def test_an_account_without_hooks_or_a_body_that_is_no_event_is_refused(
    client, prolific_account, queued, django_capture_on_commit_callbacks
):
    other = PlatformAccount.objects.create(owner=prolific_account.owner, name="no hooks", platform="prolific")
    with django_capture_on_commit_callbacks(execute=True):
        no_hooks = deliver(client, other, event())
        not_an_event = deliver(client, prolific_account, json.dumps({"hello": "world"}))
        unknown_type = deliver(client, prolific_account, event(event_type="study.deleted"))

    assert {no_hooks.status_code, not_an_event.status_code, unknown_type.status_code} == {403}
    assert queued == []


@pytest.mark.django_db(transaction=True)
def test_the_local_prolific_delivers_signed_hooks_crowdhr_accepts(live_server, prolific_account, queued):
    """The twin signs and posts over real HTTP exactly as Prolific documents; crowdhr accepts it."""
    workspace = ensure_workspace("ada-prolific-token")
    secret = twin_hooks.create_secret(workspace)
    target = live_server.url + reverse("hooks:prolific", args=[prolific_account.pk])
    subscription = twin_hooks.subscribe(workspace, event_type="study.status.change", target_url=target)
    twin_hooks.confirm(subscription, subscription.confirmation_secret)
    PlatformHooks.objects.filter(account=prolific_account).update(target_url=target)
    hooks_row = PlatformHooks.objects.get(account=prolific_account)
    hooks_row.secret = secret.value  # what "Set up hooks" stores from the platform
    hooks_row.save()

    twin_hooks.emit(
        workspace, "study.status.change", {"event_type": "study.status.change", "resource_id": STUDY_ID}
    )

    delivery = twin_hooks.deliveries(workspace)[-1]
    assert (delivery.status, delivery.last_response_status) == ("DELIVERED", 204)
    assert queued == [(prolific_account.pk, "study.status.change", STUDY_ID)]


@pytest.mark.django_db(transaction=True)
def test_set_up_hooks_then_a_completed_submission_has_its_study_reviewed(
    client, researcher, live_server, settings, queued
):
    """The account's "Set up hooks" button (confirmed POST) makes the local Prolific deliver a signed
    hook when a participant completes; the queued review stores the submission."""
    settings.SITE_URL = live_server.url
    settings.PROLIFIC_EMULATOR_URL = f"{live_server.url}/emulator/prolific/api/v1/"
    workspace = ensure_workspace("eve-prolific-token", balance=Decimal("100.00"))
    account = PlatformAccount.objects.create(
        owner=researcher,
        name="Eve on Prolific",
        platform="prolific",
        environment=PlatformAccount.Environment.EMULATOR,
        secret_access_key="eve-prolific-token",
    )
    client.force_login(researcher)
    url = f"/admin/platforms/platformaccount/{account.pk}/button/set_up_hooks/"
    page = client.post(url)
    nonce = re.search(rb'name="nonce" value="([^"]+)"', page.content)
    assert page.status_code == 200 and nonce, page.content[:2000]
    assert client.post(url, {"confirmed": "yes", "nonce": nonce.group(1).decode()}).status_code == 302
    assert client.post(url, {"confirmed": "yes", "nonce": "again"}).status_code in (200, 302)

    hooks_row = PlatformHooks.objects.get(account=account)
    assert hooks_row.secret == twin_hooks.active_secret(workspace).value
    enabled = workspace.hook_subscriptions.filter(is_enabled=True, is_deleted=False)
    assert sorted(enabled.values_list("event_type", flat=True)) == sorted(EVENT_TYPES)
    assert AuditEntry.objects.filter(action="set up hooks").exists()

    hit = study_on_prolific(account)
    submission = twin.take_part(hit.hit_id, twin.new_participant())
    queued.clear()
    twin.complete(submission, prolific_code(account, hit))

    delivered = twin_hooks.deliveries(workspace, "submission.status.change")[-1]
    assert (delivered.status, delivered.last_response_status) == ("DELIVERED", 204)
    assert (account.pk, "submission.status.change", submission.id) in queued
    tasks.review_from_hook(account.pk, "submission.status.change", submission.id)
    stored = Assignment.objects.get(assignment_id=submission.id)
    assert (stored.hit_id, stored.platform_status) == (hit.pk, "Submitted")


def study_on_prolific(account: PlatformAccount) -> HIT:
    """A study posted straight through the client, with its HIT row (a free-text question)."""
    outsourcer = Outsourcer.objects.create(
        owner=account.owner, account=account, target="hooked", task_type="free_text"
    )
    spec = WorkSpec(
        title="A hooked study",
        description="d",
        reward=Decimal("1.00"),
        places=2,
        destination=ExternalPage("https://example.org/study/"),
        time_allowed_seconds=600,
        estimated_seconds=300,
    )
    posted = platform_for(account).create_hit(spec, unique_request_token="crowdhr-hooked-study")
    return HIT.objects.create(
        outsourcer=outsourcer,
        hit_id=posted.hit_id,
        environment="emulator",
        status=HIT.Status.LIVE,
        creation_token="crowdhr-hooked-study",
        title="t",
        description="d",
        reward="1.00",
        question="{}",
    )


def prolific_code(account: PlatformAccount, hit: HIT) -> str:
    return platform_for(account).get_hit(hit.hit_id).completion_code
