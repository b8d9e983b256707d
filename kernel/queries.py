"""Hot list reads compiled by the ORM once per database and process, then run with new values.

Building and compiling a queryset with annotations and subqueries costs more CPU than running it
(README, Performance). `CompiledValues` keeps the ORM as the only author of the SQL: it builds the
queryset with placeholder values, compiles it once per database alias, remembers where each
placeholder sits among the parameters, and later runs the same SQL with the real values through
Django's cursor (its error wrapping and connection handling included), converting each column as
`.values()` would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections
from django.db.models import QuerySet


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
        sql, params, slots, names, converters = compiled
        bound = [param if slot is None else values[slot] for param, slot in zip(params, slots, strict=True)]
        if limit is not None:
            sql = f"{sql} LIMIT %s OFFSET %s"
            bound += [limit, offset]
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, bound)
            fetched = cursor.fetchall()
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
