"""Ending an admin action: the count message, failures as admin messages, one row at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from crowdhr.rows import run_each


def report(modeladmin: admin.ModelAdmin, request: HttpRequest, done: str, errors: Sequence[str]) -> None:
    """End an action with its count message, and every failure as an admin error message."""
    modeladmin.message_user(request, done, messages.SUCCESS if not errors else messages.WARNING)
    for error in errors[:20]:
        modeladmin.message_user(request, error, messages.ERROR)
    if len(errors) > 20:
        modeladmin.message_user(request, f"... and {len(errors) - 20} more errors.", messages.ERROR)


def for_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    rows: Iterable[Any],
    what: str | tuple[str, str],
    run: Callable[[Any], Any],
    refusals: tuple[type[Exception], ...],
) -> None:
    """Run one service per selected row (`crowdhr.rows.run_each`) and end with the count message.

    `run` returns how many things it changed (or something truthy for one); the count message
    says "<count> <what>."
    """
    outcome = run_each(rows, run, refusals=refusals)
    if isinstance(what, tuple):  # (singular, plural): "1 bonus sent." / "2 bonuses sent."
        what = what[0] if outcome.changed == 1 else what[1]
    report(modeladmin, request, f"{outcome.changed} {what}.", outcome.errors)
