"""The Procfile's processes, started as Heroku starts them, work together against PostgreSQL and Redis.

`production_processes` builds a fresh database, runs the build and release steps, starts web, worker
and beat with production settings (DEBUG off; the local Mechanical Turk allowed for tests only), and
waits until /healthz answers. Other end-to-end tests can reuse it for a whole publish/review round.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import psycopg2
import pytest
import redis
import requests
from psycopg2 import sql

from crowdhr.tests.processes import (
    RunningProcess,
    clean_environment,
    free_port,
    manage,
    procfile_commands,
    run,
    start,
    wait_until,
)

DATABASE_NAME = "crowdhr_processes"
HOST = "crowdhr.test"
# A Redis database of its own, so workers of other test runs on the same server cannot take our tasks.
REDIS_DATABASE = 13
STARTUP_SECONDS = 45
HEARTBEAT_SUCCEEDED = re.compile(r"Task crowdhr\.tasks\.heartbeat\[[\w-]+\] succeeded in [\d.]+s: 'alive'")
SHUTDOWN_SECONDS = 30

# Beat with the database scheduler waits a whole interval before a new task's first run; an
# installation that has been up for a while has the heartbeat overdue, so beat sends it at once.
HEARTBEAT_OVERDUE = """
from datetime import timedelta
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
PeriodicTask.objects.update_or_create(
    name="heartbeat",
    defaults={"task": "crowdhr.tasks.heartbeat", "interval": every_minute,
              "last_run_at": timezone.now() - timedelta(hours=1)},
)
"""


@dataclass
class ProductionProcesses:
    """web, worker and beat from the Procfile, running; `get` talks to web as Heroku's router does."""

    base_url: str
    environment: dict[str, str]
    processes: dict[str, RunningProcess] = field(default_factory=dict)

    def get(self, path: str, headers: dict[str, str] | None = None) -> requests.Response:
        headers = {"Host": HOST, "X-Forwarded-Proto": "https", **(headers or {})}
        return requests.get(self.base_url + path, headers=headers, timeout=10, allow_redirects=False)

    def output(self, name: str) -> str:
        return self.processes[name].output()

    def stop(self) -> dict[str, int | None]:
        """SIGTERM to every process, as on a dyno restart: each one's exit code, None if it had to be killed."""
        return {name: process.stop(timeout=SHUTDOWN_SECONDS) for name, process in self.processes.items()}


def postgres_and_redis_urls() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL is not PostgreSQL: the production processes are tested against PostgreSQL")
    if not redis_url.startswith(("redis://", "rediss://")):
        pytest.skip("REDIS_URL is not Redis: the production processes are tested against Redis")
    return database_url, redis_url


def with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


def recreate_database(database_url: str, *, drop_only: bool = False) -> None:
    """Drop the processes' database (and create it afresh unless `drop_only`)."""
    server = dj_database_url.parse(database_url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=server["USER"] or None,
        password=server["PASSWORD"] or None,
        host=server["HOST"] or None,
        port=server["PORT"] or None,
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            name = sql.Identifier(DATABASE_NAME)
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            if not drop_only:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))
    finally:
        connection.close()


def build_and_release(environment: dict[str, str]) -> None:
    """What Heroku does before starting dynos: collectstatic at build, the Procfile's release command."""
    built = manage("collectstatic", "--noinput", environment=environment)
    assert built.returncode == 0, built.stdout + built.stderr
    released = run(procfile_commands()["release"], environment=environment)
    assert released.returncode == 0, released.stdout + released.stderr
    overdue = manage("shell", "-c", HEARTBEAT_OVERDUE, environment=environment)
    assert overdue.returncode == 0, overdue.stdout + overdue.stderr


@pytest.fixture
def production_processes(tmp_path: Path) -> Iterator[ProductionProcesses]:
    """web, worker and beat running with production settings on a fresh PostgreSQL database."""
    database_url, redis_url = postgres_and_redis_urls()
    port = free_port()
    environment = clean_environment(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        SECRETS_ENCRYPTION_KEY=secrets.token_hex(32),
        ALLOWED_HOSTS=f"{HOST},127.0.0.1",  # 127.0.0.1: boto3 calling the local MTurk on web
        DATABASE_URL=with_path(database_url, f"/{DATABASE_NAME}"),
        REDIS_URL=with_path(redis_url, f"/{REDIS_DATABASE}"),
        MTURK_ENDPOINT="emulator",
        ALLOW_EMULATOR_IN_PRODUCTION="1",
        MTURK_EMULATOR_URL=f"http://127.0.0.1:{port}/emulator/mturk/",
        SITE_URL=f"http://127.0.0.1:{port}",
        CROWDHR_VAR_DIR=str(tmp_path / "var"),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        WORKER_CONCURRENCY="1",
    )
    recreate_database(database_url)
    # Messages left by an earlier run would let the worker log a heartbeat beat never sent.
    redis.Redis.from_url(environment["REDIS_URL"]).flushdb()
    running = ProductionProcesses(base_url=f"http://127.0.0.1:{port}", environment=environment)
    try:
        build_and_release(environment)
        commands = procfile_commands()
        for name in ("web", "worker", "beat"):
            running.processes[name] = start(name, commands[name], environment=environment, log_dir=tmp_path)
        wait_until(
            lambda: healthy(running),
            what="/healthz to answer 200",
            timeout=STARTUP_SECONDS,
            watching=running.processes.values(),
        )
        yield running
    finally:
        running.stop()
        recreate_database(database_url, drop_only=True)


def healthy(running: ProductionProcesses) -> bool:
    try:
        return running.get("/healthz").status_code == 200
    except requests.ConnectionError:
        return False


def test_web_worker_and_beat_run_the_heartbeat_and_stop_cleanly(production_processes: ProductionProcesses):
    assert production_processes.get("/healthz").json() == {"ok": True, "database": True, "broker": True}
    assert production_processes.get("/admin/login/").status_code == 200
    assert production_processes.get("/admin/login/", headers={"X-Forwarded-Proto": "http"}).status_code == 301

    wait_until(
        lambda: HEARTBEAT_SUCCEEDED.search(production_processes.output("worker")) is not None,
        what="the worker to run the heartbeat that beat sent",
        timeout=STARTUP_SECONDS,
        watching=production_processes.processes.values(),
    )
    assert "Sending due task heartbeat (crowdhr.tasks.heartbeat)" in production_processes.output("beat")

    exit_codes = production_processes.stop()
    assert exit_codes == {"web": 0, "worker": 0, "beat": 0}, {
        name: production_processes.output(name)[-2000:] for name in exit_codes
    }
