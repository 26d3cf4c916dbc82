"""A second platform, registered by key, offers in the admin only what it can do.

`Notebook` is a test double of the Platform interface kept in memory (no HTTP, no boto3): it
posts work, lets workers do it, decides it and pays bonuses, but has no qualifications, hard
blocks, messages, reopening or resuming. Registered for one test at a time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from hits import services
from hits.models import HIT
from hits.review.sync import fetch_assignments
from platforms import (
    Capability,
    FeeRules,
    Platform,
    PlatformAssignment,
    PlatformError,
    PlatformHit,
    PlatformType,
    WorkSpec,
    platform_for,
    registered,
    supports,
)
from platforms.base import BonusPayment
from platforms.models import PlatformAccount
from platforms.registry import Environment, platform_choices
from workers.models import Worker

pytestmark = pytest.mark.django_db


class Notebook(Platform):
    """A crowd platform in memory, with few capabilities."""

    name = "notebook"
    capabilities = frozenset({Capability.BONUSES, Capability.HTML_FORMS})

    def __init__(self) -> None:
        self.hits: dict[str, PlatformHit] = {}
        self.tokens: dict[str, str] = {}
        self.assignments: dict[str, PlatformAssignment] = {}
        self.bonuses: dict[str, BonusPayment] = {}
        self.ids = itertools.count(1)

    def create_hit(self, spec: WorkSpec, *, unique_request_token: str) -> PlatformHit:
        if unique_request_token not in self.tokens:
            hit_id, now = f"NB{next(self.ids)}", datetime.now(UTC)
            self.hits[hit_id] = PlatformHit(
                hit_id, "", "Assignable", spec.title, spec.reward, spec.places, spec.places, 0, 0, now,
                now + timedelta(seconds=spec.lifetime_seconds),
            )  # fmt: skip
            self.tokens[unique_request_token] = hit_id
        return self.hits[self.tokens[unique_request_token]]

    def work(self, hit_id: str, worker_id: str, answers: dict[str, str]) -> str:
        assignment_id = f"NBA{next(self.ids)}"
        now = datetime.now(UTC)
        self.assignments[assignment_id] = PlatformAssignment(
            assignment_id, worker_id, hit_id, "Submitted", now, now, answers=answers
        )
        return assignment_id

    def get_hit(self, hit_id: str) -> PlatformHit:
        if hit_id not in self.hits:
            raise PlatformError(f"No such work {hit_id}")
        return self.hits[hit_id]

    def list_hits(self) -> list[PlatformHit]:
        return list(self.hits.values())

    def expire_hit(self, hit_id: str) -> None:
        self.hits[hit_id] = replace(self.hits[hit_id], expiration=datetime.now(UTC))

    def delete_hit(self, hit_id: str) -> None:
        self.hits[hit_id] = replace(self.hits[hit_id], status="Disposed")

    def list_assignments(
        self, hit_id: str, statuses: Sequence[str] = ("Submitted", "Approved", "Rejected")
    ) -> list[PlatformAssignment]:
        return [a for a in self.assignments.values() if a.hit_id == hit_id and a.status in statuses]

    def get_assignment(self, assignment_id: str) -> PlatformAssignment:
        return self.assignments[assignment_id]

    def approve_assignment(
        self, assignment_id: str, *, feedback: str = "", override_rejection: bool = False
    ) -> None:
        self._decide(assignment_id, "Approved", feedback)

    def reject_assignment(self, assignment_id: str, *, feedback: str) -> None:
        self._decide(assignment_id, "Rejected", feedback)

    def _decide(self, assignment_id: str, status: str, feedback: str) -> None:
        assignment = self.assignments[assignment_id]
        self.assignments[assignment_id] = replace(assignment, status=status, requester_feedback=feedback)

    def send_bonus(
        self, *, worker_id: str, assignment_id: str, amount: Decimal, reason: str, unique_request_token: str
    ) -> None:
        payment = BonusPayment(worker_id, assignment_id, amount, reason, datetime.now(UTC))
        self.bonuses.setdefault(unique_request_token, payment)

    def list_bonus_payments(self, *, hit_id: str = "", assignment_id: str = "") -> list[BonusPayment]:
        return [b for b in self.bonuses.values() if not assignment_id or b.assignment_id == assignment_id]

    def account_balance(self) -> Decimal:
        return Decimal("100.00")


def notebook_type(client: Notebook, key: str = "notebook") -> PlatformType:
    """The Notebook as a platform type: one client for every account, one practice environment."""
    return PlatformType(
        key=key,
        label="Notebook",
        client_class=Notebook,
        connect=lambda account: client,
        environments=(Environment("sandbox", "Notebook practice pages"),),
        fees=FeeRules(rate=Decimal("0.10"), bonus_rate=Decimal("0.10")),
    )


@pytest.fixture
def notebook() -> Iterator[Notebook]:
    """The Notebook platform registered as "notebook" for the length of one test."""
    client = Notebook()
    with registered(notebook_type(client)):
        yield client


@pytest.fixture
def notebook_account(researcher, notebook) -> PlatformAccount:
    return PlatformAccount.objects.create(
        owner=researcher, name="Notebook lab", platform="notebook", environment="sandbox"
    )


@pytest.fixture
def ada(client, researcher):
    client.force_login(researcher)
    return client


def post_work(account: PlatformAccount) -> HIT:
    outsourcer = services.outsourcer_create(
        owner=account.owner,
        account=account,
        task_type="categorical",
        target="item-1",
        inputs={"text": "A cat on a mat"},
        task_config={"question": "Which animal?", "choices": ["cat", "dog"]},
        settings=services.HitSettings(
            title="Name the animal",
            description="Choose the animal.",
            reward=Decimal("0.10"),
            assignments_required=12,
            agreements_required=2,
            quality_threshold=None,  # the Notebook keeps no qualifications
        ),
    )
    return outsourcer.hits.get()


def test_a_registered_platform_is_a_choice_for_new_accounts_until_it_is_unregistered(ada, notebook):
    assert ("notebook", "Notebook") in platform_choices()
    page = ada.get(reverse("admin:platforms_platformaccount_add")).content.decode()
    assert "Notebook practice pages" in page and "MTurk sandbox (no money moves)" in page

    account = PlatformAccount(owner_id=1, name="x", platform="notebook", environment="emulator")
    with pytest.raises(ValidationError, match="Notebook has no 'emulator' environment"):
        account.clean()
    account.environment = "sandbox"
    account.clean()
    assert account.get_environment_display() == "Notebook practice pages"


def test_registration_is_undone_after_the_block():
    with registered(notebook_type(Notebook(), key="brief")):
        assert "brief" in dict(platform_choices())
    assert "brief" not in dict(platform_choices())


def test_the_account_names_its_platform_and_work_is_posted_in_one_piece_without_micro_batches(
    notebook, notebook_account
):
    assert platform_for(notebook_account) is notebook
    hit = post_work(notebook_account)
    assert hit.max_assignments == 12  # no micro-batches on the Notebook
    assert notebook.get_hit(hit.hit_id).max_assignments == 12
    assert supports(notebook_account, Capability.BONUSES)
    assert not supports(notebook_account, Capability.HARD_BLOCKS)


def test_what_the_platform_cannot_do_is_refused_with_a_permanent_error(notebook):
    for call in (
        lambda: notebook.block_worker("NB1", reason="x"),
        lambda: notebook.notify_workers(["NB1"], subject="s", message="m"),
        lambda: notebook.add_assignments("NB1", 1, unique_request_token="t"),
        lambda: notebook.ensure_qualification_type(name="q", description="d"),
    ):
        with pytest.raises(PlatformError, match="cannot do this") as refused:
            call()
        assert refused.value.permanent


def test_the_admin_offers_only_the_platforms_capabilities_for_its_workers_and_hits(
    ada, notebook, notebook_account
):
    hit = post_work(notebook_account)
    notebook.work(hit.hit_id, "NBWORKER1", {"answer": "cat"})
    fetch_assignments(hit)
    worker = Worker.objects.get(platform="notebook", worker_id="NBWORKER1")

    workers = ada.get(reverse("admin:workers_worker_changelist")).content.decode()
    assert "send_bonus" in workers
    for refused in ("hard_block_workers", "unblock_workers", "send_message", "ban_workers"):
        assert f'value="{refused}"' not in workers
    page = ada.get(reverse("admin:workers_worker_change", args=[worker.pk])).content.decode()
    assert "Send bonus" in page
    for label in ("Hard block", "Send message", ">Ban<"):
        assert label not in page
    hard_block = reverse("admin:workers_worker_button", args=[worker.pk, "hard_block"])
    assert ada.post(hard_block).status_code == 403

    hits = ada.get(reverse("admin:hits_hit_changelist")).content.decode()
    assert 'value="expire_hits"' in hits
    assert 'value="reopen_hits"' not in hits and 'value="unexpire_hits"' not in hits
    page = ada.get(reverse("admin:hits_hit_change", args=[hit.pk])).content.decode()
    assert "Expire" in page and "Reopen" not in page and "Unexpire" not in page
    assert ada.post(reverse("admin:hits_hit_button", args=[hit.pk, "reopen_button"])).status_code == 403
