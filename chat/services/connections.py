"""Sockets coming and going, as the Socket.IO layer reports them: who may connect, presence
(decided by users.presence), and delivery of what waited while the user was offline."""

from __future__ import annotations

from chat.services.receipts import messages_mark_delivered_many
from chat.services.storage import chat_states
from kernel.errors import ServiceError
from users.presence import user_sockets_changed


def socket_connect(*, clerk_id: str, sid: str) -> None:
    """A socket proved its user: presence (refused for a suspended or deleted user), `users.status`,
    and delivery of what waited offline."""
    refusal = sockets_change(changes=[(True, clerk_id, sid)])[0]
    if refusal is not None:
        raise refusal


def socket_disconnect(*, clerk_id: str, sid: str) -> None:
    sockets_change(changes=[(False, clerk_id, sid)])


def sockets_change(*, changes: list[tuple[bool, str, str]]) -> list[ServiceError | None]:
    """`socket_connect` (True, clerk id, sid) and `socket_disconnect` (False, ...) for a batch of
    sockets, in this order, in a fixed number of round trips. Returns each arrival's refusal."""
    refusals = user_sockets_changed(changes=changes)
    arrived = [clerk_id for (connected, clerk_id, _), refusal in zip(changes, refusals) if connected and not refusal]
    messages_mark_delivered_many(recipient_ids=arrived)
    return [ServiceError(refusal, code="account_disabled") if refusal else None for refusal in refusals]


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
