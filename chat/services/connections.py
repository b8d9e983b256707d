"""Sockets coming and going, as the Socket.IO layer reports them: who may connect, presence
(decided by users.presence), and delivery of what waited while the user was offline."""

from __future__ import annotations

from chat.services.receipts import messages_mark_delivered
from chat.services.storage import chat_states
from kernel.errors import ServiceError
from users.presence import user_socket_connected, user_socket_disconnected


def socket_connect(*, clerk_id: str, sid: str) -> None:
    """A socket proved its user: presence (refused for a suspended or deleted user), `users.status`,
    and delivery of what waited offline."""
    user_socket_connected(clerk_id=clerk_id, sid=sid)
    messages_mark_delivered(recipient_id=clerk_id)


def socket_disconnect(*, clerk_id: str, sid: str) -> None:
    user_socket_disconnected(clerk_id=clerk_id, sid=sid)


def typing_partner_check(*, sender_id: str, recipient_id: str) -> None:
    """Typing indicators go only where a message could (not to a user who blocks the typist)."""
    if sender_id == recipient_id:
        raise ServiceError("Cannot type to yourself", code="self")
    states = chat_states(sender_id, recipient_id, pairs=[(recipient_id, sender_id)])
    sender, recipient = states.get(sender_id), states.get(recipient_id)
    if sender is not None and not sender.can_chat:
        # A socket can outlive its user's suspension by a moment (or on a process the disconnect did not reach).
        raise ServiceError("Your account cannot send messages", code="sender_suspended")
    if recipient is None:
        raise ServiceError("Recipient not found", code="unknown_recipient")
    if not recipient.accepts_from(sender_id):
        raise ServiceError("Recipient cannot receive messages", code="recipient_unavailable")
