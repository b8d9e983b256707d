"""A sender's own later changes to a message: editing it, and deleting it for everyone.

Both users' sockets hear of each change after commit; the contact previews (and, for a
deletion, the recipient's unread count) follow in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from changelog.services import changes_record
from chat.models import Conversation, Message, MessageEdit
from chat.services.previews import previews_refresh
from chat.services.receipts import unread_recount
from chat.services.rules import message_text_validate
from chat.services.storage import chat_states
from chat.signals import message_hidden
from delivery import emitter, events
from kernel.errors import ForbiddenError, NotFoundError, ServiceError
from kernel.logging import log_event

logger = logging.getLogger(__name__)


def _own_message(*, message_id: int, clerk_id: str, verb: str) -> Message:
    """The caller's own message, locked; anyone else's conversation answers like a missing message."""
    if type(message_id) is not int or not 0 < message_id < 2**63:
        raise ServiceError("messageId must be a positive integer", code="invalid_id", details={"field": "messageId"})
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None or clerk_id not in (message.sender_id, message.recipient_id):
        raise NotFoundError("Message not found")
    if message.sender_id != clerk_id:
        raise ForbiddenError(f"You can only {verb} your own messages")
    return message


def _announce_to_both(message: Message, name: str, payload: dict) -> None:
    """Both users' change logs (GET /sync) get the event, and after commit their sockets."""
    users = (message.sender_id, message.recipient_id)
    changes_record(changes=[(clerk_id, name, payload) for clerk_id in users])
    emitter.send_event_on_commit([(name, payload, events.user_room(clerk_id), None) for clerk_id in users])


def _duration(seconds: int) -> str:
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60} minute{'s' if seconds != 60 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _editable(message: Message, now) -> None:
    if message.deleted_at is not None:
        raise ServiceError("This message was deleted and cannot be edited", code="deleted")
    if message.removed_at is not None:
        raise ServiceError("This message was removed by a moderator and cannot be edited", code="removed")
    window = settings.MESSAGE_EDIT_WINDOW_SECONDS
    if now - message.created_at > timedelta(seconds=window):
        raise ServiceError(
            f"Messages can be edited only within {_duration(window)} of sending",
            code="edit_window_closed",
            details={"windowSeconds": window},
        )
    sender = chat_states(message.sender_id, pairs=[]).get(message.sender_id)
    if sender is None or not sender.can_chat:
        raise ServiceError("Your account cannot send messages", code="sender_suspended")


def message_edit(*, editor_id: str, message_id: int, text) -> Message:
    """Replace the text of the editor's own message, within MESSAGE_EDIT_WINDOW_SECONDS of sending.

    The same text rules as a send apply. The earlier version is kept for moderators
    (MessageEdit); both users' sockets get message_edited. Sending the text it already has
    changes and announces nothing (a retried edit).
    """
    text = message_text_validate(text)
    now = timezone.now()
    with transaction.atomic():
        message = _own_message(message_id=message_id, clerk_id=editor_id, verb="edit")
        _editable(message, now)
        if text == message.content:
            return message
        MessageEdit.objects.create(
            message=message,
            content=message.content,
            written_at=message.edited_at or message.created_at,
            replaced_at=now,
        )
        message.content, message.edited_at = text, now
        message.save(update_fields=["content", "edited_at"])
        previews_refresh(conversation_id=message.conversation_id)
        _announce_to_both(message, events.MESSAGE_EDITED, events.message_edited_payload(message))
    log_event(
        logger, "message.edited", message_id=message.id, conversation_id=message.conversation_id, length=len(text)
    )
    return message


def message_delete(*, deleter_id: str, message_id: int) -> Message:
    """Delete the deleter's own message for everyone: it keeps its place, its content hidden.

    Both users' sockets get message_deleted (deletedBy "sender"); the previews move to the
    newest message still shown and the recipient's unread count drops it. Idempotent: deleting
    a deleted message succeeds and announces nothing.
    """
    with transaction.atomic():
        message = _own_message(message_id=message_id, clerk_id=deleter_id, verb="delete")
        if message.deleted_at is not None:
            return message
        message.deleted_at = timezone.now()
        message.save(update_fields=["deleted_at"])
        previews_refresh(conversation_id=message.conversation_id)
        conversation = Conversation.objects.get(pk=message.conversation_id)
        unread_recount(reader_id=message.recipient_id, conversation=conversation)
        payload = events.message_deleted_payload(message.id, message.conversation_id, events.DELETED_BY_SENDER)
        _announce_to_both(message, events.MESSAGE_DELETED, payload)
        # Apps above chat (typing assistance) forget the text, as for a moderator's removal.
        message_hidden.send(sender=Message, message=message)
    log_event(logger, "message.deleted", message_id=message.id, conversation_id=message.conversation_id)
    return message
