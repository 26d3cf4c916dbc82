"""Every admin URL, walked as researcher B against researcher A's objects: nothing of A's is reachable.

The walk takes its URLs from `admin.site` itself (every ModelAdmin's patterns, object buttons,
pages such as View assignments and the schedule, and the site's own views), and also posts every
changelist action with A's ids as a crafted, already-"confirmed" form. B must get 403, 404, 405
or a redirect away, never a 500, never a page with A's data, and A's rows must not change.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse

from hits.models import Assignment, Payment, Progress
from hits.tests.test_admin import make_experiment, make_researcher, offline_hit
from workers.models import (
    Achievement,
    Block,
    Message,
    QualificationChange,
    Worker,
    WorkerQualification,
)

pytestmark = pytest.mark.django_db

SECRET = "ADASECRET"
FORM_DATA = {
    "confirmed": "yes",
    "reviewed": "yes",
    "nonce": "crafted",
    "reason": "x",
    "feedback": "x",
    "problem": "x",
    "amount": "1.00",
    "subject": "x",
    "body": "x",
    "answer": '{"answer": "x"}',
    "when": "2030-01-01 09:00",
}


@pytest.fixture
def ada_world(researcher):
    """Researcher A's objects, each carrying SECRET somewhere a page would show it."""
    from django_celery_beat.models import ClockedSchedule, PeriodicTask

    hit = offline_hit(researcher, f"{SECRET}-item")
    hit.title = f"{SECRET} study"
    hit.save()
    account = hit.outsourcer.account
    account.name = f"{SECRET} lab"
    account.save()
    worker = Worker.objects.create(worker_id=f"A{SECRET}W")
    assignment = Assignment.objects.create(
        hit=hit,
        assignment_id=f"{SECRET}-A1",
        worker=worker,
        platform_status="Submitted",
        answers={"answer": "cat"},
    )
    payment = Payment.objects.create(
        account=account, worker=worker, assignment=assignment, kind="bonus", key=f"{SECRET}-k", token=f"{SECRET}-t",
        amount=Decimal("1.00"), reason=f"{SECRET} bonus", status="failed",
    )  # fmt: skip
    score = WorkerQualification.objects.create(
        account=account, worker=worker, qualification="quality_score", value=40
    )
    QualificationChange.objects.create(qualification=score, old_value=36, new_value=40, reason=SECRET)
    Achievement.objects.create(
        account=account, worker=worker, track="hits_approved", level=1, name=SECRET, score=1
    )
    Block.objects.create(account=account, worker=worker, kind="ban", reason=SECRET)
    message = Message.objects.create(account=account, subject=SECRET, body=SECRET)
    message.workers.add(worker)
    Progress.objects.create(owner=researcher, description=SECRET, total=2)
    experiment = make_experiment(researcher, name=f"{SECRET} experiment")
    hit.outsourcer.experiment = experiment
    hit.outsourcer.save()
    clocked = ClockedSchedule.objects.create(clocked_time=datetime(2030, 1, 1, tzinfo=UTC))
    task = PeriodicTask.objects.create(
        name=f"Publish {SECRET}",
        task="experiments.tasks.publish_experiment_on_schedule",
        kwargs=json.dumps({"experiment_id": experiment.pk, "user_id": researcher.pk}),
        clocked=clocked,
        one_off=True,
    )
    return {"hit": hit, "worker": worker, "payment": payment, "task": task}


def a_row_of(model: type[models.Model], user, world) -> models.Model | None:
    """A's row of this model (for models without an owner, any row A's world made)."""
    queryset = model._default_manager.all()
    if model is Worker:
        return world["worker"]
    if hasattr(queryset, "visible_to"):
        return queryset.visible_to(user).order_by("pk").first()
    return queryset.order_by("pk").first()


def snapshot(user, world) -> dict[str, list]:
    """Everything of A's, to prove a crafted request changed nothing."""
    state = {}
    for model in admin.site._registry:
        row = a_row_of(model, user, world)
        if row is not None:
            state[model._meta.label] = list(model._default_manager.filter(pk=row.pk).values())
    return state


