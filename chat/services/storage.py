"""The raw SQL of a send: race-safe upserts of the conversation and both contact rows, the
message INSERT, and the users' chat state. Raw because on every send compiling the equivalent
querysets cost more CPU than the queries, and INSERT … ON CONFLICT is what makes racing first
messages land on one conversation."""

from __future__ import annotations

from contextlib import nullcontext
from typing import NamedTuple

from django.db import connection, transaction

from changelog.models import Change, ChangeCounter
from changelog.services import changes_record
from chat.models import Conversation, Message
from contacts.models import Contact
from delivery import events
from users.models import Block, User

PREVIEW_LENGTH = 100


def write_block():
    """The transaction a send's writes need. One PostgreSQL statement is atomic by itself:
    outside a caller's transaction it needs no BEGIN/COMMIT round trips (on_commit callbacks
    then run at once, after that statement). SQLite's writes take several statements."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return nullcontext()
    return transaction.atomic()


def db_time(value):
    return connection.ops.adapt_datetimefield_value(value)


def _conversation_touch_sql(*, user_a: str, user_b: str, at) -> tuple[str, list]:
    """Find or create the pair's conversation and move its last message time, in one statement.

    INSERT … ON CONFLICT is atomic in both PostgreSQL and SQLite: two first messages racing
    end on the same row instead of one failing or both creating one.
    """
    user1, user2 = sorted((user_a, user_b))
    return (
        f"INSERT INTO {Conversation._meta.db_table} (user1_clerk_id, user2_clerk_id, created_at, last_message_at) "
        "VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (user1_clerk_id, user2_clerk_id) "
        "DO UPDATE SET last_message_at = excluded.last_message_at RETURNING id",
        [user1, user2, db_time(at), db_time(at)],
    )


def _contacts_touch_sql(*, sender_id: str, recipient_id: str, preview: str, at) -> tuple[str, list]:
    """Both sides' contact rows, created when missing as the seed does, in one statement.

    The recipient's row gains one unread message; the sender's only the preview and time.
    Rows go in owner order so two opposite sends lock them in the same order.
    """
    rows = sorted([(recipient_id, sender_id, 1), (sender_id, recipient_id, 0)])
    table = Contact._meta.db_table
    params = []
    for owner, contact, unread in rows:
        params += [owner, contact, preview, db_time(at), unread, db_time(at)]
    return (
        f"INSERT INTO {table} (user_clerk_id, contact_clerk_id, last_message_preview, "
        "last_message_at, unread_count, created_at) VALUES (%s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (user_clerk_id, contact_clerk_id) DO UPDATE SET "
        "last_message_preview = excluded.last_message_preview, "
        "last_message_at = excluded.last_message_at, "
        f"unread_count = {table}.unread_count + excluded.unread_count",
        params,
    )


def _message_insert_sql(message: Message) -> tuple[str, list]:
    """INSERT … RETURNING id of a new message: what `Message.objects.create` does (no signal
    receivers exist for it) without compiling a query on every send."""
    fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
    columns, params = [], []
    for f in fields:
        columns.append(connection.ops.quote_name(f.column))
        params.append(f.get_db_prep_save(getattr(message, f.attname), connection))
    return (
        f"INSERT INTO {Message._meta.db_table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
        f"RETURNING {Message._meta.pk.column}, {Message._meta.get_field('conversation').column}",
        params,
    )


def messages_store(messages: list[Message], *, previews: list[str]) -> set[int]:
    """Store new messages with their conversations, both sides' contact rows and both users'
    change-log entries (`receive_message`, GET /sync), in the caller's transaction
    (`write_block`); returns the ids stored. The one write path of each backend:
    PostgreSQL writes the batch in two round trips, and leaves out a (sender, clientMessageId)
    that another process stored meanwhile; SQLite writes message by message."""
    if connection.vendor == "postgresql":
        return _messages_store_postgresql(messages, previews=previews)
    for message, preview in zip(messages, previews):
        _message_store_sqlite(message, preview=preview)
    changes_record(changes=[c for m in messages for c in _message_changes(m)])
    return {m.pk for m in messages}


def _message_changes(message: Message) -> list[tuple[str, str, dict]]:
    """Both users' change-log entries of a new message (the sender's other devices show it too).
    Only the id: /sync reads the message as it is then (removed or not)."""
    change = {"messageId": message.id}
    return [(clerk_id, events.RECEIVE_MESSAGE, change) for clerk_id in (message.sender_id, message.recipient_id)]


def _message_store_sqlite(message: Message, *, preview: str) -> None:
    """SQLite has no data-modifying CTEs: three statements in the caller's transaction."""
    touch = {"at": message.created_at}
    conv_sql, conv_params = _conversation_touch_sql(user_a=message.sender_id, user_b=message.recipient_id, **touch)
    contacts_sql, contacts_params = _contacts_touch_sql(
        sender_id=message.sender_id, recipient_id=message.recipient_id, preview=preview, **touch
    )
    with connection.cursor() as cursor:
        cursor.execute(conv_sql, conv_params)
        message.conversation_id = cursor.fetchone()[0]
        cursor.execute(*_message_insert_sql(message))
        message.pk = cursor.fetchone()[0]
        cursor.execute(contacts_sql, contacts_params)
    message._state.adding = False
    message._state.db = connection.alias


