"""Test harnesses for the platform contract: one per registered platform, on its local twin.

A harness gives the contract tests what they need of one platform, in the platform's own terms:
clients for accounts on its local twin (the real client over HTTP), simulated workers, worker
ids the platform would issue, and a way to make the next call fail. To put a new platform under
the contract, write a `<key>_harness` fixture returning a `Harness` and add it to HARNESSES.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from mturk_emulator import faults
from mturk_emulator.testing import register_requester
from platforms import Capability, Platform, platform_type
from platforms.mturk import MTurk
from platforms.prolific import Prolific
from platforms.registry import platform_types
from prolific_emulator import accounts, participants
from prolific_emulator import faults as prolific_faults
from prolific_emulator.models import Study

#: platform key -> the fixture that builds its harness
HARNESSES = {"mturk": "mturk_harness", "prolific": "prolific_harness"}


@dataclass
class Harness:
    """One platform under contract test."""

    key: str
    platform: Platform  # a client for one account on the local twin
    another_account: Callable[[str], Platform]  # a client for a second, separate account
    crowd: Any  # .work(hit_id, worker_id, answers) -> assignment id, .accept(hit_id, worker_id), .Refused
    worker_id: Callable[[str], str]  # a worker id as the platform issues them, from a short name
    #: make the next `times` calls of a Platform method ("create_hit", "send_bonus") do their work
    #: but lose the answer; None when the twin cannot
    fail_next: Callable[[str, int], None] | None = None
    #: the answers listed for an assignment, given what the worker answered (Prolific carries
    #: none: the work stays with crowdhr, and the listing shows the completion code)
    reported_answers: Callable[[str, dict[str, str]], dict[str, str]] = lambda hit_id, answers: answers
    #: whether the platform shows the researcher's feedback back on the assignment
    echoes_feedback: bool = True
    #: whether a rejection can be overridden by approving (Prolific: a decision is final)
    overrides_rejections: bool = True
    #: whether the platform keeps the reason of a block (Prolific's groups hold ids only)
    keeps_block_reasons: bool = True

    @property
    def fees(self):
        return platform_type(self.key).fees


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(*capabilities): skip on platforms without these capabilities")


@pytest.fixture(params=[kind.key for kind in platform_types()])
def harness(request: pytest.FixtureRequest) -> Harness:
    """The harness of every registered platform in turn; a test marked `needs(...)` is skipped
    (with the reason) on a platform whose capabilities exclude it."""
    key = request.param
    if key not in HARNESSES:
        pytest.skip(f"{key} has no contract test harness yet")
    marker = request.node.get_closest_marker("needs")
    missing = [c for c in (marker.args if marker else ()) if not platform_type(key).supports(c)]
    if missing:
        pytest.skip(f"{key} does not offer {', '.join(Capability(c).value for c in missing)}")
    return request.getfixturevalue(HARNESSES[key])


@pytest.fixture
def mturk_harness(mturk, crowd) -> Harness:
    """The real boto3 client over HTTP against the local Mechanical Turk on the live server."""

    operations = {"create_hit": "CreateHIT", "send_bonus": "SendBonus"}

    def fail_next(method: str, times: int) -> None:
        faults.fail_next(operations[method], "lose_answer", times=times)

    yield Harness(
        key="mturk",
        platform=mturk_client(mturk, "AKIACONTRACT"),
        another_account=lambda key: mturk_client(mturk, f"AKIA{key.upper()}"),
        crowd=crowd,
        worker_id=lambda name: f"A{name.upper()}",
        fail_next=fail_next,
    )
    faults.clear_faults()


def mturk_client(url: str, key: str, **options: Any) -> MTurk:
    """An MTurk client for the emulator account `key` (registered with the emulator first)."""
    register_requester(key, "secret")
    return MTurk(
        environment="emulator", access_key_id=key, secret_access_key="secret", endpoint_url=url, **options
    )


# --- Prolific: crowdhr's client over HTTP against the local Prolific -----------------------------
PROLIFIC_TOKEN = "contract-prolific-token"


class ProlificCrowd:
    """Participants on the local Prolific (its scripted participant API)."""

    def __init__(self) -> None:
        self._participants = participants
        self.Refused = participants.Refused

    def accept(self, hit_id: str, worker_id: str) -> str:
        return self._participants.take_part(hit_id, worker_id).id

    def work(self, hit_id: str, worker_id: str, answers: dict[str, str]) -> str:
        """Take part and arrive at the completion URL with the study's COMPLETED code."""
        submission = self._participants.take_part(hit_id, worker_id)
        return self._participants.complete(submission, completion_code(hit_id)).id


def completion_code(study_id: str) -> str:
    codes = Study.objects.get(pk=study_id).completion_codes
    return next(code["code"] for code in codes if code["code_type"] == "COMPLETED")


def prolific_worker_id(name: str) -> str:
    """A participant id as Prolific issues them (24 hex digits), the same for the same name."""
    return hashlib.sha256(name.encode()).hexdigest()[:24]


@pytest.fixture
def prolific_url(live_server, settings) -> str:
    """The local Prolific's API on the live test server; crowdhr's settings point at it."""
    url = f"{live_server.url}/emulator/prolific/api/v1/"
    settings.PROLIFIC_EMULATOR_URL = url
    return url


def prolific_client(url: str, token: str, **options: Any) -> Prolific:
    """A Prolific client for the twin's workspace `token` (made first, with $1000)."""
    accounts.ensure_workspace(token)
    completion = url.removesuffix("api/v1/") + "submissions/complete"
    return Prolific(environment="emulator", token=token, base_url=url, completion_base=completion, **options)


@pytest.fixture
def prolific_harness(prolific_url) -> Harness:
    """crowdhr's Prolific client over real HTTP against the local Prolific on the live server."""
    operations = {"create_hit": "studies.create", "pay_bonus_setup": "bonuses.pay"}

    def fail_next(method: str, times: int) -> None:
        prolific_faults.fail_next(operations[method], "lose_answer", times=times)

    yield Harness(
        key="prolific",
        platform=prolific_client(prolific_url, PROLIFIC_TOKEN),
        another_account=lambda key: prolific_client(prolific_url, f"contract-{key}"),
        crowd=ProlificCrowd(),
        worker_id=prolific_worker_id,
        fail_next=fail_next,
        reported_answers=lambda hit_id, answers: {"completion_code": completion_code(hit_id)},
        echoes_feedback=False,
        overrides_rejections=False,
        keeps_block_reasons=False,
    )
    prolific_faults.clear_faults()
