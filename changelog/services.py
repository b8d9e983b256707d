"""Writes of the change log: services of the apps above append, inside their own transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import orjson
from django.db import connection
from django.utils import timezone

from changelog.models import Change, ChangeCounter

# The one kind that is no Socket.IO event: a row of the caller's contact list was added,
# renamed or removed (contacts.services).
CONTACT_CHANGED = "contact_changed"


def changes_record(*, changes: Iterable[tuple[str, str, dict]]) -> None:
    """Append (clerk_id, kind, data) entries to their users' logs, in this order per user.

    Call it last in the caller's transaction: the users' counter rows stay locked until it
    commits, taken in one order (sorted ids) so that two writers never wait on each other.
    """
    by_user: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for clerk_id, kind, data in changes:
        by_user[clerk_id].append((kind, data))
    if not by_user:
        return
    assert connection.in_atomic_block, "changes_record runs inside the writing transaction"
    counters, now, users = ChangeCounter._meta.db_table, timezone.now(), sorted(by_user)
    with connection.cursor() as cursor:
        # One statement; PostgreSQL takes the rows' locks in the order of VALUES (sorted).
        cursor.execute(
            f"INSERT INTO {counters} (clerk_id, seq) VALUES {', '.join(['(%s, %s)'] * len(users))} "
            f"ON CONFLICT (clerk_id) DO UPDATE SET seq = {counters}.seq + excluded.seq RETURNING clerk_id, seq",
            [value for clerk_id in users for value in (clerk_id, len(by_user[clerk_id]))],
        )
        last = dict(cursor.fetchall())
    rows = [
        Change(
            user_id=clerk_id, seq=last[clerk_id] - len(entries) + 1 + i, kind=kind,
            data=orjson.dumps(data).decode(), created_at=now,
        )
        for clerk_id, entries in by_user.items()
        for i, (kind, data) in enumerate(entries)
    ]  # fmt: skip
    Change.objects.bulk_create(rows)
