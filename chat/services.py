"""Writes of the chat app. Every transport (Socket.IO, REST, admin, commands) calls these.

Each service is one transaction; realtime events leave only after it commits
(`transaction.on_commit`), so a rolled-back write tells no one anything.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from biosync import metrics
from biosync.errors import NotFoundError, ServiceError
from biosync.logging import log_event
from chat.models import Conversation, Message
from chat.realtime import emitter, events, presence
from contacts.models import Contact
from users.models import User

logger = logging.getLogger(__name__)

PREVIEW_LENGTH = 100


@dataclass(frozen=True)
class MessageSendResult:
    message: Message
    created: bool  # False: a retry of an already stored message (same clientMessageId)
    status: str  # "delivered" (recipient connected somewhere), "saved" or "read"


def _db_time(value):
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
        [user1, user2, _db_time(at), _db_time(at)],
    )


def conversation_get_or_create(*, user_a: str, user_b: str) -> Conversation:
    if user_a == user_b:
        raise ServiceError("Cannot open a conversation with yourself", code="self")
    user1, user2 = sorted((user_a, user_b))
    conversation = Conversation.objects.filter(user1_id=user1, user2_id=user2).first()
    if conversation is not None:
        return conversation
    table = Conversation._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user1_clerk_id, user2_clerk_id, created_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (user1_clerk_id, user2_clerk_id) DO NOTHING",
            [user1, user2, _db_time(timezone.now())],
        )
    return Conversation.objects.get(user1_id=user1, user2_id=user2)


def _contacts_touch_sql(*, sender_id: str, recipient_id: str, preview: str, at) -> tuple[str, list]:
    """Both sides' contact rows, created when missing as the seed does, in one statement.

    The recipient's row gains one unread message; the sender's only the preview and time.
    Rows go in owner order so two opposite sends lock them in the same order.
    """
    rows = sorted([(recipient_id, sender_id, 1), (sender_id, recipient_id, 0)])
    table = Contact._meta.db_table
    params = []
    for owner, contact, unread in rows:
        params += [owner, contact, preview, _db_time(at), unread, _db_time(at)]
    return (
        f"INSERT INTO {table} (user_clerk_id, contact_clerk_id, last_message_preview, "
        "last_message_at, unread_count, created_at) VALUES (%s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (user_clerk_id, contact_clerk_id) DO UPDATE SET "
        "last_message_preview = excluded.last_message_preview, "
        "last_message_at = excluded.last_message_at, "
        f"unread_count = {table}.unread_count + excluded.unread_count",
        params,
    )


def _message_insert_sql(message: Message, *, conversation_sql: str | None = None) -> tuple[str, list]:
    """INSERT … RETURNING id, conversation_id of a new message: what `Message.objects.create`
    does (no signal receivers exist for it) without compiling a query on every send.
    `conversation_sql` replaces the conversation id by an expression (the one-statement send)."""
    fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
    columns, values, params = [], [], []
    for f in fields:
        columns.append(connection.ops.quote_name(f.column))
        if conversation_sql is not None and f.attname == "conversation_id":
            values.append(conversation_sql)
        else:
            values.append("%s")
            params.append(f.get_db_prep_save(getattr(message, f.attname), connection))
    return (
        f"INSERT INTO {Message._meta.db_table} ({', '.join(columns)}) VALUES ({', '.join(values)}) "
        f"RETURNING {Message._meta.pk.column}, {Message._meta.get_field('conversation').column}",
        params,
    )


def _message_store(message: Message, *, preview: str) -> Message:
    """The conversation (found or created), the message and both contact rows.

    On PostgreSQL one statement does all three (data-modifying CTEs run exactly once, to
    completion, atomically with the statement): one round trip instead of five with
    BEGIN/COMMIT. SQLite has no data-modifying CTEs: three statements in the caller's
    transaction.
    """
    touch = {"at": message.created_at}
    conv_sql, conv_params = _conversation_touch_sql(user_a=message.sender_id, user_b=message.recipient_id, **touch)
    contacts_sql, contacts_params = _contacts_touch_sql(
        sender_id=message.sender_id, recipient_id=message.recipient_id, preview=preview, **touch
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            msg_sql, msg_params = _message_insert_sql(message, conversation_sql="(SELECT id FROM conv)")
            cursor.execute(
                f"WITH conv AS ({conv_sql}), msg AS ({msg_sql}), touched AS ({contacts_sql}) "
                "SELECT * FROM msg",
                [*conv_params, *msg_params, *contacts_params],
            )
            message.pk, message.conversation_id = cursor.fetchone()
        else:
            cursor.execute(conv_sql, conv_params)
            message.conversation_id = cursor.fetchone()[0]
            cursor.execute(*_message_insert_sql(message))
            message.pk = cursor.fetchone()[0]
            cursor.execute(contacts_sql, contacts_params)
    message._state.adding = False
    message._state.db = connection.alias
    return message


def _existing_send(sender_id: str, client_message_id: str | None) -> Message | None:
    if not client_message_id:
        return None
    return Message.objects.filter(sender_id=sender_id, client_message_id=client_message_id).first()


def _status_of(message: Message) -> str:
    if message.is_read:
        return events.STATUS_READ
    return events.STATUS_DELIVERED if message.delivered_at else events.STATUS_SAVED


def _chat_states(*clerk_ids: str) -> dict[str, User]:
    """The users' chat-relevant fields only, as unsaved User objects (for `can_chat`).

    Raw SQL: on every send, compiling the equivalent queryset cost more CPU than the query.
    """
    meta = User._meta
    columns = ", ".join(meta.get_field(name).column for name in ("clerk_id", "is_active", "suspended_at"))
    placeholders = ", ".join(["%s"] * len(clerk_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {meta.db_table} WHERE {meta.pk.column} IN ({placeholders})", clerk_ids)
        rows = cursor.fetchall()
    return {
        clerk_id: User(clerk_id=clerk_id, is_active=bool(is_active), suspended_at=suspended_at)
        for clerk_id, is_active, suspended_at in rows
    }


def message_text_validate(text) -> str:
    """The one rule for a message's text, shared by every transport (the socket layer checks it
    before spending a rate-limit slot or a database round trip)."""
    if not isinstance(text, str) or not text.strip():
        raise ServiceError("Message text must be a non-empty string", code="invalid_text", details={"field": "text"})
    if len(text) > settings.MESSAGE_MAX_LENGTH:
        raise ServiceError(
            f"Message text is longer than {settings.MESSAGE_MAX_LENGTH} characters",
            code="too_long",
            details={"field": "text", "maxLength": settings.MESSAGE_MAX_LENGTH, "length": len(text)},
        )
    return text


def message_ids_validate(message_ids) -> list[int]:
    if not isinstance(message_ids, list) or not message_ids:
        raise ServiceError(
            "messageIds must be a non-empty list of message ids", code="invalid_ids", details={"field": "messageIds"}
        )
    if len(message_ids) > settings.MARK_READ_MAX_IDS:
        raise ServiceError(
            f"At most {settings.MARK_READ_MAX_IDS} messageIds at once",
            code="too_many_ids",
            details={"field": "messageIds", "max": settings.MARK_READ_MAX_IDS, "got": len(message_ids)},
        )
    if not all(type(i) is int and 0 < i < 2**63 for i in message_ids):
        raise ServiceError("messageIds must be positive integers", code="invalid_ids", details={"field": "messageIds"})
    return message_ids


def _validate_send(sender_id: str, recipient_id: str, text) -> str:
    text = message_text_validate(text)
    if sender_id == recipient_id:
        raise ServiceError("Cannot send a message to yourself", code="self")
    users = _chat_states(sender_id, recipient_id)
    sender, recipient = users.get(sender_id), users.get(recipient_id)
    if sender is None:
        raise ServiceError("Sender has no profile; create it first with POST /users", code="unknown_sender")
    if not sender.can_chat:
        raise ServiceError("Your account cannot send messages", code="sender_suspended")
    if recipient is None:
        raise ServiceError("Recipient not found", code="unknown_recipient")
    if not recipient.can_chat:
        raise ServiceError("Recipient cannot receive messages", code="recipient_unavailable")
    return text


@metrics.instrument_send
def message_send(
    *,
    sender_id: str,
    recipient_id: str,
    text,
    client_message_id: str | None = None,
    origin_sid: str | None = None,
) -> MessageSendResult:
    """Store one message and tell both users' sockets (except `origin_sid`, which the caller answers).

    Idempotent per (sender, client_message_id): a retry returns the stored message, untouched.
    """
    existing = _existing_send(sender_id, client_message_id)
    if existing is not None:
        return MessageSendResult(existing, created=False, status=_status_of(existing))
    text = _validate_send(sender_id, recipient_id, text)

    now = timezone.now()
    # A socket of the recipient on this process gets the message from this process itself.
    online = presence.has_local_socket(recipient_id) or presence.is_online(recipient_id)
    delivered_at = now if online else None
    message = Message(
        sender_id=sender_id,
        recipient_id=recipient_id,
        content=text,
        client_message_id=client_message_id or None,
        created_at=now,
        delivered_at=delivered_at,
    )
    # One PostgreSQL statement is atomic by itself: outside a caller's transaction it needs
    # no BEGIN/COMMIT round trips (on_commit then runs at once, after that statement).
    one_statement = connection.vendor == "postgresql" and not connection.in_atomic_block
    try:
        with nullcontext() if one_statement else transaction.atomic():
            _message_store(message, preview=text[:PREVIEW_LENGTH])
            transaction.on_commit(lambda: _announce_message(message, origin_sid))
    except IntegrityError:
        # Two sockets of one sender retried the same clientMessageId at once: the unique
        # constraint let one in; this one is the retry.
        existing = _existing_send(sender_id, client_message_id)
        if existing is None:
            raise
        return MessageSendResult(existing, created=False, status=_status_of(existing))
    return MessageSendResult(message, created=True, status=_status_of(message))


def _announce_message(message: Message, origin_sid: str | None) -> None:
    payload = events.receive_message_payload(message)
    emitter.emit(events.RECEIVE_MESSAGE, payload, room=events.user_room(message.recipient_id))
    # The sender's other tabs and devices show the message too; the sending socket already
    # has it and gets message_sent instead.
    emitter.emit(events.RECEIVE_MESSAGE, payload, room=events.user_room(message.sender_id), skip_sid=origin_sid)


def _mark_read(*, reader_id: str, where_sql: str, where_params: list, read_at) -> list[tuple[int, str]]:
    """Mark the reader's unread incoming messages matching `where_sql`; returns (id, sender) pairs.

    `AND is_read = false` in the UPDATE makes two concurrent marks count each message once:
    PostgreSQL re-checks it after the first one commits.
    """
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET is_read = %s, read_at = %s, delivered_at = COALESCE(delivered_at, %s) "
            f"WHERE to_clerk_id = %s AND is_read = %s AND {where_sql} RETURNING id, from_clerk_id",
            [True, _db_time(read_at), _db_time(read_at), reader_id, False, *where_params],
        )
        return sorted(cursor.fetchall())


def _announce_read(reader_id: str, read: list[tuple[int, str]], read_at) -> None:
    emitter.emit(
        events.MESSAGES_READ,
        events.messages_read_payload([message_id for message_id, _ in read], read_at),
        room=events.user_room(reader_id),
    )
    by_sender: dict[str, list[int]] = defaultdict(list)
    for message_id, sender_id in read:
        by_sender[sender_id].append(message_id)
    for sender_id, message_ids in by_sender.items():
        room = events.user_room(sender_id)
        emitter.emit(events.MESSAGES_READ, events.messages_read_payload(message_ids, read_at, reader_id), room=room)
        for message_id in message_ids:
            emitter.emit(
                events.MESSAGE_DELIVERED,
                events.message_delivered_payload(message_id, events.STATUS_READ, read_at),
                room=room,
            )


def messages_mark_read(*, reader_id: str, message_ids: list[int]) -> tuple[list[int], object]:
    """Mark these messages read, only those addressed to the reader; returns (newly read ids, time)."""
    message_ids_validate(message_ids)
    ids = sorted(set(message_ids))
    read_at = timezone.now()
    with transaction.atomic():
        placeholders = ", ".join(["%s"] * len(ids))
        read = _mark_read(reader_id=reader_id, where_sql=f"id IN ({placeholders})", where_params=ids, read_at=read_at)
        counts: dict[str, int] = defaultdict(int)
        for _, sender_id in read:
            counts[sender_id] += 1
        for sender_id, count in counts.items():
            Contact.objects.filter(owner_id=reader_id, contact_id=sender_id).update(
                unread_count=Greatest(F("unread_count") - count, 0)
            )
        if read:
            transaction.on_commit(lambda: _announce_read(reader_id, read, read_at))
    return [message_id for message_id, _ in read], read_at


def conversation_mark_read(*, reader_id: str, conversation_id: int) -> tuple[list[int], object]:
    """Mark every incoming message of a conversation read and reset the contact's unread count."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None or not conversation.has_participant(reader_id):
        raise NotFoundError("Conversation not found")
    read_at = timezone.now()
    with transaction.atomic():
        read = _mark_read(
            reader_id=reader_id, where_sql="conversation_id = %s", where_params=[conversation.pk], read_at=read_at
        )
        Contact.objects.filter(owner_id=reader_id, contact_id=conversation.other_user_id(reader_id)).update(
            unread_count=0
        )
        if read:
            transaction.on_commit(lambda: _announce_read(reader_id, read, read_at))
    return [message_id for message_id, _ in read], read_at


