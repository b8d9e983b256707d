from datetime import UTC, datetime


def iso_z(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and `Z`, as the seed's frontend parses: 2025-11-06T12:30:00.000Z."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
