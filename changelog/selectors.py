"""Reads of the change log."""

from __future__ import annotations

from changelog.models import Change


def changes_after(*, clerk_id: str, after: int, limit: int) -> tuple[list[Change], bool]:
    """The user's entries numbered after `after`, oldest first, at most `limit`; and whether more follow."""
    rows = list(Change.objects.filter(user_id=clerk_id, seq__gt=after).order_by("seq")[: limit + 1])
    return rows[:limit], len(rows) > limit
