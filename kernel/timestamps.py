from datetime import UTC, datetime

from django.db.models import CharField, Func


def iso_z(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and `Z`, as the seed's frontend parses: 2025-11-06T12:30:00.000Z."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class IsoZ(Func):
    """A timestamp column as `iso_z` writes it, formatted by the database (NULL stays NULL).

    For list reads (contacts, message pages): psycopg parses each timestamptz in Python
    (Django's time-zone loader), which cost more than fetching the rest of the row. Both
    truncate to milliseconds, like `iso_z`.
    """

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="""to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')""",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores UTC text there: "YYYY-MM-DD HH:MM:SS", then ".ffffff" unless it is 0.
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"substr({sql}, 1, 10) || 'T' || substr({sql}, 12, 8) || '.' || substr({sql} || '.000000', 21, 3) || 'Z'",
            (*params, *params, *params),
        )
