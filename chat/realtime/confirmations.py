"""Keeps `delivered` true across processes.

A send to a user whose only sockets are on another process is announced "delivered" from that
process's presence lease (the sender's ack and `message_delivered`), but the message counts as
delivered (`delivered_at`) only once a process has sent it to a socket of its recipient:
- the process that sends a `receive_message` to a socket of the recipient confirms it
  (`messages_delivery_confirm`, batched every FLUSH_SECONDS), unless this process stored it
  already delivered (its recipient had a socket here then);
- the process that announced it checks after DELIVERY_CONFIRM_SECONDS; a message still not
  delivered (the lease belonged to a dead process, or Redis is down) is announced "saved" again
  (`messages_delivery_unconfirmed`), and "delivered" when a socket does get it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

from django.conf import settings

from chat import services
from chat.realtime.db import call
from delivery import events

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.1
# Messages this process stored as delivered, remembered until their receive_message comes back
# from pub/sub (at once) or for this many of them at most.
KNOWN_MAX = 50_000

_known: OrderedDict[int, None] = OrderedDict()  # stored here with delivered_at set
_to_confirm: set[int] = set()
_expected: dict[int, float] = {}  # announced "delivered", not yet confirmed: message id -> deadline
_task: asyncio.Task | None = None


def stored(results) -> None:
    """The MessageSendResults of a batch this process wrote and announced."""
    deadline = time.monotonic() + settings.DELIVERY_CONFIRM_SECONDS
    for result in results:
        if not result.created:
            continue
        if result.message.delivered_at is not None:
            _known[result.message.id] = None
        elif result.unconfirmed:
            _expected[result.message.id] = deadline
    while len(_known) > KNOWN_MAX:
        _known.popitem(last=False)
    _ensure_started()


def sent(event: str, data, clerk_ids) -> None:
    """An event reached sockets of these users on this process."""
    if event != events.RECEIVE_MESSAGE or not isinstance(data, dict):
        return
    message_id = data.get("messageId")
    if data.get("toClerkId") not in clerk_ids or not isinstance(message_id, int):
        return  # only the sender's own devices
    if message_id in _known:
        del _known[message_id]  # stored here as delivered
        return
    _expected.pop(message_id, None)
    _to_confirm.add(message_id)
    _ensure_started()


def _ensure_started() -> None:
    global _task
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _task = loop.create_task(_run())


async def _run() -> None:
    while _to_confirm or _expected:
        await asyncio.sleep(FLUSH_SECONDS)
        try:
            await _flush()
        except Exception:
            # The database is down: kept, tried again on the next turn.
            logger.warning("delivery confirmations failed; retrying", exc_info=True)


async def _flush() -> None:
    if _to_confirm:
        ids = sorted(_to_confirm)
        await call(services.messages_delivery_confirm, message_ids=ids)
        _to_confirm.difference_update(ids)
    now = time.monotonic()
    due = [message_id for message_id, deadline in _expected.items() if deadline <= now]
    if due:
        corrected = await call(services.messages_delivery_unconfirmed, message_ids=due)
        for message_id in due:
            _expected.pop(message_id, None)
        if corrected:
            logger.warning("%d message(s) announced delivered reached no socket: announced saved", len(corrected))
