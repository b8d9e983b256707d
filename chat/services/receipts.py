"""Read and delivery receipts: who read or received what, told to every socket of the sender."""

from __future__ import annotations

from collections import defaultdict

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from changelog.services import changes_record
from chat.models import Conversation, Message
from chat.services.rules import message_ids_validate
from chat.services.storage import db_time
from contacts.models import Contact
from delivery import emitter, events
from kernel.errors import NotFoundError


def _mark_read(*, reader_id: str, where_sql: str, where_params: list, read_at) -> list[tuple[int, str]]:
    """Mark the reader's unread incoming messages matching `where_sql`; returns (id, sender) pairs.

    `AND is_read = false` in the UPDATE makes two concurrent marks count each message once:
    PostgreSQL re-checks it after the first one commits. A message its sender deleted was
    taken out of the unread count then (`unread_recount`), so it is never counted again here.
    """
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET is_read = %s, read_at = %s, delivered_at = COALESCE(delivered_at, %s) "
            f"WHERE to_clerk_id = %s AND is_read = %s AND deleted_at IS NULL AND {where_sql} "
            "RETURNING id, from_clerk_id",
            [True, db_time(read_at), db_time(read_at), reader_id, False, *where_params],
        )
        return sorted(cursor.fetchall())


def _by_sender(read: list[tuple[int, str]]) -> dict[str, list[int]]:
    by_sender: dict[str, list[int]] = defaultdict(list)
    for message_id, sender_id in read:
        by_sender[sender_id].append(message_id)
    return by_sender


def _read_events(reader_id: str, read: list[tuple[int, str]], read_at) -> list[tuple]:
    """The reader's devices learn what they read; each sender's devices get the receipts."""
    emits = [
        (
            events.MESSAGES_READ,
            events.messages_read_payload([i for i, _ in read], read_at),
            events.user_room(reader_id),
            None,
        )
    ]
    for sender_id, message_ids in _by_sender(read).items():
        room = events.user_room(sender_id)
        emits.append((events.MESSAGES_READ, events.messages_read_payload(message_ids, read_at, reader_id), room, None))
        for message_id in message_ids:
            emits.append(
                (
                    events.MESSAGE_DELIVERED,
                    events.message_delivered_payload(message_id, events.STATUS_READ, read_at),
                    room,
                    None,
                )
            )
    return emits


def _read_changes(reader_id: str, read: list[tuple[int, str]], read_at) -> list[tuple[str, str, dict]]:
    """Read receipts for the senders' change logs: one entry per sender, as messages_read."""
    return [
        (sender_id, events.MESSAGES_READ, events.messages_read_payload(ids, read_at, read_by=reader_id))
        for sender_id, ids in _by_sender(read).items()
    ]


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
            changes_record(changes=_read_changes(reader_id, read, read_at))
            emitter.send_event_on_commit(_read_events(reader_id, read, read_at))
    return [message_id for message_id, _ in read], read_at


def unread_recount(*, reader_id: str, conversation: Conversation) -> None:
    """Set the reader's unread count of the conversation to its messages still unread (and not
    deleted by their sender), not to 0.

    A send that committed after our UPDATE of messages is unread and must stay counted. The
    contact row is locked first (a send locks it too, after inserting its message): once we
    hold it, every send that locked it before has committed and the COUNT (a new statement,
    so a new snapshot) sees its message; every later send waits, and adds its +1 after our commit.
    """
    contact = Contact.objects.filter(owner_id=reader_id, contact_id=conversation.other_user_id(reader_id))
    if not list(contact.select_for_update().values_list("pk", flat=True)):
        return
    unread = Message.objects.filter(
        recipient_id=reader_id, conversation=conversation, is_read=False, deleted_at__isnull=True
    ).count()
    contact.update(unread_count=unread)


def conversation_mark_read(*, reader_id: str, conversation_id: int) -> tuple[list[int], object]:
    """Mark every incoming message of a conversation read; the contact's unread count follows."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None or not conversation.has_participant(reader_id):
        raise NotFoundError("Conversation not found")
    read_at = timezone.now()
    with transaction.atomic():
        read = _mark_read(
            reader_id=reader_id, where_sql="conversation_id = %s", where_params=[conversation.pk], read_at=read_at
        )
        unread_recount(reader_id=reader_id, conversation=conversation)
        if read:
            changes_record(changes=_read_changes(reader_id, read, read_at))
            emitter.send_event_on_commit(_read_events(reader_id, read, read_at))
    return [message_id for message_id, _ in read], read_at


def messages_mark_delivered(*, recipient_id: str) -> list[int]:
    """A user connected: their undelivered incoming messages are delivered now; senders hear of it."""
    return messages_mark_delivered_many(recipient_ids=[recipient_id])


def messages_mark_delivered_many(*, recipient_ids) -> list[int]:
    """`messages_mark_delivered` for several users who connected, in one statement."""
    recipients = sorted(set(recipient_ids))
    return _mark_delivered("to_clerk_id", recipients) if recipients else []


def _mark_delivered(column: str, values: list) -> list[int]:
    """Mark delivered now the undelivered messages whose `column` (a fixed name, never input) is
    one of `values`, in one statement; their senders hear of it after commit."""
    delivered_at = timezone.now()
    table = Message._meta.db_table
    marks = ", ".join(["%s"] * len(values))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET delivered_at = %s WHERE {column} IN ({marks}) AND delivered_at IS NULL "
            "RETURNING id, from_clerk_id",
            [db_time(delivered_at), *values],
        )
        delivered = sorted(cursor.fetchall())
        if delivered:
            emitter.send_event_on_commit(_delivered_events(delivered, delivered_at))
    return [message_id for message_id, _ in delivered]


def _delivered_events(delivered: list[tuple[int, str]], delivered_at) -> list[tuple]:
    return [
        (
            events.MESSAGE_DELIVERED,
            events.message_delivered_payload(message_id, events.STATUS_DELIVERED, delivered_at),
            events.user_room(sender_id),
            None,
        )
        for message_id, sender_id in delivered
    ]


def messages_delivery_confirm(*, message_ids: list[int]) -> list[int]:
    """These messages reached a live socket of their recipient on this process: delivered now,
    unless they already were (or were read); their senders hear of it. Returns the newly delivered."""
    ids = sorted(set(message_ids))
    return _mark_delivered("id", ids) if ids else []


def messages_delivery_unconfirmed(*, message_ids: list[int]) -> list[int]:
    """Messages announced "delivered" from another process's presence lease that no socket has
    received yet (that process died, or Redis is down): their senders are told "saved" again,
    and hear "delivered" when one does. Returns those corrected."""
    if not message_ids:
        return []
    with transaction.atomic():
        # Locked: a confirmation racing with us commits after our correction, and is told after it.
        rows = list(
            Message.objects.select_for_update()
            .filter(pk__in=message_ids, delivered_at__isnull=True, deleted_at__isnull=True)
            .order_by("pk")
            .values_list("pk", "sender_id", "created_at")
        )
        emitter.send_event_on_commit([
            (events.MESSAGE_DELIVERED, events.message_delivered_payload(pk, events.STATUS_SAVED, created_at),
             events.user_room(sender_id), None)
            for pk, sender_id, created_at in rows
        ])  # fmt: skip
    return [pk for pk, _, _ in rows]
