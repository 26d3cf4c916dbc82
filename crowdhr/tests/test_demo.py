"""`make demo` needs no services: migrate and demo_setup work on a fresh folder, and the printed login works."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from crowdhr.tests.processes import clean_environment, manage, run

PRINTED_LOGIN = re.compile(r"login (\S+) / (\S+)")

LOG_IN = """
import sys, django
django.setup()
from django.test import Client
client = Client()
page = client.post("/admin/login/?next=/admin/", {"username": sys.argv[1], "password": sys.argv[2]})
print(page.status_code, page.get("Location"), client.get("/admin/").status_code)
"""


def printed_login(output: str) -> tuple[str, str]:
    match = PRINTED_LOGIN.search(output)
    assert match, output
    return match.group(1), match.group(2)


def test_demo_setup_on_a_fresh_folder_prints_a_login_that_works_and_can_run_again(tmp_path: Path):
    # Only what `make demo` sets: no DATABASE_URL, no REDIS_URL, nothing running.
    environment = clean_environment(DEBUG="1", CROWDHR_VAR_DIR=str(tmp_path))
    migrated = manage("migrate", "--noinput", environment=environment)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    first = manage("demo_setup", environment=environment)
    again = manage("demo_setup", environment=environment)
    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert printed_login(first.stdout) == printed_login(again.stdout)
    assert (tmp_path / "crowdhr.sqlite3").exists()

    username, password = printed_login(first.stdout)
    logged_in = run(shlex.join([sys.executable, "-c", LOG_IN, username, password]), environment=environment)
    assert logged_in.returncode == 0, logged_in.stderr
    assert logged_in.stdout.split()[-3:] == ["302", "/admin/", "200"]


@pytest.mark.django_db
def test_the_printed_demo_login_opens_the_admin(client, capsys):
    call_command("demo_setup")
    username, password = printed_login(capsys.readouterr().out)
    assert client.login(username=username, password=password)
    assert client.get("/admin/").status_code == 200
