"""Production settings refuse unsafe configurations; development settings need nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "MTURK_ENDPOINT", "DYNO"}}
    env.update(environment)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "crowdhr.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_development_defaults_need_no_environment():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_production_refuses_to_start_without_secret_key():
    result = load_settings(DEBUG="0", MTURK_ENDPOINT="sandbox", SECRETS_ENCRYPTION_KEY="x" * 44)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("endpoint", ["emulator"])
def test_production_refuses_the_emulator(endpoint):
    result = load_settings(
        DEBUG="0", SECRET_KEY="s" * 50, MTURK_ENDPOINT=endpoint, SECRETS_ENCRYPTION_KEY="x" * 44
    )
    assert result.returncode != 0
    assert "production (DEBUG off) must use 'sandbox' or 'live'" in result.stderr


def test_heroku_dyno_defaults_to_production():
    result = load_settings(
        DYNO="web.1", SECRET_KEY="s" * 50, MTURK_ENDPOINT="sandbox", SECRETS_ENCRYPTION_KEY="x" * 44
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_healthz_answers_when_database_and_broker_answer(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": True, "broker": True}
