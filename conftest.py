"""Fixtures shared by every test: the local Mechanical Turk over real HTTP, and users."""

from __future__ import annotations

import pytest

from experiments.testing import otree_server_fixture


@pytest.fixture
def emulator_url(live_server) -> str:
    """The requester API of the local Mechanical Turk served by the live test server."""
    return f"{live_server.url}/emulator/mturk/"


@pytest.fixture(scope="session")
def otree_server():
    """A real oTree server running the shipped project (`.url`, `.rest_key`), one per test session."""
    yield from otree_server_fixture()
