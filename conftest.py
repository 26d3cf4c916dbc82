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


@pytest.fixture
def researcher(django_user_model):
    """A researcher: staff, not a superuser, in the Researchers group."""
    from crowdhr.researchers import researchers_group

    user = django_user_model.objects.create_user(
        username="ada", password="ada-password-1", email="ada@example.org", is_staff=True
    )
    user.groups.add(researchers_group())
    return user


@pytest.fixture
def mturk(emulator_url, settings) -> str:
    """crowdhr pointed at the local Mechanical Turk served by the live test server."""
    settings.MTURK_EMULATOR_URL = emulator_url
    return emulator_url


@pytest.fixture
def account(researcher, mturk):
    """The researcher's requester account on the local Mechanical Turk."""
    from hits.models import PlatformAccount

    return PlatformAccount.objects.create(
        owner=researcher,
        name="Ada's lab",
        environment=PlatformAccount.Environment.EMULATOR,
        access_key_id="AKIAADALAB",
        secret_access_key="ada-secret",
    )


class Crowd:
    """Simulated workers on the local Mechanical Turk (its scripted worker API, for tests)."""

    def __init__(self) -> None:
        from mturk_emulator import clock, workers

        self._workers = workers
        self._clock = clock
        self.Refused = workers.WorkRefused

    def work(self, hit_id: str, worker_id: str, answers: dict[str, str]) -> str:
        return self._workers.work(hit_id, worker_id, answers)

    def accept(self, hit_id: str, worker_id: str) -> str:
        return self._workers.accept(hit_id, worker_id)

    def submit(self, assignment_id: str, answers: dict[str, str]) -> None:
        self._workers.submit(assignment_id, answers)

    def return_assignment(self, assignment_id: str) -> None:
        self._workers.return_assignment(assignment_id)

    def age_hit(self, hit_id: str, seconds: float) -> None:
        self._clock.age_hit(hit_id, seconds)

    def age_assignment(self, assignment_id: str, seconds: float) -> None:
        self._clock.age_assignment(assignment_id, seconds)


@pytest.fixture
def crowd(mturk) -> Crowd:
    return Crowd()
