"""One row at a time, collecting refusals: the one per-row runner of admin actions and background work.

    outcome = run_each(rows, lambda row: service(row=row, by=user), refusals=(Refusal, PlatformError))

A refusal is recorded for its row ("<row>: <message>") and the others go on; `after_row` is
called after every row (a Celery task records its progress there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """How many things a run changed, and one message per row that was refused."""

    changed: int = 0
    errors: list[str] = field(default_factory=list)


def run_each(
    rows: Iterable[Any],
    run: Callable[[Any], Any],
    *,
    refusals: tuple[type[Exception], ...],
    after_row: Callable[[Outcome], None] | None = None,
) -> Outcome:
    """Run `run` on every row; it returns how many things it changed (or something truthy for one)."""
    outcome = Outcome()
    for row in rows:
        try:
            result = run(row)
        except refusals as error:
            outcome.errors.append(f"{row}: {error}")
        else:
            outcome.changed += result if isinstance(result, int) else int(bool(result))
        if after_row is not None:
            after_row(outcome)
    return outcome
