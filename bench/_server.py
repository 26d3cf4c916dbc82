"""Helpers for benchmarks: a scratch crowdhr (database, var folder) served by gunicorn."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def scratch_environment(name: str) -> Iterator[dict[str, str]]:
    """Point this process (and children) at a fresh database and var folder for one benchmark."""
    var_dir = tempfile.mkdtemp(prefix=f"crowdhr-{name}-")
    env = {
        "DJANGO_SETTINGS_MODULE": "crowdhr.settings",
        "DEBUG": "1",
        "CROWDHR_VAR_DIR": var_dir,
        "MTURK_ENDPOINT": "emulator",
        "LOG_LEVEL": "WARNING",
    }
    database_url = os.environ.get("DATABASE_URL", "")
    scratch_db = ""
    if database_url.startswith("postgres"):
        import psycopg2

        base, _, _ = database_url.rpartition("/")
        scratch_db = f"crowdhr_bench_{name}"
        with contextlib.closing(psycopg2.connect(f"{base}/postgres")) as conn:
            conn.autocommit = True
            conn.cursor().execute(f'DROP DATABASE IF EXISTS "{scratch_db}"')
            conn.cursor().execute(f'CREATE DATABASE "{scratch_db}"')
        env["DATABASE_URL"] = f"{base}/{scratch_db}"
    os.environ.update(env)
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True, env=os.environ)
    try:
        yield env
    finally:
        if scratch_db:
            import psycopg2

            with contextlib.closing(psycopg2.connect(f"{base}/postgres")) as conn:
                conn.autocommit = True
                conn.cursor().execute(f'DROP DATABASE IF EXISTS "{scratch_db}" WITH (FORCE)')


@contextlib.contextmanager
def gunicorn(
    port: int, workers: int = 2, threads: int = 4, env: dict[str, str] | None = None
) -> Iterator[str]:
    """crowdhr (with its local MTurk) served by gunicorn on 127.0.0.1:port; `env` adds to or
    overrides this process's environment."""
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "crowdhr.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ | (env or {}),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/emulator/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not come up") from None
                time.sleep(0.3)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
