"""Hot statements are planned once per connection on PostgreSQL and run plainly elsewhere."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from crowdhr import prepared

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT CAST(%s AS integer) + CAST(%s AS integer), CAST(%s AS text)"


def run(a: int, b: int, label: str = "x") -> tuple:
    with connection.cursor() as cursor:
        prepared.execute(cursor, "crowdhr_test_sum", SQL, [a, b, label])
        return cursor.fetchone()


def held_statements() -> set[str]:
    """The connection's prepared statements, without the checksum of their text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name.rsplit("_", 1)[0] for (name,) in cursor.fetchall()}


def test_the_answers_are_those_of_the_plain_statement():
    assert run(2, 3) == (5, "x")
    assert run(40, 2, "it's 100% safe") == (42, "it's 100% safe")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL plans statements once")
def test_postgresql_prepares_once_per_connection_and_again_after_a_reconnect():
    run(1, 1)
    assert "crowdhr_test_sum" in held_statements()
    connection.close()
    assert run(1, 2) == (3, "x")  # a new connection: prepared again, not "does not exist"
    assert "crowdhr_test_sum" in held_statements()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL plans statements once")
def test_inside_a_transaction_the_statement_runs_plainly():
    connection.close()
    with transaction.atomic():
        assert run(2, 2) == (4, "x")
        assert "crowdhr_test_sum" not in held_statements()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL plans statements once")
def test_a_connection_that_lost_its_statements_falls_back_to_plain_ones(monkeypatch):
    run(1, 1)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler handing out another server connection would
    monkeypatch.setattr(prepared, "_usable", True)
    assert run(3, 4) == (7, "x")
    assert prepared._usable is False
    assert run(5, 4) == (9, "x")


def test_a_statement_name_is_checked():
    with connection.cursor() as cursor, pytest.raises(ValueError):
        prepared.execute(cursor, "x; DROP TABLE y", SQL, [1, 2, "z"])
