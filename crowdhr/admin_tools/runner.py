"""Ending an admin action: the count message, failures as admin messages, one row at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest


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
    what: str,
    run: Callable[[Any], Any],
    refusals: tuple[type[Exception], ...],
) -> None:
    """Run one service per selected row; a refusal is reported for its row and the rest go on.

    `run` returns how many things it changed (or something truthy for one); the count message
    says "<count> <what>."
    """
    done, errors = 0, []
    for row in rows:
        try:
            result = run(row)
        except refusals as error:
            errors.append(f"{row}: {error}")
            continue
        done += result if isinstance(result, int) else int(bool(result))
    report(modeladmin, request, f"{done} {what}.", errors)
