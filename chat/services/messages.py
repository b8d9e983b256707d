"""Sending a message and opening a conversation."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from kernel import metrics
from kernel.errors import NotFoundError, ServiceError
from chat.models import Conversation, Message
from delivery import emitter, events, presence
from chat.services import recent_sends
from chat.services.storage import PREVIEW_LENGTH, ChatState, chat_states, db_time, message_store, write_block
from users.models import User


@dataclass(frozen=True)
class MessageSendResult:
    message: Message
    created: bool  # False: a retry of an already stored message (same clientMessageId)
    status: str  # "delivered" (recipient connected somewhere), "saved" or "read"


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
            [user1, user2, db_time(timezone.now())],
        )
    return Conversation.objects.get(user1_id=user1, user2_id=user2)


def _existing_send(sender_id: str, client_message_id: str | None) -> Message | None:
    if not client_message_id:
        return None
    return Message.objects.filter(sender_id=sender_id, client_message_id=client_message_id).first()


def _repeated_send(sender_id: str, recipient_id: str, text, client_message_id: str | None, now) -> Message | None:
    """The message a send without clientMessageId repeats within DUPLICATE_SEND_WINDOW_MS."""
    if client_message_id or not isinstance(text, str):
        return None
    message_id = recent_sends.repeated_message_id(sender_id, recipient_id, text, now)
    return Message.objects.filter(pk=message_id).first() if message_id is not None else None


def _status_of(message: Message) -> str:
    if message.is_read:
        return events.STATUS_READ
    return events.STATUS_DELIVERED if message.delivered_at else events.STATUS_SAVED


def retry_result(message: Message) -> MessageSendResult:
    """The answer to a send whose (sender, clientMessageId) is already stored: that message, untouched."""
    return MessageSendResult(message, created=False, status=_status_of(message))


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
    if "\x00" in text:
        # PostgreSQL cannot store it; refused here for every backend alike.
        raise ServiceError("Message text cannot contain NUL characters", code="invalid_text", details={"field": "text"})
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


def _validate_send(sender_id: str, recipient_id: str, text, users: dict[str, ChatState] | None = None) -> str:
    """`users`: the parties' chat states when the caller already read them (a batch)."""
    text = message_text_validate(text)
    if sender_id == recipient_id:
        raise ServiceError("Cannot send a message to yourself", code="self")
    if users is None:
        users = chat_states(sender_id, recipient_id)
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
    """Store one message and tell both users' sockets; `origin_sid`, the sending socket, gets
    `message_sent` and `message_delivered` first (see `announcements`). A retry (created=False)
    emits nothing: the caller answers it.

    Idempotent per (sender, client_message_id): a retry returns the stored message, untouched.
    """
    now = timezone.now()
    existing = _existing_send(sender_id, client_message_id) or _repeated_send(sender_id, recipient_id, text, client_message_id, now)
    if existing is not None:
        return retry_result(existing)
    text = _validate_send(sender_id, recipient_id, text)

    delivered_at = now if presence.online_now([recipient_id]) else None
    message = Message(
        sender_id=sender_id,
        recipient_id=recipient_id,
        content=text,
        client_message_id=client_message_id or None,
        created_at=now,
        delivered_at=delivered_at,
    )
    try:
        with write_block():
            message_store(message, preview=text[:PREVIEW_LENGTH])
            transaction.on_commit(lambda: _announce_message(message, origin_sid))
    except IntegrityError:
        # Two sockets of one sender retried the same clientMessageId at once: the unique
        # constraint let one in; this one is the retry.
        existing = _existing_send(sender_id, client_message_id)
        if existing is None:
            raise
        return retry_result(existing)
    recent_sends.remember([message])
    return MessageSendResult(message, created=True, status=_status_of(message))


def announcements(message: Message, origin_sid: str | None) -> list[tuple]:
    """The emits that tell both users' sockets about a newly stored message, for `emitter.emit_many`.

    Causal order, per socket, is the order of this list: the sending socket's confirmation
    (`message_sent`, then `message_delivered`) leaves before anyone can see the message, so a
    read receipt, which needs the recipient to have seen it, can never overtake it.
    """
    payload = events.receive_message_payload(message)
    confirmation = []
    if origin_sid is not None:
        delivered = events.message_delivered_payload(message.id, _status_of(message), message.created_at)
        confirmation = [
            # The sending socket is on this process: delivered here, never published.
            emitter.LocalEmit(events.MESSAGE_SENT, events.message_sent_payload(message), origin_sid),
            emitter.LocalEmit(events.MESSAGE_DELIVERED, delivered, origin_sid),
        ]
    return [
        *confirmation,
        # The sender's other tabs and devices show the message too; the sending socket already
        # has it and got message_sent instead.
        (events.RECEIVE_MESSAGE, payload, events.user_room(message.sender_id), origin_sid),
        (events.RECEIVE_MESSAGE, payload, events.user_room(message.recipient_id), None),
    ]


def _announce_message(message: Message, origin_sid: str | None) -> None:
    emitter.emit_many(announcements(message, origin_sid))


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