def messages_mark_delivered(*, recipient_id: str) -> list[int]:
    """A user connected: their undelivered incoming messages are delivered now; senders hear of it."""
    delivered_at = timezone.now()
    table = Message._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET delivered_at = %s WHERE to_clerk_id = %s AND delivered_at IS NULL "
            "RETURNING id, from_clerk_id",
            [_db_time(delivered_at), recipient_id],
        )
        delivered = sorted(cursor.fetchall())
        if delivered:
            transaction.on_commit(lambda: _announce_delivered(delivered, delivered_at))
    return [message_id for message_id, _ in delivered]


def _announce_delivered(delivered: list[tuple[int, str]], delivered_at) -> None:
    for message_id, sender_id in delivered:
        emitter.emit(
            events.MESSAGE_DELIVERED,
            events.message_delivered_payload(message_id, events.STATUS_DELIVERED, delivered_at),
            room=events.user_room(sender_id),
        )


# --- Moderation -------------------------------------------------------------------------------


def _previews_refresh(conversation_id: int) -> None:
    """Both participants' contact previews show the newest message not removed (or none).

    Otherwise a removed message would go on showing in GET /contacts.
    """
    conversation = Conversation.objects.get(pk=conversation_id)
    latest = (
        Message.objects.filter(conversation_id=conversation_id, removed_at__isnull=True)
        .order_by("-id")
        .values_list("content", flat=True)
        .first()
    )
    preview = latest[:PREVIEW_LENGTH] if latest is not None else None
    pair = [(conversation.user1_id, conversation.user2_id), (conversation.user2_id, conversation.user1_id)]
    for owner_id, contact_id in pair:
        Contact.objects.filter(owner_id=owner_id, contact_id=contact_id).update(last_message_preview=preview)


