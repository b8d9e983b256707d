"""Every send of this process's sockets, written to the database in batches.

A send waits while the batch before it is written; whatever arrived meanwhile goes into the
next batch, in arrival order. Under light load a batch is one message and nothing waits
longer than before; under load one thread hop and two database round trips serve many
messages. Nothing is answered before its batch has committed.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from chat.realtime import confirmations
from chat.realtime.db import call
from chat.services.messages import MessageSendResult, Outcome, SendRequest, message_events_sent, messages_send_many
from delivery import ratelimit
from kernel import metrics
from kernel.errors import ServiceError

logger = logging.getLogger(__name__)

_waiting: list[tuple[SendRequest, asyncio.Future]] = []
_writer: asyncio.Task | None = None


async def send(request: SendRequest):
    """The MessageSendResult of `request`; raises the ServiceError that refused it."""
    global _writer
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    _waiting.append((request, future))
    # A writer of another (closed) event loop would never run again: start one on this loop.
    if _writer is None or _writer.done() or _writer.get_loop() is not loop:
        _writer = loop.create_task(_write_all())
    outcome = await future
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


async def _write_all() -> None:
    while _waiting:
        batch = _waiting[: settings.SEND_BATCH_MAX]
        del _waiting[: len(batch)]
        metrics.SEND_BATCH_SIZE.observe(len(batch))
        try:
            outcomes = await call(_write, [request for request, _ in batch])
        except Exception:
            logger.exception("writing a batch of %d send(s) failed", len(batch))
            # One instance each: an exception raised in several tasks would share (and grow) one traceback.
            outcomes = [ServiceError("Internal error; try again", code="internal") for _ in batch]
        confirmations.stored(o for o in outcomes if isinstance(o, MessageSendResult))
        # The batch's events (each sender's message_sent first) leave before any ack does.
        await message_events_sent()
        for (_, future), outcome in zip(batch, outcomes):
            if not future.done():  # its socket may be gone
                future.set_result(outcome)


def _write(requests: list[SendRequest]) -> list[Outcome]:
    # Counted before anything is read: like any refused event, a refused send costs its slot.
    over = ratelimit.over_limit(ratelimit.MESSAGES, [r.sender_id for r in requests])
    stored = iter(messages_send_many(sends=[r for r, refused in zip(requests, over) if not refused]))
    return [ratelimit.refusal(ratelimit.MESSAGES) if refused else next(stored) for refused in over]
