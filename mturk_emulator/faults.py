"""Fault injection for the requester API: throttling, outages, internal faults and lost answers.

Settings live in the database so every web process sees them. Tests in the same process call
`set_faults` / `fail_next` / `clear_faults`; anything else POSTs the same JSON to
`/emulator/faults/` (DELETE clears).

Kinds:
- throttle     HTTP 400 ThrottlingException (botocore retries it)
- unavailable  HTTP 503 ServiceUnavailable
- fault        HTTP 500 ServiceFault
- lose_answer  the operation is performed and committed, then the client gets a 500

Besides random and scheduled faults, MTurk's request rate limit (`mturk_emulator.rate_limit`) is
set here too: "rate_limit": {"per_second": 20, "burst": 20} in the JSON (null: unlimited).
"""

from __future__ import annotations

import random
import time
from typing import Any

from django.db import transaction
from django.db.models import F

from mturk_emulator import rate_limit
from mturk_emulator.models import FaultSettings, ScheduledFault
from mturk_emulator.protocol import MTurkError, ServiceFault, ServiceUnavailable, ThrottlingError

KINDS = tuple(ScheduledFault.KINDS)
LOSE_ANSWER = "lose_answer"


def set_faults(
    *,
    throttle: float = 0,
    unavailable: float = 0,
    fault: float = 0,
    lose_answer: float = 0,
    latency_ms: int = 0,
    operations: list[str] | None = None,
    seed: int | None = None,
) -> FaultSettings:
    """Make each requester call fail with these probabilities (only `operations`, if given)."""
    rates = {"throttle": throttle, "unavailable": unavailable, "fault": fault, "lose_answer": lose_answer}
    for name, value in rates.items():
        _check_probability(name, value)
    if sum(rates.values()) > 1:
        raise ValueError("the fault probabilities add up to more than 1")
    if latency_ms < 0:
        raise ValueError("latency_ms cannot be negative")
    settings, _ = FaultSettings.objects.update_or_create(
        pk=1,
        defaults={
            "throttle": throttle,
            "unavailable": unavailable,
            "fault": fault,
            "lose_answer": lose_answer,
            "latency_ms": latency_ms,
            "operations": list(operations or []),
            "seed": seed,
            "calls": 0,
        },
    )
    return settings


def _check_probability(name: str, value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be a probability between 0 and 1, not {value}")


def fail_next(operation: str, kind: str, times: int = 1) -> ScheduledFault:
    """Make the next `times` calls of `operation` ("*" for any) fail with `kind`."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if times < 1:
        raise ValueError("times must be at least 1")
    return ScheduledFault.objects.create(operation=operation, kind=kind, remaining=times)


def clear_faults() -> None:
    """Stop injecting faults; the rate limit goes back to the setting's."""
    FaultSettings.objects.all().delete()
    ScheduledFault.objects.all().delete()
    rate_limit.clear_rate_limit()


def configure(payload: dict[str, Any]) -> None:
    """Apply the JSON body of POST /emulator/faults/ (probabilities, an optional "next" list and
    an optional "rate_limit")."""
    rates = {key: payload[key] for key in (*KINDS, "latency_ms", "operations", "seed") if key in payload}
    limit = rate_limit.RateLimit.parse(payload.get("rate_limit"))
    with transaction.atomic():
        clear_faults()
        if rates:
            set_faults(**rates)
        rules = payload.get("next") or []
        if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
            raise ValueError('"next" must be a list of {"operation", "kind", "times"} objects')
        for rule in rules:
            fail_next(str(rule.get("operation", "*")), rule["kind"], int(rule.get("times", 1)))
        if "rate_limit" in payload:
            rate_limit.BUCKETS.set(limit)


def describe() -> dict[str, Any]:
    """The faults in force, as JSON."""
    settings = FaultSettings.objects.filter(pk=1).first()
    current: dict[str, Any] = {kind: 0 for kind in KINDS} | {"latency_ms": 0, "operations": [], "seed": None}
    if settings:
        current.update(
            {kind: getattr(settings, kind) for kind in KINDS}
            | {"latency_ms": settings.latency_ms, "operations": settings.operations, "seed": settings.seed}
        )
    current["rate_limit"] = rate_limit.describe()
    current["next"] = [
        {"operation": rule.operation, "kind": rule.kind, "times": rule.remaining}
        for rule in ScheduledFault.objects.all()
    ]
    return current


def draw(operation: str) -> str | None:
    """The fault this call of `operation` suffers: raises it now, or returns LOSE_ANSWER for after the work."""
    kind = _scheduled(operation) or _random(operation)
    if kind is None or kind == LOSE_ANSWER:
        return kind
    raise _error(kind, operation)


def lost_answer(operation: str) -> MTurkError:
    """The failure a client sees when its answer was lost after the work was committed."""
    return ServiceFault(f"We encountered an internal error while answering {operation}. Please try again.")


def _error(kind: str, operation: str) -> MTurkError:
    if kind == "throttle":
        return ThrottlingError("Rate exceeded")
    if kind == "unavailable":
        return ServiceUnavailable("Service is unavailable. Please try again.")
    return ServiceFault(f"We encountered an internal error while processing {operation}. Please try again.")


def _scheduled(operation: str) -> str | None:
    if not ScheduledFault.objects.exists():
        return None
    with transaction.atomic():
        for rule in ScheduledFault.objects.select_for_update().filter(operation__in=[operation, "*"]):
            if ScheduledFault.objects.filter(pk=rule.pk, remaining=rule.remaining).update(
                remaining=F("remaining") - 1
            ):
                ScheduledFault.objects.filter(pk=rule.pk, remaining=0).delete()
                return rule.kind
    return None


def _random(operation: str) -> str | None:
    settings = FaultSettings.objects.filter(pk=1).first()
    if settings is None or (settings.operations and operation not in settings.operations):
        return None
    if settings.latency_ms:
        time.sleep(settings.latency_ms / 1000)
    roll = _roll(settings)
    threshold = 0.0
    for kind in KINDS:
        threshold += getattr(settings, kind)
        if roll < threshold:
            return kind
    return None


def _roll(settings: FaultSettings) -> float:
    if settings.seed is None:
        return random.random()
    # Count calls in the database so a seeded sequence is the same however many processes serve it.
    with transaction.atomic():
        FaultSettings.objects.filter(pk=settings.pk).update(calls=F("calls") + 1)
        calls = FaultSettings.objects.get(pk=settings.pk).calls
    return random.Random(f"{settings.seed}:{calls}").random()