def object_urls(user, world) -> list[tuple[str, str]]:
    """(url, what) for every object-level admin URL of every ModelAdmin, filled with A's ids."""
    urls = []
    for model, model_admin in admin.site._registry.items():
        row = a_row_of(model, user, world)
        for pattern in model_admin.get_urls():
            if not pattern.name:
                continue
            params = set(pattern.pattern.regex.groupindex)
            if not params:
                continue  # changelist/add: checked separately for A's data
            names = getattr(model_admin, "object_buttons", ()) if "name" in params else [None]
            for name in names:
                kwargs = {}
                for id_param in params & {"object_id", "id"}:
                    if row is None:
                        break
                    kwargs[id_param] = row.pk
                if len(kwargs) < len(params & {"object_id", "id"}):
                    continue
                if "task_id" in params:
                    kwargs["task_id"] = world["task"].pk
                if name:
                    kwargs["name"] = name
                urls.append((reverse(f"admin:{pattern.name}", kwargs=kwargs), f"{pattern.name} {name or ''}"))
    for model in [type(world["hit"]), Worker, Payment]:
        content_type = ContentType.objects.get_for_model(model)
        row = a_row_of(model, user, world)
        urls.append((reverse("admin:view_on_site", args=[content_type.pk, row.pk]), "view_on_site"))
    return urls


def list_urls() -> list[str]:
    """Pages without an object id: change lists, add pages, app indexes, the index, autocomplete."""
    urls = [
        reverse("admin:index"),
        reverse("admin:autocomplete") + f"?term={SECRET}&app_label=hits&model_name=hit&field_name=outsourcer",
    ]
    apps = set()
    for model, model_admin in admin.site._registry.items():
        for pattern in model_admin.get_urls():
            if pattern.name and not pattern.pattern.regex.groupindex:
                urls.append(reverse(f"admin:{pattern.name}"))
        apps.add(model._meta.app_label)
    urls += [reverse("admin:app_list", args=[app]) for app in sorted(apps)]
    return urls


def refused(response) -> bool:
    if response.status_code in {403, 404, 405}:
        return True
    if response.status_code == 302:
        return SECRET not in response["Location"] and "/change/" not in response["Location"]
    return False


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def test_researcher_b_reaches_nothing_of_researcher_a_through_any_admin_url(
    client, researcher, django_user_model, ada_world
):
    bob = make_researcher(django_user_model, "bob")
    client.force_login(bob)
    before = snapshot(researcher, ada_world)
    walked = 0

    for url, what in object_urls(researcher, ada_world):
        for method in ("get", "post"):
            response = getattr(client, method)(url, FORM_DATA if method == "post" else None)
            assert refused(response), f"{method.upper()} {url} ({what}) answered {response.status_code}"
            assert SECRET not in body_of(response), f"{method.upper()} {url} ({what}) shows A's data"
            walked += 1

    for url in list_urls():
        response = client.get(url)
        assert response.status_code in {200, 302, 403, 404}, f"GET {url} answered {response.status_code}"
        assert SECRET not in body_of(response), f"GET {url} shows A's data"
        walked += 1

    for model, model_admin in admin.site._registry.items():
        row = a_row_of(model, researcher, ada_world)
        if row is None:
            continue
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for _, name, _ in model_admin._get_base_actions():
            account = ada_world["hit"].outsourcer.account
            for index in (True, False):  # the action menu's POST, and the confirmation page's POST
                data = {**FORM_DATA, "action": name, helpers.ACTION_CHECKBOX_NAME: [str(row.pk)]}
                data.update(
                    {"account": account.pk, "experiment": row.pk, "index": 0}
                    if index
                    else {"account": account.pk}
                )
                response = client.post(changelist, data)
                assert response.status_code in {200, 302, 403, 404}, f"action {name} on {changelist}"
                assert SECRET not in body_of(response), f"action {name} on {changelist} shows A's data"
                walked += 1

    assert snapshot(researcher, ada_world) == before, "a crafted request changed A's rows"
    assert walked > 100


def test_researcher_a_reaches_their_own_objects(client, researcher, ada_world):
    client.force_login(researcher)
    ours = ("hits_", "workers_", "experiments_")
    pages = [
        url
        for url, what in object_urls(researcher, ada_world)
        if what.split()[0].endswith("_change") and what.startswith(ours)
    ]
    assert len(pages) >= 8
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET in body_of(response), url
    assignments = reverse("admin:hits_hit_assignments", args=[ada_world["hit"].pk])
    assert SECRET in client.get(assignments).content.decode()
    assert (
        f"Publish {SECRET}" in client.get(reverse("admin:experiments_experiment_schedule")).content.decode()
    )


def test_a_superuser_sees_everyone_and_can_filter_by_owner(admin_client, researcher, ada_world):
    changelist = reverse("admin:hits_hit_changelist")
    assert SECRET in admin_client.get(changelist).content.decode()
    filtered = admin_client.get(changelist, {"owner": researcher.pk + 1000})
    assert SECRET not in filtered.content.decode()
    assert SECRET in admin_client.get(changelist, {"owner": researcher.pk}).content.decode()
