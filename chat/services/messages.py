"""Sending messages: the one send service. Every caller (the socket layer's batches, commands,
the demo seed) stores messages through `messages_send_many`; `message_send` is one send of it.

A batch costs one read of the parties and of earlier copies (retries), one presence look-up
and one write for them all: on PostgreSQL two round trips, on SQLite one transaction.
Events leave after commit, the sending socket's confirmation first (`announcements`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError
from django.utils import timezone

from chat.models import Message
from chat.services import recent_sends
from chat.services.rules import message_send_validate, message_status
from chat.services.storage import PREVIEW_LENGTH, chat_states, messages_store, write_block
from delivery import emitter, events, leases
from kernel import metrics
from kernel.errors import ServiceError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessageSendResult:
    message: Message
    created: bool  # False: a retry of an already stored message (same clientMessageId)
    status: str  # "delivered" (recipient connected somewhere), "saved" or "read"

    @property
    def unconfirmed(self) -> bool:
        """Announced "delivered" on the strength of another process's presence lease: that
        process confirms it (messages_delivery_confirm) or the sender is told "saved" again."""
        return self.created and self.status == events.STATUS_DELIVERED and self.message.delivered_at is None


@dataclass(frozen=True)
class SendRequest:
    sender_id: str
    recipient_id: str
    text: str
    client_message_id: str | None = None
    origin_sid: str | None = None  # answered by the caller; the sender's other sockets get receive_message
    received_at: datetime | None = None  # becomes the message's created_at


Outcome = MessageSendResult | ServiceError


def retry_result(message: Message) -> MessageSendResult:
    """The answer to a send whose (sender, clientMessageId) is already stored: that message, untouched."""
    return MessageSendResult(message, created=False, status=message_status(message))


def message_send(
    *,
    sender_id: str,
    recipient_id: str,
    text,
    client_message_id: str | None = None,
    origin_sid: str | None = None,
) -> MessageSendResult:
    """One send (`messages_send_many` with one request); raises the ServiceError that refused it."""
    [outcome] = messages_send_many(sends=[SendRequest(
        sender_id=sender_id, recipient_id=recipient_id, text=text,
        client_message_id=client_message_id, origin_sid=origin_sid, received_at=timezone.now(),
    )])  # fmt: skip
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


def messages_send_many(*, sends: list[SendRequest]) -> list[Outcome]:
    """The outcome of each send, in order: a result, or the ServiceError that refused it.

    Idempotent per (sender, clientMessageId): a retry is answered with the stored message,
    untouched; so is a send without one that repeats the last (recent_sends). Ids follow the
    order of `sends`. If the write fails as a whole (a party deleted meanwhile, a retry racing
    on SQLite, the database down), each send is tried alone, so that only its own failure reaches it.
    """
    if not sends:
        return []
    started = time.perf_counter()
    outcomes: list[Outcome | None] = [None] * len(sends)
    earlier = _stored_copies(sends)
    repeated = recent_sends.repeated_sends(sends)
    users = chat_states(
        *{clerk_id for s in sends for clerk_id in (s.sender_id, s.recipient_id)},
        pairs=[(s.recipient_id, s.sender_id) for s in sends],
    )
    first_of: dict[tuple, int] = {}
    repeats: dict[int, int] = {}
    todo: list[int] = []
    for i, send in enumerate(sends):
        key = recent_sends.send_key(send)
        if key in earlier:
            outcomes[i] = retry_result(earlier[key])
        elif i in repeated:
            outcomes[i] = retry_result(repeated[i])
        elif key in first_of and recent_sends.repeats(sends[first_of[key]], send):
            repeats[i] = first_of[key]  # two sockets of one sender retrying at once, or a double emit
        else:
            try:
                message_send_validate(send.sender_id, send.recipient_id, send.text, users)
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
            # SQLite) must not fail the others with it: each is tried again alone.
            if len(todo) > 1:
                logger.warning("a batch of %d sends failed as a whole; writing each alone", len(todo), exc_info=True)
            for i in todo:
                outcomes[i] = messages_send_many(sends=[sends[i]])[0] if len(todo) > 1 else _failed_alone(sends[i])
    for i, first in repeats.items():
        outcome = outcomes[first]
        if not isinstance(outcome, ServiceError):
            outcome = MessageSendResult(outcome.message, created=False, status=outcome.status)
        outcomes[i] = outcome
    for outcome in outcomes:
        if isinstance(outcome, MessageSendResult) and not outcome.created:
            metrics.send_recorded(outcome, time.perf_counter() - started)
    return outcomes


def _store(sends: list[SendRequest], started: float) -> list[Outcome]:
    # A recipient with a socket on this process gets the message from this process: delivered.
    # One whose only sockets are elsewhere is announced "delivered" from presence, but the
    # message counts as delivered (delivered_at) only once that process has sent it to a socket.
    recipients = {s.recipient_id for s in sends}
    here = leases.local_among(recipients)
    online = here | (leases.online_among(recipients - here) if recipients - here else set())
    now = timezone.now()
    messages = [
        Message(
            sender_id=s.sender_id, recipient_id=s.recipient_id, content=s.text,
            client_message_id=s.client_message_id or None, created_at=s.received_at or now,
            delivered_at=now if s.recipient_id in here else None,
        )
        for s in sends
    ]  # fmt: skip
    statuses = [events.STATUS_DELIVERED if s.recipient_id in online else events.STATUS_SAVED for s in sends]
    previews = [s.text[:PREVIEW_LENGTH] for s in sends]
    with write_block():
        stored = messages_store(messages, previews=previews)
        fresh = [(m, s.origin_sid, st) for m, s, st in zip(messages, sends, statuses) if m.pk in stored]
        emitter.send_event_on_commit([e for m, sid, st in fresh for e in announcements(m, sid, st)])
    recent_sends.remember(m for m, _, _ in fresh)
    elapsed, outcomes = time.perf_counter() - started, []
    for message, send, status in zip(messages, sends, statuses):
        if message.pk in stored:
            outcomes.append(MessageSendResult(message, created=True, status=status))
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


def _failed_alone(send: SendRequest) -> Outcome:
    """The outcome of one send whose write failed: a retry that raced its original, or an error."""
    logger.warning("a send failed", exc_info=True)
    if send.client_message_id:
        copies = _stored_copies([send])
        if copies:
            return retry_result(next(iter(copies.values())))
    return ServiceError("Internal error; try again", code="internal")


def announcements(message: Message, origin_sid: str | None, status: str | None = None) -> list[tuple]:
    """The emits that tell both users' sockets about a newly stored message, for `emitter.send_event_on_commit`.

    Causal order, per socket, is the order of this list: the sending socket's confirmation
    (`message_sent`, then `message_delivered`) leaves before anyone can see the message, so a
    read receipt, which needs the recipient to have seen it, can never overtake it.
    """
    payload = events.receive_message_payload(message)
    confirmation = []
    if origin_sid is not None:
        delivered = events.message_delivered_payload(message.id, status or message_status(message), message.created_at)
        confirmation = [
            # The sending socket is on this process: delivered here, never published.
            emitter.LocalEmit(events.MESSAGE_SENT, events.message_sent_payload(message), origin_sid),
            emitter.LocalEmit(events.MESSAGE_DELIVERED, delivered, origin_sid),
        ]
    return [
        *confirmation,
        # The sender's other tabs and devices show the message too; the sending socket already
        # has it and got message_sent instead.
        (events.RECEIVE_MESSAGE, payload, events.user_room(message.sender_id), origin_sid),
        (events.RECEIVE_MESSAGE, payload, events.user_room(message.recipient_id), None),
    ]


async def message_events_sent() -> None:
    """Returns once the events of every message stored so far by this process have been sent:
    the socket layer acks a send only after its `message_sent`."""
    await emitter.flushed()
