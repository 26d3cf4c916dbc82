"""Run the oTree project shipped in `otree_project/` as a local server, for tests and the demo.

The server runs from `.otree-venv` (see `experiments/otree_env.py`) as a separate process; crowdhr
only talks to it over HTTP. It never sees crowdhr's own environment variables that would confuse
it (crowdhr's `DATABASE_URL` above all): oTree keeps its data in a SQLite file in its work folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from experiments.otree import OtreeClient, OtreeError
from experiments.otree_env import OTREE_PROJECT, OTREE_VENV, is_ready, otree_executable

DEMO_OTREE_PORT = 8001
DEMO_OTREE_REST_KEY = "crowdhr-demo-otree-rest-key"
DEMO_OTREE_ADMIN_PASSWORD = "crowdhr-demo"
STARTUP_SECONDS = 60
# crowdhr's own variables that oTree would also read, with another meaning.
CROWDHR_ONLY_VARIABLES = ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PORT", "VIRTUAL_ENV", "SECRET_KEY")


class OtreeServerError(RuntimeError):
    """The oTree server could not be started."""


@dataclass
class OtreeServer:
    """A running `otree prodserver` on 127.0.0.1; `url` has no trailing slash."""

    url: str
    rest_key: str
    work_dir: Path
    process: subprocess.Popen = field(repr=False)
    log_path: Path | None = None

    def output(self) -> str:
        """What the server printed so far (empty when it prints to the terminal)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10) -> None:
        """Stop the server and its timeout worker (they share one process group).

        The group is signalled even when the server itself has exited already: its timeout
        worker may still be running.
        """
        _signal_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(self.process, signal.SIGKILL)
            self.process.wait(timeout)


def start_otree_server(
    work_dir: Path,
    *,
    rest_key: str,
    port: int | None = None,
    admin_password: str = "",
    log_path: Path | None = None,
    wait_seconds: float = STARTUP_SECONDS,
) -> OtreeServer:
    """Copy the shipped oTree project into `work_dir` and serve it until the REST API answers.

    Output goes to `log_path`, or to this terminal when it is None. `port=None` picks a free port.
    """
    if not is_ready():
        raise OtreeServerError(
            f"oTree is not installed in {OTREE_VENV}: run `make otree-env` "
            "(or `.venv/bin/python -m experiments.otree_env`)."
        )
    copy_project(work_dir)
    port = port or free_port()
    output: IO[bytes] | None = log_path.open("wb") if log_path else None
    process = subprocess.Popen(
        [str(otree_executable()), "prodserver", f"127.0.0.1:{port}"],
        cwd=work_dir,
        env=otree_environment(rest_key, admin_password),
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
        start_new_session=True,
    )
    server = OtreeServer(f"http://127.0.0.1:{port}", rest_key, work_dir, process, log_path)
    try:
        wait_until_answering(server, wait_seconds)
    except BaseException:
        server.stop()
        raise
    finally:
        if output:
            output.close()
    return server


def copy_project(work_dir: Path) -> None:
    """Put the current `otree_project/` code into `work_dir`, keeping any database already there."""
    work_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        OTREE_PROJECT,
        work_dir,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("db.sqlite3", "__pycache__", "__temp*"),
    )


def otree_environment(rest_key: str, admin_password: str) -> dict[str, str]:
    """The variables the oTree process runs with."""
    env = {name: value for name, value in os.environ.items() if name not in CROWDHR_ONLY_VARIABLES}
    env.update(
        PATH=f"{OTREE_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        # oTree's SQLite file is always db.sqlite3 in its working folder.
        DATABASE_URL="sqlite:///db.sqlite3",
        OTREE_REST_KEY=rest_key,
        OTREE_AUTH_LEVEL="STUDY",
        OTREE_ADMIN_PASSWORD=admin_password,
        # Production mode: participants never see oTree's debug panel (vars, session code, links).
        OTREE_PRODUCTION="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def wait_until_answering(server: OtreeServer, wait_seconds: float) -> None:
    """Poll `/api/otree_version` until it answers 200, or fail with what the server printed."""
    deadline = time.monotonic() + wait_seconds
    problem = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise OtreeServerError(
                f"oTree exited with code {server.process.returncode} while starting:\n{server.output()}"
            )
        try:
            OtreeClient(server.url, server.rest_key, timeout=2).version()
        except OtreeError as error:
            problem = str(error)
        else:
            return
        time.sleep(0.2)
    raise OtreeServerError(
        f"oTree at {server.url} did not answer within {wait_seconds:.0f}s ({problem}):\n{server.output()}"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)
