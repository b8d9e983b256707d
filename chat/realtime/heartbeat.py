"""The presence heartbeat of one server process: renews its sockets' leases and sweeps the
expired leases of crashed processes (their users go offline), every PRESENCE_HEARTBEAT_SECONDS;
renews the process's own lease and catches up after processes that died (chat/realtime/catchup.py).

Started on the first connection: daphne sends no ASGI lifespan events to start it earlier.
"""

import logging

from django.conf import settings

from chat import services
from chat.realtime import catchup
from chat.realtime.db import call
from delivery import leases
from users.presence import presence_heartbeat

logger = logging.getLogger(__name__)

RECONCILE_EVERY = 30  # beats between checks of users.status against presence

_task = None


def ensure_started(sio) -> None:
    global _task
    if _task is None:
        _task = sio.start_background_task(_run, sio)


async def _forget_ghosts(sio) -> None:
    """Sockets presence holds but the server no longer has (one that left mid-handshake)."""
    for sid, clerk_id in leases.local_sockets().items():
        if not (sio.manager.is_connected(sid, "/") or sio.manager.is_pre_connected(sid, "/")):
            await call(services.socket_disconnect, clerk_id=clerk_id, sid=sid)


async def _run(sio) -> None:
    beat = 0
    while True:
        try:
            await _forget_ghosts(sio)
            # The first beat also repairs statuses a previous run of this server left behind.
            await call(presence_heartbeat, reconcile=beat % RECONCILE_EVERY == 0)
        except Exception:
            logger.exception("presence heartbeat failed")
        try:
            await catchup.processes_checked(sio)
        except Exception:
            logger.exception("checking for dead server processes failed")
        beat += 1
        await sio.sleep(settings.PRESENCE_HEARTBEAT_SECONDS)
