"""Moderators' actions on messages (admin)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from changelog.services import changes_record
from chat.models import Message
from chat.services.previews import previews_refresh
from chat.signals import message_hidden, message_shown
from delivery import emitter, events
from kernel.errors import NotFoundError
from kernel.logging import log_event

logger = logging.getLogger(__name__)


# --- Moderation -------------------------------------------------------------------------------


def _removed_events(message: Message) -> list[tuple]:
    payload = events.message_deleted_payload(message.id, message.conversation_id, events.DELETED_BY_MODERATOR)
    return [
        (events.MESSAGE_DELETED, payload, events.user_room(clerk_id), None)
        for clerk_id in (message.sender_id, message.recipient_id)
    ]


def _moderated(message_id: int, removed_at) -> tuple[Message, bool]:
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            raise NotFoundError("Message not found")
        changed = (message.removed_at is None) != (removed_at is None)
        if changed:
            message.removed_at = removed_at
            message.save(update_fields=["removed_at"])
            previews_refresh(conversation_id=message.conversation_id)
            if removed_at is not None:
                payload = events.message_deleted_payload(
                    message.id, message.conversation_id, events.DELETED_BY_MODERATOR
                )
                changes_record(
                    changes=[(c, events.MESSAGE_DELETED, payload) for c in (message.sender_id, message.recipient_id)]
                )
                message_hidden.send(sender=Message, message=message)
                emitter.send_event_on_commit(_removed_events(message))
            else:
                message_shown.send(sender=Message, message=message)
    return message, changed


def message_remove(*, message_id: int, moderator=None) -> Message:
    """Hide a message's content from both participants; their sockets get message_deleted
    (deletedBy "moderator").

    Idempotent: removing a removed message changes and announces nothing.
    """
    message, changed = _moderated(message_id, timezone.now())
    log_event(
        logger,
        "message.removed",
        message_id=message.id,
        conversation_id=message.conversation_id,
        moderator=getattr(moderator, "pk", None),
        changed=changed,
    )
    return message


def message_restore(*, message_id: int, moderator=None) -> Message:
    """Undo a removal. No realtime event exists for it: clients see the content on their next fetch."""
    message, changed = _moderated(message_id, None)
    log_event(
        logger,
        "message.restored",
        message_id=message.id,
        conversation_id=message.conversation_id,
        moderator=getattr(moderator, "pk", None),
        changed=changed,
    )
    return message
