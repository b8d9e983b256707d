"""The shape of what clients send: anything (a string, a number, null, a list, nested objects)
becomes either values of the right types or a ServiceError the namespace answers with; never an
exception that kills the handler. The rules (text length, ids) are the services' own.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel.errors import ServiceError
from users.models import valid_clerk_id

CLIENT_MESSAGE_ID_MAX = 100  # chat.models.Message.client_message_id


def _kind(value) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(type(value), type(value).__name__)


def _object(data) -> dict:
    if not isinstance(data, dict):
        raise ServiceError("Payload must be an object", code="invalid_payload", details={"got": _kind(data)})
    return data


def _invalid(field: str, message: str, value) -> ServiceError:
    return ServiceError(message, code="invalid_payload", details={"field": field, "got": _kind(value)})


def _sender(data: dict, clerk_id: str) -> None:
    claimed = data.get("fromClerkId")
    if claimed != clerk_id:
        # Missing, blank or someone else: nobody acts as another user.
        raise ServiceError(
            "fromClerkId must be the registered user of this socket",
            code="forbidden",
            details={"field": "fromClerkId"},
        )


def _recipient(data: dict) -> str:
    value = data.get("toClerkId")
    if not valid_clerk_id(value):
        raise _invalid("toClerkId", "toClerkId must be a user id", value)
    return value


@dataclass(frozen=True)
class Send:
    recipient_id: str
    text: str
    client_message_id: str | None


def client_message_id_of(data) -> str | None:
    """The clientMessageId to echo in a failure, when the payload has a usable one."""
    if isinstance(data, dict):
        value = data.get("clientMessageId")
        if isinstance(value, str) and 0 < len(value) <= CLIENT_MESSAGE_ID_MAX and "\x00" not in value:
            return value
    return None


def send_message(data, clerk_id: str) -> Send:
    data = _object(data)
    _sender(data, clerk_id)
    recipient_id = _recipient(data)
    text = data.get("text")
    if not isinstance(text, str):
        raise _invalid("text", "text must be a non-empty string", text)
    client_id = data.get("clientMessageId")
    if client_id is not None and client_message_id_of(data) is None:
        raise _invalid(
            "clientMessageId",
            f"clientMessageId must be a string of 1 to {CLIENT_MESSAGE_ID_MAX} characters, without NUL",
            client_id,
        )
    return Send(recipient_id=recipient_id, text=text, client_message_id=client_id)


def typing(data, clerk_id: str) -> str:
    data = _object(data)
    _sender(data, clerk_id)
    return _recipient(data)


def mark_as_read(data) -> list[int]:
    data = _object(data)
    ids = data.get("messageIds")
    if not isinstance(ids, list):
        raise _invalid("messageIds", "messageIds must be a non-empty list of message ids", ids)
    return ids


def register_user(data):
    """The claimed clerkId (checked by users.identity), or None when the payload has none."""
    if data is None:
        return None
    return _object(data).get("clerkId")


def _message_id(data: dict) -> int:
    value = data.get("messageId")
    if type(value) is not int or not 0 < value < 2**63:
        raise _invalid("messageId", "messageId must be a message id (a positive integer)", value)
    return value


def edit_message(data) -> tuple[int, str]:
    """(messageId, text); the text's rules are the send's own (chat.services.rules)."""
    data = _object(data)
    message_id = _message_id(data)
    text = data.get("text")
    if not isinstance(text, str):
        raise _invalid("text", "text must be a non-empty string", text)
    return message_id, text


def delete_message(data) -> int:
    return _message_id(_object(data))


def suggest(data) -> tuple[object, object]:
    """(text, toClerkId) of a `suggest`; their rules (length, types) are the selector's."""
    data = _object(data)
    text = data.get("text", "")
    if not isinstance(text, str):
        raise _invalid("text", "text must be a string", text)
    to_clerk_id = data.get("toClerkId")
    if to_clerk_id is not None and not valid_clerk_id(to_clerk_id):
        raise _invalid("toClerkId", "toClerkId must be a user id", to_clerk_id)
    return text, to_clerk_id
