"""Sockets coming and going: presence, users.status, delivery of what waited offline."""

from __future__ import annotations

import logging

from biosync.errors import ServiceError
from biosync.logging import log_event
from chat.realtime import presence
from chat.services.receipts import messages_mark_delivered
from chat.services.storage import chat_states

logger = logging.getLogger(__name__)


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

    # Presence first, the check after: a suspension committing meanwhile either is seen here,
    # or finds this socket in presence when it disconnects the user's sockets after its commit.
    presence.socket_connected(clerk_id, sid)
    refusal = user_connect_refusal(clerk_id=clerk_id)
    if refusal is not None:
        presence.socket_disconnected(clerk_id, sid)
        raise ServiceError(refusal, code="account_disabled")
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
    states = chat_states(sender_id, recipient_id)
    sender, recipient = states.get(sender_id), states.get(recipient_id)
    if sender is not None and not sender.can_chat:
        # A socket can outlive its user's suspension by a moment (or on a process the disconnect did not reach).
        raise ServiceError("Your account cannot send messages", code="sender_suspended")
    if recipient is None:
        raise ServiceError("Recipient not found", code="unknown_recipient")
    if not recipient.can_chat:
        raise ServiceError("Recipient cannot receive messages", code="recipient_unavailable")
