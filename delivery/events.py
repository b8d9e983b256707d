"""Socket.IO event names, room names and payload builders: the wire protocol in one place.

Names and fields follow the seed server's README and what its frontend reads
(../shared/seed/frontend-contract.md); several payloads carry two names for one value
because the README and the frontend disagree.
"""

from kernel.timestamps import iso_z

# Client → server
REGISTER_USER = "register_user"
SEND_MESSAGE = "send_message"
MARK_AS_READ = "mark_as_read"
TYPING_START = "typing_start"
TYPING_STOP = "typing_stop"
EDIT_MESSAGE = "edit_message"
DELETE_MESSAGE = "delete_message"
SUGGEST = "suggest"

# Server → client
REGISTERED = "registered"
MESSAGE_SENT = "message_sent"
MESSAGE_DELIVERED = "message_delivered"
MESSAGE_FAILED = "message_failed"
RECEIVE_MESSAGE = "receive_message"
MESSAGES_READ = "messages_read"
USER_TYPING = "user_typing"
USER_STATUS = "user_status"
MESSAGE_DELETED = "message_deleted"
MESSAGE_EDITED = "message_edited"
PHRASES_CHANGED = "phrases_changed"
PREFERENCES_UPDATED = "preferences_updated"
ERROR = "error"

# The events a reconnecting socket is sent again when it missed them (connection state
# recovery, /sync's realtime twin): those that change what a user sees. A new such event is one
# more line here. Typing and presence are not: a stale "typing…" or status is worse than none.
RECOVERABLE_EVENTS = frozenset({
    RECEIVE_MESSAGE,
    MESSAGE_DELIVERED,
    MESSAGES_READ,
    MESSAGE_EDITED,
    MESSAGE_DELETED,
})  # fmt: skip

STATUS_DELIVERED = "delivered"
STATUS_SAVED = "saved"
STATUS_READ = "read"

# Who took a message away (message_deleted's deletedBy).
DELETED_BY_SENDER = "sender"
DELETED_BY_MODERATOR = "moderator"


_USER_ROOM_PREFIX = "user:"


def user_room(clerk_id: str) -> str:
    """Every socket of a user joins this room: multi-device delivery is an emit to it."""
    return f"{_USER_ROOM_PREFIX}{clerk_id}"


def user_of_room(room) -> str | None:
    """The user whose room this is (see user_room), or None for any other room or a socket id."""
    if isinstance(room, str) and room.startswith(_USER_ROOM_PREFIX):
        return room[len(_USER_ROOM_PREFIX) :]
    return None


def receive_message_payload(message) -> dict:
    return {
        "messageId": message.id,
        "from": message.sender_id,
        "fromClerkId": message.sender_id,
        "toClerkId": message.recipient_id,
        "text": message.content,
        "content": message.content,
        "timestamp": iso_z(message.created_at),
        "conversationId": message.conversation_id,
        "messageType": message.message_type,
        "clientMessageId": message.client_message_id,
        "editedAt": iso_z(message.edited_at),
    }


def message_sent_payload(message) -> dict:
    return {
        "messageId": message.id,
        "conversationId": message.conversation_id,
        "timestamp": iso_z(message.created_at),
        "clientMessageId": message.client_message_id,
    }


def message_delivered_payload(message_id: int, status: str, timestamp) -> dict:
    return {"messageId": message_id, "status": status, "timestamp": iso_z(timestamp)}


def send_ack_payload(message, status: str) -> dict:
    return {
        "success": True,
        "messageId": message.id,
        "conversationId": message.conversation_id,
        "status": status,
        "timestamp": iso_z(message.created_at),
        "clientMessageId": message.client_message_id,
    }


def failure_payload(error: str, details=None) -> dict:
    body = {"success": False, "error": error}
    if details is not None:
        body["details"] = details
    return body


def messages_read_payload(message_ids: list[int], read_at, read_by: str | None = None) -> dict:
    body = {"messageIds": message_ids, "readAt": iso_z(read_at)}
    if read_by is not None:
        body["readBy"] = read_by
    return body


def user_typing_payload(clerk_id: str, is_typing: bool) -> dict:
    return {"userId": clerk_id, "fromClerkId": clerk_id, "isTyping": is_typing}


def user_status_payload(clerk_id: str, status: str, last_seen) -> dict:
    return {"clerkId": clerk_id, "status": status, "lastSeen": iso_z(last_seen)}


def message_deleted_payload(message_id: int, conversation_id: int, deleted_by: str) -> dict:
    return {"messageId": message_id, "conversationId": conversation_id, "deletedBy": deleted_by}


def message_edited_payload(message) -> dict:
    return {
        "messageId": message.id,
        "conversationId": message.conversation_id,
        "text": message.content,
        "content": message.content,
        "editedAt": iso_z(message.edited_at),
    }


def registered_payload(clerk_id: str, sid: str) -> dict:
    return {"success": True, "clerkId": clerk_id, "socketId": sid}


def message_failed_payload(error: str, details=None, client_message_id=None) -> dict:
    body = {"error": error}
    if details is not None:
        body["details"] = details
    if client_message_id is not None:
        body["clientMessageId"] = client_message_id
    return body


def error_payload(event: str, error: str, details=None) -> dict:
    """The `error` event: which client event failed, and why."""
    body = {"event": event, "error": error}
    if details is not None:
        body["details"] = details
    return body


def phrases_changed_payload(action: str, phrase: dict) -> dict:
    """A phrase board changed on one device: `action` is created, updated or deleted."""
    return {"action": action, "phrase": phrase}


def preferences_updated_payload(preferences: dict) -> dict:
    return {"preferences": preferences}
