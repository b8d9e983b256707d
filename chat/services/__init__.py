"""Writes of the chat app. Every transport (Socket.IO, REST, admin, commands) calls these.

Each service is one transaction (or one atomic statement); realtime events leave only after it
commits (`delivery.emitter.send_event_on_commit`), so a rolled-back write tells no one anything.
"""

from chat.services.connections import (
    socket_connect,
    socket_disconnect,
    sockets_change,
    typing_partner_check,
)
from chat.services.conversations import conversation_get_or_create, conversation_open
from chat.services.lifecycle import message_delete, message_edit
from chat.services.messages import MessageSendResult, SendRequest, message_send, messages_send_many
from chat.services.moderation import message_remove, message_restore
from chat.services.receipts import (
    conversation_mark_read,
    messages_delivery_confirm,
    messages_delivery_unconfirmed,
    messages_mark_delivered,
    messages_mark_delivered_many,
    messages_mark_read,
)
from chat.services.rules import message_ids_validate, message_text_validate

__all__ = [
    "MessageSendResult",
    "SendRequest",
    "conversation_get_or_create",
    "conversation_mark_read",
    "conversation_open",
    "message_delete",
    "message_edit",
    "message_ids_validate",
    "message_remove",
    "message_restore",
    "message_send",
    "message_text_validate",
    "messages_delivery_confirm",
    "messages_delivery_unconfirmed",
    "messages_mark_delivered",
    "messages_mark_delivered_many",
    "messages_mark_read",
    "messages_send_many",
    "socket_connect",
    "socket_disconnect",
    "sockets_change",
    "typing_partner_check",
]
