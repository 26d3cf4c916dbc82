"""Create (or reuse) the separate virtual environment that runs oTree for tests and the demo.

oTree pins old versions of several libraries crowdhr also uses, so it lives in `.otree-venv/`
at the repository root and never in crowdhr's own `.venv`. crowdhr only ever talks to it over
HTTP (see `experiments/otree.py`); nothing here imports oTree.

Run as `python -m experiments.otree_env` (the Makefile's `otree-env` target does). A second
run is instant: a stamp file records the oTree version that was installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OTREE_VERSION = "6.0.15"
REPO_DIR = Path(__file__).resolve().parent.parent
OTREE_VENV = REPO_DIR / ".otree-venv"
STAMP = OTREE_VENV / ".otree-version"
OTREE_PROJECT = REPO_DIR / "otree_project"


class OtreeEnvError(RuntimeError):
    """The oTree environment could not be created or is not there."""


def otree_executable() -> Path:
    """The `otree` command inside `.otree-venv`, whether or not it is installed yet."""
    return OTREE_VENV / "bin" / "otree"


def is_ready() -> bool:
    """True when `.otree-venv` holds the pinned oTree version."""
    return otree_executable().exists() and STAMP.exists() and STAMP.read_text().strip() == OTREE_VERSION


def ensure_otree_env(say=print) -> Path:
    """Install the pinned oTree into `.otree-venv` unless it is already there; return `otree`."""
    if is_ready():
        say(f"oTree {OTREE_VERSION} is ready in {OTREE_VENV}")
        return otree_executable()
    python = OTREE_VENV / "bin" / "python"
    if not python.exists():
        say(f"Creating {OTREE_VENV} for oTree")
        _run([sys.executable, "-m", "venv", str(OTREE_VENV)])
    say(f"Installing oTree {OTREE_VERSION} into {OTREE_VENV} (a minute or two the first time)")
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"otree=={OTREE_VERSION}",
        ]
    )
    STAMP.write_text(OTREE_VERSION + "\n")
    say(f"oTree {OTREE_VERSION} is ready in {OTREE_VENV}")
    return otree_executable()


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise OtreeEnvError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


def main() -> int:
    try:
        ensure_otree_env()
    except OtreeEnvError as error:
        print(f"Could not set up oTree: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
