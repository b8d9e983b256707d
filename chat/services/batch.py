"""Sending many messages in one go: what the socket layer does when sends arrive faster than
one database round trip each. Each send gets the outcome `message_send` would give it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from biosync import metrics
from biosync.errors import ServiceError
from chat.models import Message
from chat.realtime import emitter, presence
from chat.services.messages import (
    MessageSendResult,
    _status_of,
    _validate_send,
    announcements,
    message_send,
    retry_result,
)
from chat.services.storage import PREVIEW_LENGTH, chat_states, message_store, messages_store_many, write_block

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendRequest:
    sender_id: str
    recipient_id: str
    text: str
    client_message_id: str | None = None
    origin_sid: str | None = None  # answered by the caller; the sender's other sockets get receive_message
    received_at: datetime | None = None  # becomes the message's created_at


Outcome = MessageSendResult | ServiceError


def messages_send_many(*, sends: list[SendRequest]) -> list[Outcome]:
    """The outcome of each send, in order: a result, or the ServiceError that refused it.

    One read of the parties and of earlier copies (retries), one presence look-up and one write
    for them all: on PostgreSQL two round trips, on SQLite one transaction. Ids follow the
    order of `sends`. If the write fails as a whole (a party deleted meanwhile, a retry racing
    on SQLite, the database down), each send is tried alone, so that only its own failure reaches it.
    """
    if not sends:
        return []
    started = time.perf_counter()
    outcomes: list[Outcome | None] = [None] * len(sends)
    earlier = _stored_copies(sends)
    users = chat_states(*{clerk_id for s in sends for clerk_id in (s.sender_id, s.recipient_id)})
    first_of: dict[tuple[str, str], int] = {}
    repeats: dict[int, int] = {}
    todo: list[int] = []
    for i, send in enumerate(sends):
        key = (send.sender_id, send.client_message_id) if send.client_message_id else None
        if key in earlier:
            outcomes[i] = retry_result(earlier[key])
        elif key in first_of:
            repeats[i] = first_of[key]  # two sockets of one sender retrying at once
        else:
            try:
                _validate_send(send.sender_id, send.recipient_id, send.text, users)
            except ServiceError as exc:
                outcomes[i] = exc
                continue
            if key:
                first_of[key] = i
            todo.append(i)
    if todo:
        try:
            for i, outcome in zip(todo, _store([sends[i] for i in todo], started)):
                outcomes[i] = outcome
        except DatabaseError:
            # One send the database refuses (a party deleted meanwhile, a retry racing on
            # SQLite) must not fail the others with it.
            logger.warning("a batch of %d sends failed as a whole; writing each alone", len(todo), exc_info=True)
            for i in todo:
                outcomes[i] = _send_alone(sends[i])
    for i, first in repeats.items():
        outcome = outcomes[first]
        outcomes[i] = outcome if isinstance(outcome, ServiceError) else retry_result(outcome.message)
    return outcomes


def _store(sends: list[SendRequest], started: float) -> list[Outcome]:
    online = presence.online_now(s.recipient_id for s in sends)
    now = timezone.now()
    messages = [
        Message(
            sender_id=s.sender_id, recipient_id=s.recipient_id, content=s.text,
            client_message_id=s.client_message_id or None, created_at=s.received_at or now,
            delivered_at=now if s.recipient_id in online else None,
        )
        for s in sends
    ]  # fmt: skip
    previews = [s.text[:PREVIEW_LENGTH] for s in sends]
    with write_block():
        if connection.vendor == "postgresql":
            stored = messages_store_many(messages, previews=previews)
        else:
            for message, preview in zip(messages, previews):
                message_store(message, preview=preview)
            stored = {m.pk for m in messages}
        fresh = [(m, s.origin_sid) for m, s in zip(messages, sends) if m.pk in stored]
        transaction.on_commit(lambda: emitter.emit_many([e for m, sid in fresh for e in announcements(m, sid)]))
    elapsed, outcomes = time.perf_counter() - started, []
    for message, send in zip(messages, sends):
        if message.pk in stored:
            outcomes.append(MessageSendResult(message, created=True, status=_status_of(message)))
            metrics.send_recorded(outcomes[-1], elapsed)
        else:
            # Another process stored the same (sender, clientMessageId) between our read and write.
            copy = Message.objects.get(sender_id=send.sender_id, client_message_id=send.client_message_id)
            outcomes.append(retry_result(copy))
    return outcomes


def _stored_copies(sends: list[SendRequest]) -> dict[tuple[str, str], Message]:
    keyed = {(s.sender_id, s.client_message_id) for s in sends if s.client_message_id}
    if not keyed:
        return {}
    found = Message.objects.filter(
        sender_id__in={sender for sender, _ in keyed}, client_message_id__in={cid for _, cid in keyed}
    )
    return {(m.sender_id, m.client_message_id): m for m in found if (m.sender_id, m.client_message_id) in keyed}


def _send_alone(send: SendRequest) -> Outcome:
    try:
        return message_send(
            sender_id=send.sender_id, recipient_id=send.recipient_id, text=send.text,
            client_message_id=send.client_message_id, origin_sid=send.origin_sid,
        )  # fmt: skip
    except ServiceError as exc:
        return exc
    except Exception:
        logger.exception("a send failed")
        return ServiceError("Internal error; try again", code="internal")
