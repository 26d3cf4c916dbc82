"""Running crowdhr's own processes (Procfile lines, Celery workers) from tests, with bounded waits.

Each process runs in a session of its own with its output in a file, so a test can read what it
logged, stop it with SIGTERM like Heroku does, and never leave a stray child behind.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from crowdhr import env as crowdhr_env

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def procfile_commands(name: str = "Procfile") -> dict[str, str]:
    """The process types of a Procfile and their command lines."""
    commands: dict[str, str] = {}
    for line in (ROOT / name).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            process, command = line.split(":", 1)
            commands[process.strip()] = command.strip()
    return commands


def clean_environment(**variables: str) -> dict[str, str]:
    """This machine's environment without any crowdhr variable, plus the given ones."""
    # Browser tests relax Django's async safety for Playwright in their own process only.
    left_out = {*crowdhr_env.VARIABLES, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {key: value for key, value in os.environ.items() if key not in left_out}
    environment["PATH"] = f"{VENV_BIN}{os.pathsep}{environment.get('PATH', '')}"
    environment["PYTHONUNBUFFERED"] = "1"
    environment["DJANGO_SETTINGS_MODULE"] = "crowdhr.settings"
    environment.update(variables)
    return environment


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningProcess:
    """One started process: its name, handle and the file its output goes to."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; the exit code of a clean stop, None if it was killed."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        self._kill_leftovers()
        return code

    def _kill_leftovers(self) -> None:
        # The process leads its own session; whatever it forked and left behind goes with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        if self.popen.poll() is None:
            self.popen.wait(timeout=10)


def start(name: str, command: str, *, environment: dict[str, str], log_dir: Path) -> RunningProcess:
    """Start a shell command line (Procfile syntax, so ${PORT:-8000} expands) from the repository root."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as output:
        popen = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return RunningProcess(name=name, popen=popen, log=log)


def run(
    command: str, *, environment: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a one-off command line (a release command, a management command) to completion."""
    return subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout
    )


def manage(
    *arguments: str, environment: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python manage.py <arguments>` in a fresh interpreter."""
    command = shlex.join([sys.executable, "manage.py", *arguments])
    return run(command, environment=environment, timeout=timeout)


def wait_until(
    condition: Callable[[], bool], *, what: str, timeout: float, watching: Iterable[RunningProcess] = ()
) -> None:
    """Poll `condition` until it holds; fail early with the output of any watched process that died."""
    watched = list(watching)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        for process in watched:
            if process.popen.poll() is not None:
                raise AssertionError(
                    f"{process.name} exited while waiting for {what}:\n{process.output()[-4000:]}"
                )
        time.sleep(0.25)
    logs = "\n".join(f"--- {process.name}\n{process.output()[-3000:]}" for process in watched)
    raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what}\n{logs}")
