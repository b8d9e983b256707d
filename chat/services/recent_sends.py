"""The last send of each (sender, recipient) pair on this process, for the duplicate-send guard.

In eye-tracking mode the web app emits `send_message` twice for one gaze selection (a click and
an uncleared hover timer), without a clientMessageId. Both come from one socket, so they reach
the same process, one after the other (a socket's events are handled in order): remembering
each pair's last text for DUPLICATE_SEND_WINDOW_MS here is enough to recognise the second, at
no cost to the send path. Sends that carry a clientMessageId are never looked at here.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from chat.models import Message

_lock = threading.Lock()
# (sender, recipient) -> (text, message id, created_at), oldest first: entries are re-inserted
# when replaced, so expired ones are always at the front.
_last: dict[tuple[str, str], tuple[str, int, datetime]] = {}


def window() -> timedelta | None:
    ms = settings.DUPLICATE_SEND_WINDOW_MS
    return timedelta(milliseconds=ms) if ms > 0 else None


def repeated_message_id(sender_id: str, recipient_id: str, text: str, at: datetime) -> int | None:
    """The id of the message this send repeats, when it is the same text within the window."""
    span = window()
    if span is None:
        return None
    with _lock:
        last = _last.get((sender_id, recipient_id))
    if last is None:
        return None
    last_text, message_id, created_at = last
    return message_id if last_text == text and timedelta(0) <= at - created_at <= span else None


def remember(messages) -> None:
    """Record stored messages that carried no clientMessageId; forget what has expired."""
    span = window()
    if span is None:
        return
    with _lock:
        for message in messages:
            if not message.client_message_id:
                key = (message.sender_id, message.recipient_id)
                _last.pop(key, None)
                _last[key] = (message.content, message.pk, message.created_at)
        if _last:
            newest = next(reversed(_last.values()))[2]
            while _last:
                key, (_, _, created_at) = next(iter(_last.items()))
                if newest - created_at <= span:
                    break
                del _last[key]


# --- the guard as the send service applies it (sends: chat.services.messages.SendRequest) ----
def send_key(send) -> tuple | None:
    """Sends with equal keys are one send: the same clientMessageId, or, without one, the same
    text to the same recipient (within the duplicate-send window, see `repeats`)."""
    if send.client_message_id:
        return (send.sender_id, send.client_message_id)
    if window() is not None:
        return (send.sender_id, send.recipient_id, send.text)
    return None


def repeats(first, send) -> bool:
    if send.client_message_id:
        return True
    return send.received_at is None or first.received_at is None or send.received_at - first.received_at <= window()


def repeated_sends(sends) -> dict[int, Message]:
    """Sends without clientMessageId that repeat a message this process stored within the window."""
    ids = {
        i: message_id
        for i, s in enumerate(sends)
        if not s.client_message_id
        and (message_id := repeated_message_id(s.sender_id, s.recipient_id, s.text, s.received_at or timezone.now()))
    }
    found = Message.objects.in_bulk(set(ids.values())) if ids else {}
    return {i: found[message_id] for i, message_id in ids.items() if message_id in found}
