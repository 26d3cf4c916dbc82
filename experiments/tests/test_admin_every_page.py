"""Every admin page answers 200 for an object of every task type and every kind of experiment.

The objects are rows as if posted (an Outsourcer per registered task type with a HIT and two
submitted assignments, an oTree study and a batch with participants) on an account of the local
Mechanical Turk; the pages are every registered ModelAdmin's change list, add page and change page
of each row, plus each HIT's "View assignments" and statistics pages.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from experiments.models import Experiment, OtreeSite, Participant, Visit
from hits.models import HIT, Assignment, Outsourcer
from hits.task_types import _registry
from workers.models import Worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def superuser(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "root-password-1")
    client.force_login(user)
    return user


def rows_of_every_kind(account) -> list[HIT]:
    owner = account.owner
    site = OtreeSite.objects.create(owner=owner, name="Lab", url="https://otree.example.org")
    experiments = {
        kind: Experiment.objects.create(
            owner=owner,
            account=account,
            name=f"{kind} experiment",
            kind=kind,
            title="A study",
            description="d",
            reward=Decimal("0.50"),
            otree_site=site if kind == Experiment.Kind.OTREE else None,
            num_participants=4,
        )
        for kind in Experiment.Kind.values
    }
    now = timezone.now()
    for experiment in experiments.values():
        place = Participant.objects.create(
            experiment=experiment, worker_id="AW1", assignment_id="A1", landed_at=now
        )
        Visit.objects.create(participant=place, assignment_id="A1", landed_at=now)
    hits = []
    for number, (key, cls) in enumerate(sorted(_registry.items())):
        experiment = experiments[Experiment.Kind.BATCH if "batch" in key else Experiment.Kind.OTREE]
        config = {**cls.example, "experiment_id": experiment.pk}
        outsourcer = Outsourcer.objects.create(
            owner=owner,
            account=account,
            target=f"t-{key}",
            task_type=key,
            task_config=config,
            experiment=experiment,
        )
        hit = HIT.objects.create(
            outsourcer=outsourcer,
            hit_id=f"3HIT{number}",
            environment=account.environment,
            status=HIT.Status.LIVE,
            creation_token=f"token-{key}",
            title=f"{key} work",
            description="d",
            reward=Decimal("0.50"),
            max_assignments=2,
            question="<q/>",
        )
        for worker_id in ("AW1", "AW2"):
            worker, _ = Worker.objects.get_or_create(platform=account.platform, worker_id=worker_id)
            Assignment.objects.create(
                hit=hit,
                assignment_id=f"3A{number}{worker_id}",
                worker=worker,
                platform_status="Submitted",
                answers={"answer": "cat", "completion_code": "X"},
                accept_time=now,
                submit_time=now,
            )
        hits.append(hit)
    return hits


def admin_urls() -> list[str]:
    urls = []
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        try:
            add = reverse("admin:{}_{}_add".format(*info))
        except NoReverseMatch:
            add = None
        if add:
            urls.append(add)
        for pk in model._default_manager.values_list("pk", flat=True)[:20]:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[pk]))
    return urls


def test_every_admin_page_answers_for_every_task_type_and_kind_of_experiment(client, superuser, account):
    hits = rows_of_every_kind(account)
    assert {hit.outsourcer.task_type for hit in hits} == set(_registry)

    pages = [*admin_urls(), reverse("admin:index")]
    pages += [reverse("admin:hits_hit_assignments", args=[hit.pk]) for hit in hits]
    answers = {url: client.get(url).status_code for url in pages}
    statistics = {
        hit.outsourcer.task_type: client.post(
            reverse("admin:hits_hit_changelist"),
            {"action": "response_time_statistics", "index": 0, helpers.ACTION_CHECKBOX_NAME: [str(hit.pk)]},
        ).status_code
        for hit in hits
    }

    # read-only rooms (the audit trail, the ledger, login attempts) refuse adding, by design
    refused = {url: status for url, status in answers.items() if status != 200}
    assert {
        url: status for url, status in refused.items() if not (url.endswith("/add/") and status == 403)
    } == {}
    assert {url for url, status in answers.items() if "assignments" in url and status != 200} == set()
    assert set(statistics.values()) == {200}
