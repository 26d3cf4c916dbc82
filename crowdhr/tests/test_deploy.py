"""Deploying crowdhr: app.json matches what crowdhr reads, production settings pass Django's deploy
checks, /healthz tells the truth, the first admin appears once, and log lines stay one line each."""

from __future__ import annotations

import json
import logging
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from crowdhr import env
from crowdhr.logs import StructuredFormatter
from crowdhr.tests.processes import ROOT, clean_environment, manage, procfile_commands, run

APP_JSON = json.loads((ROOT / "app.json").read_text())

# Variables crowdhr reads that a Heroku deploy must not ask for, and why.
PROVIDED_BY_ADD_ONS = {"DATABASE_URL": "heroku-postgresql", "REDIS_URL": "heroku-redis"}
NOT_FOR_HEROKU = {
    "DYNO": "set by Heroku itself",
    "CROWDHR_VAR_DIR": "local state on a laptop; a dyno's disk is temporary",
    "MTURK_EMULATOR_URL": "the emulator is refused in production",
    "PROLIFIC_EMULATOR_URL": "the local Prolific is refused in production",
    "PROLIFIC_EMULATOR_FAULTS": "the local Prolific is refused in production",
    "ALLOW_EMULATOR_IN_PRODUCTION": "a switch for tests only",
}

ENVIRONMENT_READ = re.compile(
    r"""env\.(?:text|flag|listing)\(\s*["'](\w+)["']"""
    r"""|os\.environ(?:\.get|\.setdefault)?[\[(]\s*["'](\w+)["']"""
    r"""|os\.getenv\(\s*["'](\w+)["']"""
    r"""|["'](\w+)["']\s+(?:not\s+)?in\s+os\.environ"""
)
# Test code, benchmarks and the oTree project (its own program, in its own virtualenv) are not crowdhr.
# Test plumbing (tests/ folders and conftest.py files) may read variables of its own.
NOT_CROWDHR_SOURCE = {".venv", ".otree-venv", "otree_project", "bench", "tests", "migrations"}
# Read by Django itself, not a crowdhr setting.
READ_BY_DJANGO = {"DJANGO_SETTINGS_MODULE"}


def production_environment(var_dir: Path, **variables: str) -> dict[str, str]:
    """Settings as on Heroku; local state, if any, in `var_dir`."""
    return clean_environment(
        DEBUG="0",
        CROWDHR_VAR_DIR=str(var_dir),
        SECRET_KEY=secrets.token_urlsafe(50),
        SECRETS_ENCRYPTION_KEY=secrets.token_hex(32),
        ALLOWED_HOSTS="example.org",
        MTURK_ENDPOINT="sandbox",
        **variables,
    )


# --- app.json -----------------------------------------------------------------------------------


def test_app_json_asks_for_every_variable_crowdhr_reads_and_no_other():
    declared = set(env.VARIABLES)
    asked = set(APP_JSON["env"])
    assert asked | set(PROVIDED_BY_ADD_ONS) | set(NOT_FOR_HEROKU) == declared
    assert not asked & (set(PROVIDED_BY_ADD_ONS) | set(NOT_FOR_HEROKU))
    assert all(spec.get("description") for spec in APP_JSON["env"].values())
    # Heroku's deploy form refuses to go on while a required variable has no value.
    blocking = [
        name for name, spec in APP_JSON["env"].items() if not spec.get("value") and not spec.get("generator")
    ]
    assert all(APP_JSON["env"][name].get("required") is False for name in blocking)


def test_app_json_provisions_the_add_ons_that_provide_database_and_broker():
    assert set(APP_JSON["addons"]) == set(PROVIDED_BY_ADD_ONS.values())


def test_app_json_deploys_production_settings_with_generated_secrets():
    variables = APP_JSON["env"]
    assert variables["DEBUG"]["value"] == "False"
    assert variables["MTURK_ENDPOINT"]["value"] == "sandbox"
    assert variables["SECRET_KEY"]["generator"] == "secret"
    assert variables["SECRETS_ENCRYPTION_KEY"]["generator"] == "secret"
    assert APP_JSON["buildpacks"] == [{"url": "heroku/python"}]
    assert (ROOT / ".python-version").read_text().strip() == "3.11"


def test_app_json_runs_web_worker_and_exactly_one_beat_from_the_procfile():
    formation = APP_JSON["formation"]
    assert set(formation) == {"web", "worker", "beat"}
    assert set(formation) <= set(procfile_commands())
    assert formation["beat"]["quantity"] == 1
    assert "create_first_admin" in APP_JSON["scripts"]["postdeploy"]


def test_every_environment_variable_read_in_the_code_is_declared():
    sources = [
        path
        for path in ROOT.rglob("*.py")
        if not NOT_CROWDHR_SOURCE & set(path.relative_to(ROOT).parts) and path.name != "conftest.py"
    ]
    read = {
        name
        for path in sources
        for match in ENVIRONMENT_READ.findall(path.read_text())
        for name in match
        if name
    }
    assert "SECRET_KEY" in read and "CROWDHR_VAR_DIR" in read
    assert read - READ_BY_DJANGO <= set(env.VARIABLES)