def _announce_removed(message: Message) -> None:
    payload = events.message_deleted_payload(message.id, message.conversation_id)
    for clerk_id in (message.sender_id, message.recipient_id):
        emitter.emit(events.MESSAGE_DELETED, payload, room=events.user_room(clerk_id))


def _moderated(message_id: int, removed_at) -> tuple[Message, bool]:
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            raise NotFoundError("Message not found")
        changed = (message.removed_at is None) != (removed_at is None)
        if changed:
            message.removed_at = removed_at
            message.save(update_fields=["removed_at"])
            _previews_refresh(message.conversation_id)
            if removed_at is not None:
                transaction.on_commit(lambda: _announce_removed(message))
    return message, changed


def message_remove(*, message_id: int, moderator=None) -> Message:
    """Hide a message's content from both participants; their sockets get message_deleted.

    Idempotent: removing a removed message changes and announces nothing.
    """
    message, changed = _moderated(message_id, timezone.now())
    log_event(logger, "message.removed", message_id=message.id, conversation_id=message.conversation_id,
              moderator=getattr(moderator, "pk", None), changed=changed)
    return message


def message_restore(*, message_id: int, moderator=None) -> Message:
    """Undo a removal. No realtime event exists for it: clients see the content on their next fetch."""
    message, changed = _moderated(message_id, None)
    log_event(logger, "message.restored", message_id=message.id, conversation_id=message.conversation_id,
              moderator=getattr(moderator, "pk", None), changed=changed)
    return message


