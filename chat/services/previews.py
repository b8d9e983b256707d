"""Contact-list previews that follow a message's later changes (removal, edit, deletion)."""

from __future__ import annotations

from chat.models import Conversation, Message
from chat.services.storage import PREVIEW_LENGTH
from contacts.models import Contact


def previews_refresh(*, conversation_id: int) -> None:
    """Both participants' contact previews show the newest message still shown (or none).

    Otherwise a removed, deleted or edited message would go on showing its old text in GET /contacts.
    """
    conversation = Conversation.objects.get(pk=conversation_id)
    latest = (
        Message.objects.filter(conversation_id=conversation_id, removed_at__isnull=True, deleted_at__isnull=True)
        .order_by("-id")
        .values_list("content", flat=True)
        .first()
    )
    preview = latest[:PREVIEW_LENGTH] if latest is not None else None
    pair = [(conversation.user1_id, conversation.user2_id), (conversation.user2_id, conversation.user1_id)]
    for owner_id, contact_id in pair:
        Contact.objects.filter(owner_id=owner_id, contact_id=contact_id).update(last_message_preview=preview)
