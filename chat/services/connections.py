"""Sockets coming and going, as the Socket.IO layer reports them: who may connect, presence
(decided by users.presence), and delivery of what waited while the user was offline."""

from __future__ import annotations

from chat.services.receipts import messages_mark_delivered
from kernel.errors import ServiceError
from users.models import User
from users.presence import user_socket_connected, user_socket_disconnected
from users.selectors import user_connect_refusal


def socket_connect(*, clerk_id: str, sid: str) -> None:
    """A socket proved its user: presence, `users.status`, and delivery of what waited offline."""
    refusal = user_connect_refusal(clerk_id=clerk_id)
    if refusal is not None:
        raise ServiceError(refusal, code="account_disabled")
    user_socket_connected(clerk_id=clerk_id, sid=sid)
    messages_mark_delivered(recipient_id=clerk_id)


def socket_disconnect(*, clerk_id: str, sid: str) -> None:
    user_socket_disconnected(clerk_id=clerk_id, sid=sid)


def typing_partner_check(*, sender_id: str, recipient_id: str) -> None:
    """Typing indicators go only where a message could."""
    if sender_id == recipient_id:
        raise ServiceError("Cannot type to yourself", code="self")
    recipient = User.objects.filter(clerk_id=recipient_id).only("is_active", "suspended_at").first()
    if recipient is None:
        raise ServiceError("Recipient not found", code="unknown_recipient")
    if not recipient.can_chat:
        raise ServiceError("Recipient cannot receive messages", code="recipient_unavailable")
