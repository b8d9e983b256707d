"""The tables every send writes carry no index that another index makes redundant: each one
costs every send an index entry (chat, contacts and changelog migrations drop them)."""

import pytest
from django.db import connection

# Written by every send: the message, its conversation, both contact rows, both change rows.
SEND_TABLES = ("messages", "conversations", "contacts", "changes")

pytestmark = pytest.mark.django_db


def _partial_indexes() -> set[str]:
    """Indexes over some rows only (WHERE …): they cover other queries than a whole index does."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indpred IS NOT NULL")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'")
        return {row[0] for row in cursor.fetchall()}


def _whole_indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    partial = _partial_indexes()
    return {n: c["columns"] for n, c in constraints.items() if (c["index"] or c["unique"]) and n not in partial}


@pytest.mark.parametrize("table", SEND_TABLES)
def test_no_single_column_index_duplicates_the_lead_of_another(table):
    indexes = _whole_indexes(table)
    assert indexes, "no index found: the introspection itself is broken"
    redundant = [
        (name, columns)
        for name, columns in indexes.items()
        if len(columns) == 1
        and not name.endswith("_pkey")
        and any(other != name and len(cols) > 1 and cols[0] == columns[0] for other, cols in indexes.items())
    ]
    assert redundant == []


@pytest.mark.postgres
def test_no_pattern_ops_index_on_the_send_tables():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) AND indexdef LIKE %s",
            [list(SEND_TABLES), "%pattern_ops%"],
        )
        assert cursor.fetchall() == []
        # The query finds them where they exist: the users table keeps its own.
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'users' AND indexdef LIKE %s", ["%pattern_ops%"]
        )
        assert cursor.fetchone()[0] >= 1
