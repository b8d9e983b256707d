"""Hot list reads compiled by the ORM once per database and process, then run with new values.

Building and compiling a queryset with annotations and subqueries costs more CPU than running it
(README, Performance). `CompiledValues` keeps the ORM as the only author of the SQL: it builds the
queryset with placeholder values, compiles it once per database alias, remembers where each
placeholder sits among the parameters, and later runs the same SQL with the real values through
Django's cursor (its error wrapping and connection handling included), converting each column as
`.values()` would.

On PostgreSQL these statements run prepared (`fetch_prepared`): planning them cost PostgreSQL more
than running them, and a pooled connection keeps its plans.

`arows` runs a compiled query on the event loop instead (kernel.asyncdb: the hot-read lane), with
the same SQL, parameters and column conversions.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

import psycopg
from django.conf import settings
from django.db import connections
from django.db.models import QuerySet
from django_prometheus.db.common import ExportingCursorWrapper

from kernel import asyncdb


class _PreparedCursor(psycopg.Cursor):
    """Server-side binding, each statement prepared (Django's own cursors bind on the client)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)


@functools.cache
def _prepared_cursor_class(alias: str, vendor: str) -> type:
    return ExportingCursorWrapper(_PreparedCursor, alias, vendor)  # counted like every other query


def fetch_prepared(sql: str, params, *, using: str = "default") -> list[tuple]:
    """The rows of a hot read. On PostgreSQL it is a prepared statement, planned once per pooled
    connection; DB_PREPARED_STATEMENTS=false turns that off (for a pooler that cannot keep them)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = _prepared_cursor_class(using, connection.vendor)(connection.connection)
    # Django's wrapper as connection.cursor() would give it: execute wrappers, query logging,
    # error translation.
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class NotCompiled(Exception):
    """`arows` before `rows` has compiled the query in this process."""


class CompiledValues:
    """`build(**placeholders)` returns a `.values()` queryset; `rows(**values)` runs it.

    Each placeholder must reach the SQL as an unchanged parameter (an exact match, not a pattern
    the ORM rewrites): compiling checks that each one is found, once or more.
    """

    def __init__(self, build: Callable[..., QuerySet], **placeholders):
        self._build = build
        self._placeholders = placeholders
        self._compiled: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> tuple:
        queryset = self._build(**self._placeholders)
        query = queryset.query
        compiler = query.get_compiler(alias)
        sql, params = compiler.as_sql()
        slots = []
        for param in params:
            names = [
                name for name, value in self._placeholders.items() if param == value and type(param) is type(value)
            ]
            slots.append(names[0] if names else None)
        missing = set(self._placeholders) - set(slots)
        if missing:
            raise ValueError(f"placeholders not found as parameters: {sorted(missing)}")
        # As QuerySet.values() names the columns of a row.
        names = list(query.selected or [*query.extra_select, *query.values_select, *query.annotation_select])
        fields = [column for column, _, _ in compiler.select[: compiler.col_count]]
        converters = list(compiler.get_converters(fields).items())
        return sql, tuple(params), tuple(slots), names, converters

    def rows(self, *, using: str = "default", limit: int | None = None, offset: int = 0, **values) -> list[dict]:
        """The rows for these placeholder values; `limit` and `offset` page an unsliced queryset
        (the ORM writes a slice into the SQL text, which would need one compilation per page)."""
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(using, self._compile(using))
        sql, bound = _bound(compiled, limit, offset, values)
        return _shaped(compiled, fetch_prepared(sql, bound, using=using), connections[using])

    async def arows(self, *, using: str = "default", limit: int | None = None, offset: int = 0, **values):
        """`rows` on the event loop (PostgreSQL, kernel.asyncdb). Raises NotCompiled until `rows`
        has compiled the query: compiling may need a blocking connection."""
        compiled = self._compiled.get(using)
        if compiled is None:
            raise NotCompiled
        sql, bound = _bound(compiled, limit, offset, values)
        fetched = await asyncdb.fetch(sql, bound, using=using)
        # Django's connection object (a thread-local lookup) only for the columns that convert.
        return _shaped(compiled, fetched, connections[using] if compiled[4] else None)


def _bound(compiled: tuple, limit: int | None, offset: int, values: dict) -> tuple[str, list]:
    sql, params, slots, _, _ = compiled
    bound = [param if slot is None else values[slot] for param, slot in zip(params, slots, strict=True)]
    if limit is not None:
        sql = f"{sql} LIMIT %s OFFSET %s"
        bound += [limit, offset]
    return sql, bound


def _shaped(compiled: tuple, fetched: list[tuple], connection) -> list[dict]:
    """The rows as `.values()` gives them: named, each column converted."""
    _, _, _, names, converters = compiled
    result = []
    for row in fetched:
        if converters:
            row = list(row)
            for position, (functions, expression) in converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
        result.append(dict(zip(names, row, strict=True)))
    return result
