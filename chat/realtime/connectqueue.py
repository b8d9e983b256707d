"""Every socket of this process arriving (a registration) and leaving, recorded in batches.

Like sends (sendqueue.py): a change waits while the batch before it is written; whatever
arrived meanwhile goes into the next batch, in arrival order, so a thousand sockets connecting
at once cost a few thread hops and a few round trips instead of a thousand of each. Under
light load a batch is one socket and nothing waits longer than before. Nothing is answered
before its batch has committed; a batch that fails as a whole is retried one socket at a
time, so only a socket's own failure reaches it.
"""

from __future__ import annotations

import asyncio
import logging

from chat import services
from chat.realtime.db import call
from kernel.errors import ServiceError

logger = logging.getLogger(__name__)

BATCH_MAX = 500

_waiting: list[tuple[tuple[bool, str, str], asyncio.Future]] = []
_writer: asyncio.Task | None = None


async def connected(clerk_id: str, sid: str) -> None:
    """Presence, status and delivery for a socket that proved its user; raises the
    ServiceError that refused it (a suspended or deleted user)."""
    await _change((True, clerk_id, sid))


async def disconnected(clerk_id: str, sid: str) -> None:
    await _change((False, clerk_id, sid))


async def _change(change: tuple[bool, str, str]) -> None:
    global _writer
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    _waiting.append((change, future))
    # A writer of another (closed) event loop would never run again: start one on this loop.
    if _writer is None or _writer.done() or _writer.get_loop() is not loop:
        _writer = loop.create_task(_write_all())
    outcome = await future
    if outcome is not None:
        raise outcome


async def _write_all() -> None:
    while _waiting:
        batch = _waiting[:BATCH_MAX]
        del _waiting[: len(batch)]
        changes = [change for change, _ in batch]
        try:
            outcomes = await call(services.sockets_change, changes=changes)
        except Exception:
            if len(batch) == 1:
                logger.exception("recording a socket change failed")
                outcomes = [ServiceError("Internal error; try again", code="internal")]
            else:
                logger.warning(
                    "recording a batch of %d socket changes failed; one at a time", len(batch), exc_info=True
                )
                outcomes = await call(_one_at_a_time, changes)
        for (_, future), outcome in zip(batch, outcomes):
            if not future.done():
                future.set_result(outcome)


def _one_at_a_time(changes) -> list[Exception | None]:
    outcomes = []
    for change in changes:
        try:
            outcomes.append(services.sockets_change(changes=[change])[0])
        except Exception as exc:
            logger.exception("recording a socket change failed")
            outcomes.append(exc)
    return outcomes
