"""Fixtures shared by every test: the local Mechanical Turk over real HTTP, and users."""

from __future__ import annotations

import pytest


@pytest.fixture
def emulator_url(live_server) -> str:
    """The requester API of the local Mechanical Turk served by the live test server."""
    return f"{live_server.url}/emulator/mturk/"
