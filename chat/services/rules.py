"""The rules of a send, shared by every transport and by the send service: what text may be
sent, to whom, and what status a stored message has."""

from __future__ import annotations

from django.conf import settings

from chat.models import Message
from chat.services.storage import ChatState, chat_states
from delivery import events
from kernel.errors import ServiceError


def message_status(message: Message) -> str:
    """ "read", "delivered" (it reached a connected recipient) or "saved" (waiting for them)."""
    if message.is_read:
        return events.STATUS_READ
    return events.STATUS_DELIVERED if message.delivered_at else events.STATUS_SAVED


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


def message_send_validate(sender_id: str, recipient_id: str, text, users: dict[str, ChatState] | None = None) -> str:
    """`users`: the parties' chat states when the caller already read them (a batch)."""
    text = message_text_validate(text)
    if sender_id == recipient_id:
        raise ServiceError("Cannot send a message to yourself", code="self")
    if users is None:
        users = chat_states(sender_id, recipient_id, pairs=[(recipient_id, sender_id)])
    sender, recipient = users.get(sender_id), users.get(recipient_id)
    if sender is None:
        raise ServiceError("Sender has no profile; create it first with POST /users", code="unknown_sender")
    if not sender.can_chat:
        raise ServiceError("Your account cannot send messages", code="sender_suspended")
    if recipient is None:
        raise ServiceError("Recipient not found", code="unknown_recipient")
    if not recipient.accepts_from(sender_id):
        # A block is refused exactly as a deactivated account: the blocked user learns nothing more.
        raise ServiceError("Recipient cannot receive messages", code="recipient_unavailable")
    return text