class ChatState(NamedTuple):
    """What a send needs to know of a user (the same rule as `User.can_chat`), and which of the
    senders asked about they block."""

    is_active: bool
    suspended_at: object
    blocks: frozenset = frozenset()

    @property
    def can_chat(self) -> bool:
        return bool(self.is_active) and self.suspended_at is None

    def accepts_from(self, sender_id: str) -> bool:
        """Whether a message or typing from `sender_id` may reach this user."""
        return self.can_chat and sender_id not in self.blocks


def chat_states(*clerk_ids: str, pairs) -> dict[str, ChatState]:
    """The users' chat-relevant fields only, by clerk id, with the blocks among `pairs`
    ((recipient, sender) of each send or typing event): one query, and for the blocks one more
    for the whole batch, only when one of its recipients blocks anyone (`users.blocks_anyone`).

    Raw SQL into tuples: on every send (batch), compiling a queryset and building model
    instances cost more CPU than the query.
    """
    if not clerk_ids:
        return {}
    meta = User._meta
    names = ("clerk_id", "is_active", "suspended_at", "blocks_anyone")
    columns = ", ".join(meta.get_field(name).column for name in names)
    placeholders = ", ".join(["%s"] * len(clerk_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {meta.db_table} WHERE {meta.pk.column} IN ({placeholders})", clerk_ids)
        rows = cursor.fetchall()
    blockers = {clerk_id for clerk_id, _, _, blocks_anyone in rows if blocks_anyone}
    blocks = _blocks_among([(r, s) for r, s in pairs if r in blockers]) if blockers else {}
    return {
        clerk_id: ChatState(is_active, suspended_at, blocks.get(clerk_id, frozenset()))
        for clerk_id, is_active, suspended_at, _ in rows
    }


def _blocks_among(pairs: list[tuple[str, str]]) -> dict[str, frozenset]:
    """Which of these (blocker, blocked) pairs are blocks, by blocker."""
    if not pairs:
        return {}
    meta = Block._meta
    blocker_col, blocked_col = (meta.get_field(name).column for name in ("blocker", "blocked"))
    blocker_ids, blocked_ids = sorted({p[0] for p in pairs}), sorted({p[1] for p in pairs})
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {blocker_col}, {blocked_col} FROM {meta.db_table} "
            f"WHERE {blocker_col} IN ({', '.join(['%s'] * len(blocker_ids))}) "
            f"AND {blocked_col} IN ({', '.join(['%s'] * len(blocked_ids))})",
            [*blocker_ids, *blocked_ids],
        )
        found = set(cursor.fetchall()) & set(pairs)
    by_blocker: dict[str, set[str]] = {}
    for blocker_id, blocked_id in found:
        by_blocker.setdefault(blocker_id, set()).add(blocked_id)
    return {blocker_id: frozenset(ids) for blocker_id, ids in by_blocker.items()}


# Columns whose Python values psycopg adapts exactly as Django's field preparation would (text,
# booleans, aware datetimes): taken as they are, at a fraction of the CPU.
_PLAIN_TYPES = {"AutoField", "BigAutoField", "BooleanField", "CharField", "DateTimeField", "ForeignKey", "TextField"}


def _column_values(field, rows) -> list:
    if field.get_internal_type() in _PLAIN_TYPES:
        return [getattr(row, field.attname) for row in rows]
    return [field.get_db_prep_save(getattr(row, field.attname), connection) for row in rows]


def _messages_store_postgresql(messages: list[Message], *, previews: list[str]) -> set[int]:
    """PostgreSQL: many messages, their conversations and contact rows in two round trips.

    Ids come from the sequence first and are handed out in arrival order, so ids stay in the
    order the messages arrived (clients and the `after` cursor order by id). One statement then
    writes everything; rows go in key order so that concurrent batches (other processes) take
    their row locks in the same order. A message whose (sender, clientMessageId) another writer
    stored meanwhile is skipped, and only inserted messages count towards unread. Returns the
    ids of the messages inserted; the caller looks up the others.
    """
    meta = Message._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(messages)],
        )
        for message, pk in zip(messages, sorted(row[0] for row in cursor.fetchall())):
            message.pk = message.id = pk
        fields = [f for f in meta.concrete_fields if f.attname != "conversation_id"]
        columns = [connection.ops.quote_name(f.column) for f in fields]
        arrays = [_column_values(f, messages) for f in fields]
        pairs = [sorted((m.sender_id, m.recipient_id)) for m in messages]
        arrays += [[p[0] for p in pairs], [p[1] for p in pairs], previews]
        casts = [f"%s::{f.db_type(connection)}[]" for f in fields] + ["%s::text[]"] * 3
        names = [f"c{i}" for i in range(len(fields))]
        col = dict(zip([f.attname for f in fields], names))
        pk, created, sender, recipient = (col[a] for a in ("id", "created_at", "sender_id", "recipient_id"))
        contacts = Contact._meta.db_table
        counters, changes = ChangeCounter._meta.db_table, Change._meta.db_table
        cursor.execute(
            f"""
            WITH input AS (SELECT * FROM unnest({", ".join(casts)}) AS t({", ".join(names)}, u1, u2, preview)),
            conv AS (
                INSERT INTO {Conversation._meta.db_table} AS c (user1_clerk_id, user2_clerk_id, created_at, last_message_at)
                SELECT u1, u2, max({created}), max({created}) FROM input GROUP BY u1, u2 ORDER BY u1, u2
                ON CONFLICT (user1_clerk_id, user2_clerk_id) DO UPDATE SET last_message_at = excluded.last_message_at
                RETURNING c.id, c.user1_clerk_id AS u1, c.user2_clerk_id AS u2
            ),
            msg AS (
                INSERT INTO {meta.db_table} ({", ".join(columns)}, conversation_id)
                SELECT {", ".join(f"i.{n}" for n in names)}, conv.id FROM input i JOIN conv USING (u1, u2) ORDER BY i.{pk}
                ON CONFLICT (from_clerk_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
                RETURNING id, conversation_id
            ),
            sides AS (
                SELECT i.{recipient} AS owner, i.{sender} AS contact, i.{pk} AS id, i.{created} AS at, i.preview, 1 AS unread
                FROM input i JOIN msg ON msg.id = i.{pk}
                UNION ALL
                SELECT i.{sender}, i.{recipient}, i.{pk}, i.{created}, i.preview, 0 FROM input i JOIN msg ON msg.id = i.{pk}
            ),
            touched AS (
                INSERT INTO {contacts} (user_clerk_id, contact_clerk_id, last_message_preview, last_message_at,
                                        unread_count, created_at)
                SELECT owner, contact, (array_agg(preview ORDER BY id DESC))[1], max(at), sum(unread)::int, min(at)
                FROM sides GROUP BY owner, contact ORDER BY owner, contact
                ON CONFLICT (user_clerk_id, contact_clerk_id) DO UPDATE SET
                    last_message_preview = excluded.last_message_preview,
                    last_message_at = excluded.last_message_at,
                    unread_count = {contacts}.unread_count + excluded.unread_count
                RETURNING 1
            ),
            counted AS (
                -- After every contact row is locked (the one-time filter reads all of touched):
                -- the change counters are always locked last, by every writer, in id order.
                INSERT INTO {counters} AS k (clerk_id, seq)
                SELECT owner, count(*) FROM sides WHERE (SELECT count(*) FROM touched) >= 0
                GROUP BY owner ORDER BY owner
                ON CONFLICT (clerk_id) DO UPDATE SET seq = k.seq + excluded.seq
                RETURNING k.clerk_id, k.seq
            ),
            logged AS (
                INSERT INTO {changes} (clerk_id, seq, kind, data, created_at)
                SELECT s.owner,
                       k.seq - count(*) OVER (PARTITION BY s.owner) + row_number() OVER (PARTITION BY s.owner ORDER BY s.id),
                       %s, json_build_object('messageId', s.id)::text, now()
                FROM sides s JOIN counted k ON k.clerk_id = s.owner
            )
            SELECT id, conversation_id FROM msg
            """,
            [*arrays, events.RECEIVE_MESSAGE],
        )
        stored = dict(cursor.fetchall())
    for message in messages:
        if message.pk in stored:
            message.conversation_id = stored[message.pk]
            message._state.adding = False
            message._state.db = connection.alias
    return set(stored)
