"""Starting the shipped oTree project: for tests, for the demo, and when it cannot start."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from experiments.otree_env import ensure_otree_env
from experiments.otree_server import OtreeServerError, otree_environment, start_otree_server

pytestmark = pytest.mark.otree


def test_a_second_environment_setup_reuses_the_installed_otree(otree_server):
    said: list[str] = []

    ensure_otree_env(say=said.append)

    assert said == [said[0]]
    assert "is ready" in said[0]


def test_otree_keeps_its_own_database_whatever_crowdhr_uses(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crowdhr")

    env = otree_environment("key", "")

    assert env["DATABASE_URL"] == "sqlite:///db.sqlite3"
    assert env["OTREE_REST_KEY"] == "key"


def test_a_server_that_cannot_start_says_why(otree_server, tmp_path):
    busy_port = int(otree_server.url.rsplit(":", 1)[1])

    with pytest.raises(OtreeServerError) as error:
        start_otree_server(tmp_path / "project", rest_key="key", port=busy_port, log_path=tmp_path / "log")

    assert "address already in use" in str(error.value).lower()


def test_the_demo_otree_server_refuses_to_run_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("run_otree")
