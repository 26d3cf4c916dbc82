"""Fault injection for the API: errors, outages, time-outs and answers lost after the work.

Rules live in the database so every web process sees them. Tests in the same process call
`fail_next` / `clear_faults`; other processes POST the same JSON to
`/emulator/prolific/faults/`, which answers only while the test switch is on
(`settings.PROLIFIC_EMULATOR_FAULTS = True` or the environment variable
`PROLIFIC_EMULATOR_FAULTS=1`); otherwise it is a 404, as if it did not exist.

Operations are named by resource and verb: "studies.create", "studies.transition",
"submissions.transition", "submissions.bulk_approve", "bonuses.set_up", "bonuses.pay",
"messages.send", ... (`api.OPERATIONS` lists them); "*" matches any.

Kinds:
- error        HTTP 500 with Prolific's error body; nothing done
- unavailable  HTTP 503 with Prolific's error body; nothing done
- timeout      sleeps `seconds` (longer than the client waits), then does the work and answers
               normally, to a client that has given up: the outcome is unknown to it
- lose_answer  does the work and commits it, then answers 500: the work is done all the same
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from prolific_emulator.errors import ApiError, ServerError, Unavailable
from prolific_emulator.models import ScheduledFault

KINDS = tuple(ScheduledFault.KINDS)
LOSE_ANSWER = "lose_answer"
TIMEOUT = "timeout"
DEFAULT_TIMEOUT_SECONDS = 5.0


def http_control_enabled() -> bool:
    """Whether /emulator/prolific/faults/ answers (the test switch)."""
    return bool(getattr(settings, "PROLIFIC_EMULATOR_FAULTS", False)) or (
        os.environ.get("PROLIFIC_EMULATOR_FAULTS") == "1"
    )


def fail_next(
    operation: str, kind: str, times: int = 1, *, seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> ScheduledFault:
    """Make the next `times` calls of `operation` ("*" for any) fail with `kind`."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if times < 1:
        raise ValueError("times must be at least 1")
    if not 0 <= seconds <= 120:
        raise ValueError("seconds must be between 0 and 120")
    return ScheduledFault.objects.create(operation=operation, kind=kind, remaining=times, seconds=seconds)


def clear_faults() -> None:
    """Stop injecting faults."""
    ScheduledFault.objects.all().delete()


def configure(payload: dict[str, Any]) -> None:
    """Apply the JSON body of POST /faults/: {"next": [{"operation", "kind", "times", "seconds"}]}."""
    rules = payload.get("next", [])
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise ValueError('"next" must be a list of {"operation", "kind", "times", "seconds"} objects')
    with transaction.atomic():
        clear_faults()
        for rule in rules:
            fail_next(
                str(rule.get("operation", "*")),
                str(rule.get("kind")),
                int(rule.get("times", 1)),
                seconds=float(rule.get("seconds", DEFAULT_TIMEOUT_SECONDS)),
            )


def describe() -> dict[str, Any]:
    """The faults in force, as JSON."""
    return {
        "next": [
            {"operation": rule.operation, "kind": rule.kind, "times": rule.remaining, "seconds": rule.seconds}
            for rule in ScheduledFault.objects.all()
        ]
    }


def draw(operation: str) -> ScheduledFault | None:
    """Take the next fault scheduled for this call of `operation` (None: no fault)."""
    if not ScheduledFault.objects.exists():
        return None
    with transaction.atomic():
        for rule in ScheduledFault.objects.select_for_update().filter(operation__in=[operation, "*"]):
            if ScheduledFault.objects.filter(pk=rule.pk, remaining=rule.remaining).update(
                remaining=F("remaining") - 1
            ):
                ScheduledFault.objects.filter(pk=rule.pk, remaining=0).delete()
                return rule
    return None


def error_for(rule: ScheduledFault, operation: str) -> ApiError | None:
    """The error to answer before doing any work, for the kinds that do no work."""
    if rule.kind == "error":
        return ServerError(f"An unexpected error occurred while processing {operation}. Please try again.")
    if rule.kind == "unavailable":
        return Unavailable("The service is temporarily unavailable. Please try again later.")
    return None


def lost_answer(operation: str) -> ApiError:
    """What the client sees when the work was committed but the answer was lost."""
    return ServerError(f"An unexpected error occurred while answering {operation}. Please try again.")
