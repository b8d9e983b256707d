"""Typing indicators: ephemeral state, nothing stored, so this module is their service.

An indicator lives in the process whose socket sent `typing_start`, with a timer: it ends on
`typing_stop`, after TYPING_TIMEOUT_SECONDS without a new start, or when the sockets that
started it are gone. Its emits go through the emitter (and the Redis manager), so the
recipient hears it on whatever process they are connected to.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from django.conf import settings

from delivery import emitter, events


@dataclass
class _Indicator:
    sids: set[str] = field(default_factory=set)
    timer: asyncio.Task | None = None


_active: dict[tuple[str, str], _Indicator] = {}
_by_sid: dict[str, set[tuple[str, str]]] = {}


async def _emit(typist_id: str, recipient_id: str, is_typing: bool) -> None:
    payload = events.user_typing_payload(typist_id, is_typing)
    await emitter.emit_async(events.USER_TYPING, payload, room=events.user_room(recipient_id))


async def _expire(key: tuple[str, str], timeout: float) -> None:
    await asyncio.sleep(timeout)
    indicator = _active.get(key)
    if indicator is not None and indicator.timer is asyncio.current_task():
        del _active[key]
        await _emit(*key, False)


async def typing_start(*, typist_id: str, recipient_id: str, sid: str, timeout: float | None = None) -> None:
    """`timeout`: the typist's own (a dwell typist's is longer); None: TYPING_TIMEOUT_SECONDS."""
    key = (typist_id, recipient_id)
    indicator = _active.setdefault(key, _Indicator())
    indicator.sids.add(sid)
    _by_sid.setdefault(sid, set()).add(key)
    if indicator.timer is not None:
        indicator.timer.cancel()
    indicator.timer = asyncio.create_task(_expire(key, timeout or settings.TYPING_TIMEOUT_SECONDS))
    # Sent again on every start: a recipient who connected meanwhile catches up.
    await _emit(typist_id, recipient_id, True)


async def typing_stop(*, typist_id: str, recipient_id: str) -> None:
    indicator = _active.pop((typist_id, recipient_id), None)
    if indicator is not None and indicator.timer is not None:
        indicator.timer.cancel()
    # Sent even with no indicator here: the start may have gone to another process.
    await _emit(typist_id, recipient_id, False)


async def typing_socket_gone(*, sid: str) -> None:
    """The socket disconnected: indicators only it kept alive end now."""
    for key in _by_sid.pop(sid, ()):
        indicator = _active.get(key)
        if indicator is None:
            continue
        indicator.sids.discard(sid)
        if not indicator.sids:
            await typing_stop(typist_id=key[0], recipient_id=key[1])
