"""Migrations that drop single-column indexes without Django rebuilding the table.

Django drops an index it made for a ForeignKey by altering the field, which SQLite does by
copying the whole table (and a copy loses the table's triggers: the search index's, chat
migration 0003). These operations run the DROP INDEX statements alone, on each backend, and
put the indexes back when the migration is reversed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import migrations


@dataclass(frozen=True)
class ColumnIndex:
    name: str
    table: str
    column: str
    # PostgreSQL's second index on a varchar key (varchar_pattern_ops), for LIKE 'prefix%'.
    pattern_ops: bool = False

    def applies_to(self, vendor: str) -> bool:
        return vendor == "postgresql" if self.pattern_ops else True

    def create_sql(self) -> str:
        opclass = " varchar_pattern_ops" if self.pattern_ops else ""
        return f'CREATE INDEX "{self.name}" ON "{self.table}" ("{self.column}"{opclass})'


def indexes_dropped(*indexes: ColumnIndex) -> migrations.RunPython:
    def drop(apps, schema_editor):
        for index in indexes:
            if index.applies_to(schema_editor.connection.vendor):
                schema_editor.execute(f'DROP INDEX IF EXISTS "{index.name}"')

    def restore(apps, schema_editor):
        for index in indexes:
            if index.applies_to(schema_editor.connection.vendor):
                schema_editor.execute(index.create_sql())

    return migrations.RunPython(drop, restore)


def foreign_key_unindexed(
    model_name: str, name: str, field, *indexes: ColumnIndex
) -> migrations.SeparateDatabaseAndState:
    """A ForeignKey made `db_index=False`: the new field for the migration state, and for the
    database only these DROP INDEX statements (its own index and, on PostgreSQL, its LIKE twin)."""
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=name, field=field)],
        database_operations=[indexes_dropped(*indexes)],
    )
