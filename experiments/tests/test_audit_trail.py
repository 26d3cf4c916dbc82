"""Every state-changing admin action and object button leaves an audit entry naming the researcher.

The list of what to walk comes from the registered ModelAdmins (changelist actions that need more
than view permission, and POST object buttons), so a new action without a scenario here, or
without an audit record, makes the test fail. It lives with the experiments tests because it
needs their oTree fixtures (an experiments test may use every app below it).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.test import Client
from django.urls import reverse

from crowdhr.admin_tools import ObjectButtonsAdmin
from crowdhr.models import AuditEntry
from crowdhr.researchers import researchers_group
from experiments import batches
from experiments import services as experiment_services
from experiments.models import Experiment, Participant
from experiments.otree import OtreeParticipant
from experiments.services import StudyResults
from experiments.tests.conftest import make_study
from experiments.tests.test_batches import make_batch
from experiments.workflow.models import HostedStudy
from experiments.workflow.tests.conftest import demo_study
from hits import services
from hits.models import HIT, Assignment, Payment
from hits.review.sync import fetch_assignments
from hits.tests.test_admin import answered, confirm_post, publish
from platforms.models import PlatformAccount
from prolific_emulator.accounts import ensure_workspace
from workers import scoring
from workers import services as worker_services
from workers.models import Worker

pytestmark = pytest.mark.django_db(transaction=True)


# --- what the admin offers ----------------------------------------------------------------------
def state_changing_actions(request) -> set[tuple[str, str]]:
    """(model label, name) of every changelist action and POST button that changes something."""
    found = set()
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_module_permission(request):
            continue  # a page the researcher never sees (celery-beat's, users)
        label = model._meta.label_lower
        for name, (func, _, _) in model_admin.get_actions(request).items():
            if set(getattr(func, "allowed_permissions", ())) != {"view"} and name != "delete_selected":
                found.add((label, name))
        if isinstance(model_admin, ObjectButtonsAdmin):
            for name in model_admin.object_buttons:
                if "POST" in getattr(model_admin, name).object_button.methods:
                    found.add((label, name))
    return found


# --- driving the admin as the researcher -----------------------------------------------------------
def confirm_all(client: Client, page, **fields):
    """Press "yes" on every confirmation page (a bonus asks twice: the typed amount, then the cost)."""
    for _ in range(3):
        if page.status_code != 200 or b'id="confirm-button"' not in page.content:
            return page  # done, or refused (the page says why and offers no button)
        page = confirm_post(client, page, confirmed="yes", **fields)
    return page


def action(label: str, name: str, rows, **fields) -> Callable[[Client], object]:
    def run(client: Client):
        app, model = label.split(".")
        url = reverse(f"admin:{app}_{model}_changelist")
        ids = [str(row.pk) for row in rows()]
        page = client.post(url, {"action": name, "index": 0, helpers.ACTION_CHECKBOX_NAME: ids, **fields})
        return confirm_all(client, page, **fields)

    return run


def button(label: str, name: str, row, **fields) -> Callable[[Client], object]:
    def run(client: Client):
        app, model = label.split(".")
        url = reverse(f"admin:{app}_{model}_button", args=[row().pk, name])
        return confirm_all(client, client.post(url, fields), **fields)

    return run


class World:
    """Fresh targets for each scenario, made through the services as the system (by=None)."""

    def __init__(self, account, crowd, study) -> None:
        self.account, self.crowd, self.study, self.count = account, crowd, study, 0
        self.payoffs: dict[str, OtreeParticipant] = {}

    def hit(self) -> HIT:
        self.count += 1
        outsourcer = publish(self.account, f"audit-{self.count}")
        return answered(self.crowd, outsourcer, (f"AW{self.count}A", "cat"), (f"AW{self.count}B", "dog"))

    def expired_hit(self) -> HIT:
        hit = self.hit()
        services.outsourcer_expire(outsourcer=hit.outsourcer, by=None)
        return hit

    def flagged_hit(self) -> HIT:
        hit = self.hit()
        services.outsourcer_flag(outsourcer=hit.outsourcer, problem="look", by=None)
        return hit

    def assignment(self) -> Assignment:
        return self.hit().assignments.order_by("pk").first()

    def worker(self) -> Worker:
        return self.assignment().worker

    def banned_worker(self) -> Worker:
        worker = self.worker()
        scoring.ban_worker(self.account, worker, reason="test", by=None)
        return worker

    def blocked_worker(self) -> Worker:
        worker = self.worker()
        worker_services.worker_hard_block(account=self.account, worker=worker, reason="test", by=None)
        return worker

    def failed_payment(self) -> Payment:
        assignment = self.assignment()
        services.assignment_approve(assignment=assignment, by=None)
        payment = Payment.objects.get(assignment=assignment)
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED, error="No funds")
        return payment

    def new_study(self) -> Experiment:
        self.count += 1
        return make_study(self.account, self.study.otree_site, name=f"Study {self.count}")

    def study_with_payoffs(self) -> Experiment:
        """A published study whose approved workers oTree reports a payoff for (oTree's answer faked:
        it is the one seam; a browser run through oTree is in test_admin)."""
        study = self.new_study()
        experiment_services.experiment_publish(experiment=study, by=None)
        hit = study.outsourcers.get().hits.order_by("pk").first()
        self.count += 1
        worker_id = f"AWPAY{self.count}"
        self.crowd.submit(self.crowd.accept(hit.hit_id, worker_id), {"done": "yes"})
        fetch_assignments(hit)
        services.assignment_approve(assignment=hit.assignments.get(), by=None)
        participant = OtreeParticipant(
            code="c", label=worker_id, id_in_session=1, finished=True, payoff=Decimal(1)
        )
        self.payoffs[worker_id] = participant
        return study

    def prolific_account(self) -> PlatformAccount:
        """An account on the local Prolific (the live server's, as `settings` points crowdhr there)."""
        self.count += 1
        token = f"audit-prolific-{self.count}"
        ensure_workspace(token)
        return PlatformAccount.objects.create(
            owner=self.account.owner,
            name=f"Prolific {self.count}",
            platform="prolific",
            environment=PlatformAccount.Environment.EMULATOR,
            secret_access_key=token,
        )

    def hosted_study(self) -> HostedStudy:
        """The demo hosted-tasks package, unpublished, on the researcher's MTurk account."""
        return demo_study(self.account)

    def published_batch(self) -> Experiment:
        """A batch of two items, published (as the system)."""
        self.count += 1
        batch = make_batch(self.account, f"name,country\nLyon{self.count},France\nRhine,Germany\n")
        batches.batch_publish(experiment=batch, by=None)
        return batch

    def published_study(self) -> Experiment:
        if not self.study.published_at:
            experiment_services.experiment_publish(experiment=self.study, by=None)
            Participant.objects.get_or_create(experiment=self.study, worker_id="AWSTUDY")
            self.study.refresh_from_db()
        return self.study


def scenarios(world: World) -> dict[tuple[str, str], Callable[[Client], object]]:
    """One scenario per state-changing action; each makes its own target first."""
    hit, hits, experiment = "hits.hit", lambda make: lambda: [make()], "experiments.experiment"
    worker, account = "workers.worker", {"account": str(world.account.pk)}
    one = lambda make: make  # noqa: E731
    study = lambda: [world.published_study()]  # noqa: E731
    return {
        (hit, "delete_hits"): action(hit, "delete_hits", hits(world.hit)),
        (hit, "reopen_hits"): action(hit, "reopen_hits", hits(world.hit)),
        (hit, "expire_hits"): action(hit, "expire_hits", hits(world.hit)),
        (hit, "unexpire_hits"): action(hit, "unexpire_hits", hits(world.expired_hit)),
        (hit, "approve_all_hits"): action(hit, "approve_all_hits", hits(world.hit)),
        (hit, "reject_all_hits"): action(hit, "reject_all_hits", hits(world.hit), feedback="No."),
        (hit, "flag_hits"): action(hit, "flag_hits", hits(world.hit), problem="Odd answers"),
        (hit, "unflag_hits"): action(hit, "unflag_hits", hits(world.flagged_hit)),
        (hit, "reopen_button"): button(hit, "reopen_button", one(world.hit)),
        (hit, "expire_button"): button(hit, "expire_button", one(world.hit)),
        (hit, "unexpire_button"): button(hit, "unexpire_button", one(world.expired_hit)),
        (hit, "approve_all_button"): button(hit, "approve_all_button", one(world.hit)),
        (hit, "reject_all_button"): button(hit, "reject_all_button", one(world.hit), feedback="No."),
        (hit, "flag_button"): button(hit, "flag_button", one(world.hit), problem="Odd"),
        (hit, "unflag_button"): button(hit, "unflag_button", one(world.flagged_hit)),
        (hit, "delete_button"): button(hit, "delete_button", one(world.hit)),
        (hit, "input_data"): button(hit, "input_data", one(world.hit), answer='{"answer": "cat"}'),
        ("hits.assignment", "approve_selected"): action(
            "hits.assignment", "approve_selected", hits(world.assignment)
        ),
        ("hits.assignment", "reject_selected"): action(
            "hits.assignment", "reject_selected", hits(world.assignment), feedback="No."
        ),
        ("hits.assignment", "approve"): button("hits.assignment", "approve", one(world.assignment)),
        ("hits.assignment", "reject"): button("hits.assignment", "reject", one(world.assignment)),
        ("hits.assignment", "save_as_data"): button("hits.assignment", "save_as_data", one(world.assignment)),
        ("hits.payment", "retry_failed_payments"): action(
            "hits.payment", "retry_failed_payments", hits(world.failed_payment)
        ),
        (worker, "ban_workers"): action(
            worker, "ban_workers", hits(world.worker), reason="Copied", **account
        ),
        (worker, "unban_workers"): action(worker, "unban_workers", hits(world.banned_worker), **account),
        (worker, "hard_block_workers"): action(
            worker, "hard_block_workers", hits(world.worker), reason="Spam", **account
        ),
        (worker, "unblock_workers"): action(worker, "unblock_workers", hits(world.blocked_worker), **account),
        (worker, "send_bonus"): action(
            worker, "send_bonus", hits(world.worker), amount="0.25", reason="Thanks", **account
        ),
        (worker, "send_message"): action(
            worker, "send_message", hits(world.worker), subject="Hi", body="Thanks", **account
        ),
        (worker, "ban"): button(worker, "ban", one(world.worker), reason="Copied", **account),
        (worker, "unban"): button(worker, "unban", one(world.banned_worker), **account),
        (worker, "hard_block"): button(worker, "hard_block", one(world.worker), reason="Spam", **account),
        (worker, "unblock"): button(worker, "unblock", one(world.blocked_worker), **account),
        (worker, "bonus"): button(
            worker, "bonus", one(world.worker), amount="0.25", reason="Thanks", **account
        ),
        (worker, "message"): button(
            worker, "message", one(world.worker), subject="Hi", body="Thanks", **account
        ),
        (experiment, "publish"): action(experiment, "publish", lambda: [world.new_study()]),
        (experiment, "publish_button"): button(experiment, "publish_button", world.new_study),
        (experiment, "add_participants"): action(experiment, "add_participants", study, count="1"),
        (experiment, "change_expiration"): action(
            experiment, "change_expiration", study, expire_at="2031-01-01 00:00"
        ),
        (experiment, "expire_hits"): action(experiment, "expire_hits", study),
        (experiment, "pay_bonuses"): action(experiment, "pay_bonuses", lambda: [world.study_with_payoffs()]),
        (experiment, "message_workers"): action(
            experiment, "message_workers", study, subject="Hi", body="Thanks"
        ),
        (experiment, "exclude_worker"): action(
            experiment, "exclude_worker", study, worker_id="AWX", reason="Pilot"
        ),
        (experiment, "add_participants_button"): button(
            experiment, "add_participants_button", world.published_study, count="1"
        ),
        (experiment, "change_expiration_button"): button(
            experiment, "change_expiration_button", world.published_study, expire_at="2031-01-01 00:00"
        ),
        (experiment, "expire_button"): button(experiment, "expire_button", world.published_study),
        (experiment, "pay_bonuses_button"): button(
            experiment, "pay_bonuses_button", world.study_with_payoffs
        ),
        (experiment, "message_button"): button(
            experiment, "message_button", world.published_study, subject="Hi", body="Thanks"
        ),
        (experiment, "exclude_button"): button(
            experiment, "exclude_button", world.published_study, worker_id="AWY", reason="Pilot"
        ),
        (experiment, "forced_import"): action(experiment, "forced_import", lambda: [world.published_batch()]),
        (experiment, "forced_import_button"): button(
            experiment, "forced_import_button", world.published_batch
        ),
        ("workflow.hostedstudy", "publish"): button("workflow.hostedstudy", "publish", world.hosted_study),
        ("platforms.platformaccount", "set_up_hooks"): button(
            "platforms.platformaccount", "set_up_hooks", world.prolific_account
        ),
    }


def test_every_state_changing_admin_action_leaves_an_audit_entry_naming_the_researcher(
    client, researcher, account, crowd, study, rf, monkeypatch, live_server, settings
):
    settings.PROLIFIC_EMULATOR_URL = f"{live_server.url}/emulator/prolific/api/v1/"
    client.force_login(researcher)
    world = World(account, crowd, study)
    monkeypatch.setattr(
        experiment_services, "study_results", lambda experiment: StudyResults(participants=world.payoffs)
    )
    request = rf.get("/admin/")
    request.user = researcher
    walks = scenarios(world)
    offered = state_changing_actions(request)
    assert offered - set(walks) == set(), "actions without a scenario (and so without an audit check)"

    silent = []
    for key in sorted(offered):
        before = AuditEntry.objects.filter(by=researcher).count()
        page = walks[key](client)
        if AuditEntry.objects.filter(by=researcher).count() == before:
            silent.append((key, [str(m) for m in page.context["messages"]] if page.context else page))
    assert silent == [], f"these left no audit entry naming {researcher}: {silent}"


def test_platform_accounts_added_and_changed_in_the_admin_are_audited(client, researcher):
    client.force_login(researcher)
    url = reverse("admin:platforms_platformaccount_add")
    form = {
        "name": "Audit lab",
        "platform": "mturk",
        "environment": "sandbox",
        "access_key_id": "AKIAAUDIT",
        "secret_access_key": "secret",
    }
    client.post(url, form)
    entry = AuditEntry.objects.get(by=researcher, action="add")
    assert entry.object_repr and entry.owner == researcher
    client.post(
        reverse("admin:platforms_platformaccount_change", args=[entry.object_id]), {**form, "name": "B"}
    )
    assert AuditEntry.objects.filter(by=researcher, action="change", object_id=entry.object_id).exists()


def test_a_researcher_sees_only_audit_entries_about_their_objects_and_the_history_page(
    client, researcher, django_user_model, account, crowd
):
    hit = answered(crowd, publish(account, "mine"), ("AW1", "cat"))
    services.outsourcer_flag(outsourcer=hit.outsourcer, problem="Look", by=researcher)
    bob = django_user_model.objects.create_user(username="bob", password="bob-password-1", is_staff=True)
    bob.groups.add(researchers_group())
    client.force_login(bob)
    assert "flag" not in client.get(reverse("admin:crowdhr_auditentry_changelist")).content.decode()
    client.force_login(researcher)
    assert "Look" in client.get(reverse("admin:hits_hit_history", args=[hit.pk])).content.decode()
