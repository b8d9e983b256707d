"""Writes of the change log: services of the apps above append, inside their own transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

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
    counters, now, rows = ChangeCounter._meta.db_table, timezone.now(), []
    with connection.cursor() as cursor:
        for clerk_id in sorted(by_user):
            entries = by_user[clerk_id]
            cursor.execute(
                f"INSERT INTO {counters} (clerk_id, seq) VALUES (%s, %s) "
                f"ON CONFLICT (clerk_id) DO UPDATE SET seq = {counters}.seq + excluded.seq RETURNING seq",
                [clerk_id, len(entries)],
            )
            first = cursor.fetchone()[0] - len(entries) + 1
            rows += [
                Change(user_id=clerk_id, seq=first + i, kind=kind, data=data, created_at=now)
                for i, (kind, data) in enumerate(entries)
            ]
    Change.objects.bulk_create(rows)
