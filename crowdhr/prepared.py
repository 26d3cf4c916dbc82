"""Statements a hot path runs on every request, planned once per database connection.

PostgreSQL plans every statement it is sent; for the short statements of a worker's landing the
plan costs as much as running them. `execute` prepares such a statement once on each connection
(`PREPARE`, then `EXECUTE` with the values) and runs it plainly everywhere else: on other
databases, inside a transaction (where a failed `EXECUTE` would spoil it), and in a process that
found its prepared statements gone (a pooler in transaction mode hands out other connections).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,53}")
_PREPARED = "_crowdhr_prepared"
_usable = True
#: PostgreSQL's answers when a connection does not hold what this process prepared on it, or
#: holds a plan the schema has changed under (a migration while this release still serves)
ALREADY_PREPARED, NOT_PREPARED, PLAN_CHANGED = "42P05", "26000", "0A000"


def execute(cursor: Any, name: str, sql: str, params: Sequence[Any]) -> None:
    """Run `sql` (its values as %s) on `cursor`, as the prepared statement `name` where it helps."""
    global _usable
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a statement name: {name!r}")
    connection = connections[DEFAULT_DB_ALIAS]  # this thread's connection (not the shared proxy)
    if connection.vendor != "postgresql" or connection.in_atomic_block or not _usable:
        cursor.execute(sql, params)
        return
    # the text's checksum in the name: another release's statement of the same name is never run
    name = f"{name}_{zlib.crc32(sql.encode()):08x}"
    prepared: set[str] = connection.__dict__.setdefault(_PREPARED, set())
    try:
        if name not in prepared:
            cursor.execute(f"PREPARE {name} AS {_numbered(sql)}")
            prepared.add(name)
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
    except DatabaseError as error:
        code = getattr(error.__cause__, "pgcode", None)
        if code not in (ALREADY_PREPARED, NOT_PREPARED, PLAN_CHANGED):
            raise
        # the connection is not the one it was prepared on: plain statements from now on
        _usable = False
        cursor.execute(sql, params)


def _numbered(sql: str) -> str:
    """%s placeholders as PostgreSQL's $1, $2, ... (crowdhr's statements hold no literal %)."""
    parts = sql.split("%s")
    return "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1))


@receiver(connection_created)
def _forget_prepared(sender: Any, connection: Any, **kwargs: Any) -> None:
    """A new connection has nothing prepared."""
    connection.__dict__.pop(_PREPARED, None)
