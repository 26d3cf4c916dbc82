"""Test harnesses for the platform contract: one per registered platform, on its local twin.

A harness gives the contract tests what they need of one platform, in the platform's own terms:
clients for accounts on its local twin (the real client over HTTP), simulated workers, worker
ids the platform would issue, and a way to make the next call fail. To put a new platform under
the contract, write a `<key>_harness` fixture returning a `Harness` and add it to HARNESSES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from mturk_emulator import faults
from mturk_emulator.testing import register_requester
from platforms import Capability, Platform, platform_type
from platforms.mturk import MTurk
from platforms.registry import platform_types

#: platform key -> the fixture that builds its harness
HARNESSES = {"mturk": "mturk_harness"}


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
