"""A task goes through a real broker to a real Celery worker and its result comes back.

With REDIS_URL set, the broker is that Redis (as on Heroku). Without it, the embedded filesystem
broker that `make demo` uses must work with no server at all.
"""

from __future__ import annotations

import os
import shlex
import sys
import uuid
from pathlib import Path

import pytest

from crowdhr.tests.processes import clean_environment, procfile_commands, run, start

SEND_HEARTBEAT = """
import sys, django
django.setup()
from crowdhr.tasks import heartbeat
queue = sys.argv[1] or None
result = heartbeat.apply_async(queue=queue)
print(result.id, result.get(timeout=60))
"""


def send_heartbeat(environment: dict[str, str], queue: str = "") -> tuple[str, str]:
    """Send the heartbeat task from a fresh interpreter; its id and the answer it got back."""
    result = run(
        shlex.join([sys.executable, "-c", SEND_HEARTBEAT, queue]), environment=environment, timeout=90
    )
    assert result.returncode == 0, result.stdout + result.stderr
    task_id, answer = result.stdout.split()[-2:]
    return task_id, answer


@pytest.mark.redis
def test_a_task_round_trips_through_redis_and_a_real_worker(tmp_path: Path):
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        pytest.skip("REDIS_URL is not set: no Redis broker to test against (CI sets it, see .ci/run)")
    passed_through = {"REDIS_URL": redis_url}
    if os.environ.get("DATABASE_URL"):
        passed_through["DATABASE_URL"] = os.environ["DATABASE_URL"]
    environment = clean_environment(DEBUG="1", CROWDHR_VAR_DIR=str(tmp_path), **passed_through)
    # A queue of its own, so no other worker on this Redis can take the task.
    queue = f"crowdhr-test-{uuid.uuid4().hex}"
    worker = start(
        "worker",
        f"{sys.executable} -m celery -A crowdhr worker --pool solo --loglevel INFO --without-gossip "
        f"--without-mingle --without-heartbeat -Q {queue} -n {queue}@%h",
        environment=environment,
        log_dir=tmp_path,
    )
    try:
        task_id, answer = send_heartbeat(environment, queue)
    finally:
        exit_code = worker.stop(timeout=30)
    assert answer == "alive"
    assert f"Task crowdhr.tasks.heartbeat[{task_id}] succeeded" in worker.output()
    assert exit_code == 0, worker.output()[-3000:]


def test_the_demo_worker_round_trips_a_task_without_any_server(tmp_path: Path):
    environment = clean_environment(DEBUG="1", CROWDHR_VAR_DIR=str(tmp_path))
    worker = start(
        "worker", procfile_commands("Procfile.demo")["worker"], environment=environment, log_dir=tmp_path
    )
    try:
        task_id, answer = send_heartbeat(environment)
    finally:
        exit_code = worker.stop(timeout=30)
    assert answer == "alive"
    assert f"Task crowdhr.tasks.heartbeat[{task_id}] succeeded" in worker.output()
    assert exit_code == 0, worker.output()[-3000:]