def presence_sweep() -> tuple[list[str], list[str]]:
    """Clear crashed processes' presence leases and fix users.status (manage.py presence_sweep).

    Returns (users whose last lease expired, users marked online whom presence does not know).
    """
    from users.services import user_presence_refresh, users_presence_reconcile

    expired = presence.sweep()
    for clerk_id in expired:
        user_presence_refresh(clerk_id=clerk_id)
    stale = users_presence_reconcile()
    log_event(logger, "presence.swept", expired=len(expired), set_offline=len(stale))
    return expired, stale


# --- sockets and presence ---------------------------------------------------------------------
def socket_connect(*, clerk_id: str, sid: str) -> None:
    """A socket proved its user: presence, `users.status`, and delivery of what waited offline."""
    from users.selectors import user_connect_refusal
    from users.services import user_presence_refresh

    refusal = user_connect_refusal(clerk_id=clerk_id)
    if refusal is not None:
        raise ServiceError(refusal, code="account_disabled")
    presence.socket_connected(clerk_id, sid)
    # Every time, not only for the first socket: it also repairs a status a crash left wrong.
    user_presence_refresh(clerk_id=clerk_id)
    messages_mark_delivered(recipient_id=clerk_id)


def socket_disconnect(*, clerk_id: str, sid: str) -> None:
    from users.services import user_presence_refresh

    if presence.socket_disconnected(clerk_id, sid):
        user_presence_refresh(clerk_id=clerk_id)


