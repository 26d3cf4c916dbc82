"""Real processes killed with SIGKILL in the middle of crowdhr's own work, for the crash-proof money tests.

`claim_holder` starts `manage.py shell -c <code>` against the test database and the local MTurk of
the test's live server; the code takes a claim through crowdhr's own code (a review cycle, a ledger
row's settle, a follow-up) and blocks in it (the local MTurk delays the platform call, or the code
waits). `kill` sends SIGKILL and waits until PostgreSQL has closed every connection the process had:
from then on its session advisory locks are gone, which is the moment a takeover may happen.
"""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from crowdhr.tests.processes import RunningProcess, clean_environment, start, wait_until


def require_postgresql() -> None:
    """Skip, saying why, unless the tests run on PostgreSQL (where claims die with their process)."""
    if connection.vendor != "postgresql":
        reason = (
            "DATABASE_URL is not PostgreSQL: a SIGKILLed process's claims are freed by PostgreSQL closing "
            "its connection (session advisory locks); on SQLite they wait for their time leases, which "
            "hits/tests/test_crash_recovery.py covers"
        )
        pytest.skip(reason)


def database_url() -> str:
    """The test database (pytest-django's, not the one DATABASE_URL names) as a URL for a child."""
    db = connection.settings_dict
    user = db["USER"] or ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    at = f"{user}{password}@" if user else ""
    return f"postgres://{at}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_environment(log_dir: Path, **extra: str) -> dict[str, str]:
    """crowdhr's settings for a child process: the test database, the test's keys, its local MTurk."""
    return clean_environment(
        DEBUG="1",
        SECRET_KEY=settings.SECRET_KEY,
        SECRETS_ENCRYPTION_KEY=settings.SECRETS_ENCRYPTION_KEY,
        DATABASE_URL=database_url(),
        MTURK_ENDPOINT="emulator",
        MTURK_EMULATOR_URL=settings.MTURK_EMULATOR_URL,
        SITE_URL=settings.SITE_URL,
        CROWDHR_VAR_DIR=str(log_dir / "var"),
        LOG_LEVEL="WARNING",
        **extra,
    )


class ClaimHolder:
    """A started process whose database connections carry one application_name, so a test can
    tell when PostgreSQL has let go of all of them."""

    def __init__(self, process: RunningProcess, application_name: str) -> None:
        self.process = process
        self.application_name = application_name

    def connections(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [self.application_name]
            )
            return int(cursor.fetchone()[0])

    def wait_for(self, condition, *, what: str, timeout: float = 60) -> None:
        wait_until(condition, what=what, timeout=timeout, watching=[self.process])

    def kill(self) -> float:
        """SIGKILL; returns once the process is gone and PostgreSQL holds none of its connections.
        The seconds from the signal to that moment."""
        killed_at = time.monotonic()
        os.killpg(self.process.popen.pid, signal.SIGKILL)
        self.process.popen.wait(timeout=30)
        wait_until(
            lambda: self.connections() == 0,
            what="PostgreSQL to close the killed process's connections",
            timeout=30,
        )
        return time.monotonic() - killed_at

    def stop(self) -> None:
        self.process.stop(timeout=1)


def claim_holder(code: str, *, log_dir: Path, name: str = "holder") -> ClaimHolder:
    """Start `manage.py shell -c code` as a process of its own against the test database."""
    application_name = f"crowdhr-killed-{secrets.token_hex(4)}"
    environment = child_environment(log_dir, PGAPPNAME=application_name)
    command = shlex.join([sys.executable, "manage.py", "shell", "-c", code])
    return ClaimHolder(start(name, command, environment=environment, log_dir=log_dir), application_name)


class PlatformCalls:
    """Watches the local MTurk (served by this test process's live server) from the inside: when the
    first call of an operation has reached it, and when the thread serving that call is done, having
    answered a caller that may be dead by then."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from mturk_emulator import faults

        self.first: dict[str, threading.Thread] = {}
        real_draw = faults.draw

        def draw(operation: str) -> str | None:
            self.first.setdefault(operation, threading.current_thread())
            return real_draw(operation)  # the injected latency is slept in here

        monkeypatch.setattr(faults, "draw", draw)

    def wait_entered(self, operation: str, holder: ClaimHolder, timeout: float = 60) -> None:
        """Until the first call of `operation` is inside the local MTurk."""
        holder.wait_for(
            lambda: operation in self.first, what=f"the process to be inside {operation}", timeout=timeout
        )

    def wait_answered(self, operation: str, timeout: float = 60) -> None:
        """Until the local MTurk has finished the first call of `operation` (answered, to nobody if its
        caller was killed), so its own records are final."""
        self.first[operation].join(timeout)
        assert not self.first[operation].is_alive(), f"the first {operation} was not answered in {timeout}s"
