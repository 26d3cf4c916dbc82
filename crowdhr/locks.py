"""Claims that die with the process holding them: PostgreSQL session advisory locks.

A process killed with SIGKILL cannot release a time-based lease; its database connection, though,
closes with it, and PostgreSQL then drops every session advisory lock the connection held. So a
claim made with `try_hold` is free again within seconds of its holder dying, where a time-based
lease strands the work until it runs out. On databases without advisory locks (SQLite, for
development and tests) `available()` is False and callers keep their time-based leases.

Locks are per connection (Django keeps one per thread), re-entrant within it, and must be let go
with `release` by the code that took them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.db import connection, models
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

#: one number per kind of claim, so a HIT and a payment with the same id never collide
NAMESPACES = {"hit": 71_001, "payment": 71_002, "follow_up": 71_003}


def available() -> bool:
    """Whether claims die with their process here (PostgreSQL), or callers must lease by time."""
    return connection.vendor == "postgresql"


def try_hold(namespace: str, pk: int) -> bool:
    """Take the claim on (namespace, pk) for this connection, without waiting. False if held."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [NAMESPACES[namespace], _key(pk)])
        return bool(cursor.fetchone()[0])


def try_hold_condition(namespace: str, pk: int) -> RawSQL:
    """`try_hold` as a condition for a single-row filter, so the claim and the row's update are one
    query: `Model.objects.filter(pk=pk).filter(try_hold_condition(...)).update(...)`. The scalar
    subquery is evaluated once per statement, whatever the rows; the claim is taken even when no
    row matches, so use it only on rows that always exist."""
    return RawSQL(
        "(SELECT pg_try_advisory_lock(%s, %s))",
        (NAMESPACES[namespace], _key(pk)),
        output_field=BooleanField(),
    )


def release_condition(namespace: str, pk: int) -> RawSQL:
    """`release` as a condition that always holds, for a single-row filter, so letting go of the
    claim and the row's last update are one query: the scalar subquery is evaluated once, at the
    start of the statement, whether or not the row matches."""
    return RawSQL(
        "(SELECT pg_advisory_unlock(%s, %s)) IS NOT NULL",
        (NAMESPACES[namespace], _key(pk)),
        output_field=BooleanField(),
    )


def claim_row(
    model: type[models.Model], pk: int, *, waiting: str, in_flight: str, lease: timedelta, held: bool
) -> bool:
    """Move row `pk` from `waiting`, or from `in_flight` when its holder is gone, to `in_flight`,
    counting the attempt; False when another process has it. With the advisory lock on the row
    `held`, any in-flight holder is dead (its lock went with its connection); without one, it is
    taken for dead once its claim is older than `lease`. The row needs `status`, `claimed_at` and
    `attempts` columns."""
    now = timezone.now()
    abandoned = Q(status=in_flight)
    if not held:
        abandoned &= Q(claimed_at__lt=now - lease)
    claimable = Q(status=waiting) | abandoned
    return bool(
        model._default_manager.filter(claimable, pk=pk).update(
            status=in_flight, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def release(namespace: str, pk: int) -> None:
    """Let go of a claim taken with `try_hold`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [NAMESPACES[namespace], _key(pk)])


def hold_all(namespace: str, pks: Sequence[int]) -> bool:
    """`try_hold` every one of `pks` in one query; True only if all were free (those taken are
    kept either way: let go of them all with `release_all`)."""
    if not pks:
        return True
    calls = ", ".join(["pg_try_advisory_lock(%s, %s)"] * len(pks))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", _arguments(namespace, pks))
        return all(cursor.fetchone())


def release_all(claims: Sequence[tuple[str, int]]) -> None:
    """Let go of many claims, (namespace, pk) each, in one query."""
    if not claims:
        return
    calls = ", ".join(["pg_advisory_unlock(%s, %s)"] * len(claims))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", [n for ns, pk in claims for n in _arguments(ns, [pk])])


def _arguments(namespace: str, pks: Sequence[int]) -> list[int]:
    return [number for pk in pks for number in (NAMESPACES[namespace], _key(pk))]


def _key(pk: int) -> int:
    # advisory locks take two int4 keys; ids past 2**31 share a key (contention, never a double claim)
    return pk % 2_147_483_647
