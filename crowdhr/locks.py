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

from django.db import connection

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


def release(namespace: str, pk: int) -> None:
    """Let go of a claim taken with `try_hold`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [NAMESPACES[namespace], _key(pk)])


def _key(pk: int) -> int:
    # advisory locks take two int4 keys; ids past 2**31 share a key (contention, never a double claim)
    return pk % 2_147_483_647