def presence_heartbeat(*, reconcile: bool = False) -> None:
    """One beat of a server process: renew its leases, sweep crashed processes' ones."""
    from users.services import user_presence_refresh, users_presence_reconcile

    for clerk_id, sid in presence.renew():
        if presence.is_local(sid):
            presence.socket_connected(clerk_id, sid)
            user_presence_refresh(clerk_id=clerk_id)
    for clerk_id in presence.sweep():
        user_presence_refresh(clerk_id=clerk_id)
    if reconcile:
        users_presence_reconcile()


def typing_partner_check(*, sender_id: str, recipient_id: str) -> None:
    """Typing indicators go only where a message could."""
    if sender_id == recipient_id:
        raise ServiceError("Cannot type to yourself", code="self")
    recipient = User.objects.filter(clerk_id=recipient_id).only("is_active", "suspended_at").first()
    if recipient is None:
        raise ServiceError("Recipient not found", code="unknown_recipient")
    if not recipient.can_chat:
        raise ServiceError("Recipient cannot receive messages", code="recipient_unavailable")


# --- REST: the chat screen opens a conversation by the other user's id ----------------------
# (GET /conversations/with/{clerkId}/messages; kept apart from the realtime services above)
def conversation_open(*, clerk_id: str, other_clerk_id: str) -> Conversation:
    """The pair's conversation, created when missing. 404 for an unknown user; a deactivated
    user's existing conversation still opens (its history stays readable), a new one does not."""
    if clerk_id == other_clerk_id:
        raise ServiceError("Cannot open a conversation with yourself", code="self")
    users = {u.clerk_id: u for u in User.objects.filter(clerk_id__in=[clerk_id, other_clerk_id])}
    other = users.get(other_clerk_id)
    if other is None:
        raise NotFoundError("User not found")
    if clerk_id not in users:
        raise ServiceError("Create your profile first with POST /users", code="unknown_owner")
    user1, user2 = sorted((clerk_id, other_clerk_id))
    existing = Conversation.objects.filter(user1_id=user1, user2_id=user2).first()
    if existing is not None:
        return existing
    if not other.is_active:
        raise NotFoundError("User not found")
    try:
        return conversation_get_or_create(user_a=clerk_id, user_b=other_clerk_id)
    except IntegrityError as exc:
        # One of the two users was deleted between the check and the insert.
        raise NotFoundError("User not found") from exc