def python(script: str, *arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A Python script run in a fresh interpreter with these settings."""
    return run(shlex.join([sys.executable, "-c", script, *arguments]), environment=environment)


def test_a_heroku_generated_secret_works_as_the_encryption_key(tmp_path):
    script = (
        "import django; django.setup(); from crowdhr import secrets;"
        "print(secrets.decrypt(secrets.encrypt('mturk-secret')))"
    )
    result = python(script, environment=production_environment(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("mturk-secret")


# --- production settings ------------------------------------------------------------------------


def test_production_settings_pass_the_deploy_checks(tmp_path):
    environment = production_environment(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = manage("check", "--deploy", "--fail-level", "WARNING", environment=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_heroku_redis_over_tls_is_accepted_by_broker_and_result_backend(tmp_path):
    script = (
        "import django; django.setup(); from crowdhr.celery import app;"
        "print(type(app.backend).__name__, app.connection_for_write().transport_cls)"
    )
    environment = production_environment(tmp_path, REDIS_URL="rediss://:secret@127.0.0.1:1/0")
    result = python(script, environment=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["RedisBackend", "rediss"]


HEALTHZ = """
import django, json, sys
django.setup()
from django.test import Client
response = Client().get(sys.argv[1], HTTP_HOST="example.org")
print(json.dumps({"status": response.status_code, "location": response.get("Location"),
                  "type": response.get("Content-Type"), "body": response.content.decode()}))
"""


def get_in_subprocess(path: str, environment: dict[str, str]) -> dict[str, object]:
    result = python(HEALTHZ, path, environment=environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_healthz_answers_plain_http_behind_the_proxy_while_the_rest_redirects_to_https(tmp_path):
    environment = production_environment(tmp_path)
    healthz = get_in_subprocess("/healthz", environment)
    assert healthz["status"] == 200
    assert json.loads(healthz["body"]) == {"ok": True, "database": True, "broker": True}
    admin = get_in_subprocess("/admin/", environment)
    assert admin["status"] == 301
    assert admin["location"] == "https://example.org/admin/"


def test_healthz_answers_503_with_the_failing_check_when_the_broker_is_unreachable(tmp_path):
    environment = production_environment(tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    answer = get_in_subprocess("/healthz", environment)
    assert answer["status"] == 503
    assert answer["type"] == "application/json"
    assert json.loads(answer["body"]) == {"ok": False, "database": True, "broker": False}


# --- the first admin ----------------------------------------------------------------------------

ADMIN = {
    "ADMIN_USERNAME": "founder",
    "ADMIN_EMAIL": "founder@example.org",
    "ADMIN_PASSWORD": "pay-workers-fairly-42",
}


def first_admin(capsys) -> str:
    call_command("create_first_admin")
    return capsys.readouterr().out


@pytest.mark.django_db
def test_first_admin_is_created_from_the_environment_and_can_log_in(monkeypatch, capsys, client):
    for name, value in ADMIN.items():
        monkeypatch.setenv(name, value)
    assert "created" in first_admin(capsys)
    admin = get_user_model().objects.get(username="founder")
    assert admin.is_superuser and admin.is_staff and admin.email == "founder@example.org"
    assert client.login(username="founder", password="pay-workers-fairly-42")
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_first_admin_runs_twice_without_touching_the_existing_admin(monkeypatch, capsys):
    for name, value in ADMIN.items():
        monkeypatch.setenv(name, value)
    first_admin(capsys)
    monkeypatch.setenv("ADMIN_PASSWORD", "a-different-password-99")
    assert "already exists" in first_admin(capsys)
    assert get_user_model().objects.get(username="founder").check_password("pay-workers-fairly-42")


@pytest.mark.django_db
def test_first_admin_does_nothing_without_the_variables(monkeypatch, capsys):
    for name in ADMIN:
        monkeypatch.delenv(name, raising=False)
    assert "no admin created" in first_admin(capsys)
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_first_admin_refuses_a_weak_password(monkeypatch):
    monkeypatch.setenv("ADMIN_USERNAME", "founder")
    monkeypatch.setenv("ADMIN_PASSWORD", "password")
    with pytest.raises(CommandError, match="too weak"):
        call_command("create_first_admin")
    assert not get_user_model().objects.filter(username="founder").exists()


# --- structured logs ----------------------------------------------------------------------------


def test_a_log_line_is_one_line_with_the_extras_as_key_value():
    record = logging.makeLogRecord(
        {"name": "hits.review", "levelname": "INFO", "msg": "assignment %s approved", "args": ("A1",)}
    )
    record.hit_id = "3XYZ"
    record.feedback = 'thanks, "well done"'
    line = StructuredFormatter().format(record)
    assert "\n" not in line
    assert 'level=info logger=hits.review msg="assignment A1 approved" hit_id=3XYZ' in line
    assert line.endswith(r'feedback="thanks, \"well done\""')


STORAGE_OF_UPLOADS = (
    "from django.core.files.storage import storages; print(type(storages['default']).__name__)"
)


def test_uploaded_files_go_to_s3_when_a_bucket_is_set_and_to_disk_otherwise(tmp_path):
    on_s3 = manage(
        "shell",
        "-c",
        STORAGE_OF_UPLOADS,
        environment=production_environment(tmp_path, AWS_STORAGE_BUCKET_NAME="crowdhr-uploads"),
    )
    on_disk = manage("shell", "-c", STORAGE_OF_UPLOADS, environment=production_environment(tmp_path))
    assert on_s3.stdout.split()[-1] == "S3Storage", on_s3.stderr
    assert on_disk.stdout.split()[-1] == "FileSystemStorage", on_disk.stderr
