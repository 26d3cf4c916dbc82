"""The house's map (ARCHITECTURE.md) matches the code, and imports run one way."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAP = (ROOT / "ARCHITECTURE.md").read_text()
APPS = ("crowdhr", "platforms", "workers", "hits", "experiments")


def test_every_module_the_map_names_exists():
    named = set(re.findall(r"`([a-z_]+(?:/[a-z_]+)*(?:\.py|/))`", MAP))
    assert len(named) > 30
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, f"ARCHITECTURE.md names modules that do not exist: {missing}"


def test_every_app_has_its_one_sentence():
    for app in APPS:
        assert re.search(rf"^- \*\*{app}\*\*: .+", MAP, re.M), f"{app} has no sentence in the map"


def test_every_module_of_every_app_is_on_the_map():
    unnamed = []
    for app in APPS:
        for path in sorted((ROOT / app).glob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if path.name == "__init__.py" or path.name == "apps.py":
                continue
            if f"`{relative}`" not in MAP and f"`{path.name}`" not in MAP:
                unnamed.append(relative)
    assert not unnamed, f"modules missing from ARCHITECTURE.md: {unnamed}"


#: the composition root may import every app (see ARCHITECTURE.md)
COMPOSITION_ROOT = (
    "crowdhr.urls",
    "crowdhr.settings",
    "crowdhr.celery",
    "crowdhr.wsgi",
    "crowdhr.management",
)


def _exempt(module: str) -> bool:
    return ".tests" in module or "conftest" in module or module.startswith(COMPOSITION_ROOT)


def _import_graph_problems() -> str:
    """The app and file import cycles, as the shared check script sees them (tests excluded)."""
    import grimp

    graph = grimp.build_graph(*APPS, "mturk_emulator", "prolific_emulator")
    problems = []
    for lower_index, lower in enumerate(APPS):
        for upper in APPS[lower_index + 1 :]:
            for chain in graph.find_shortest_chains(importer=lower, imported=upper, as_packages=True):
                if not any(_exempt(module) for module in chain):
                    problems.append(" -> ".join(chain))
    return "\n".join(problems)


def test_no_lower_app_imports_a_higher_one():
    problems = _import_graph_problems()
    assert not problems, "imports that run upwards:\n" + problems


def test_the_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
