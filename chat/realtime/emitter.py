"""How services (sync code, after commit) reach sockets, wherever they are connected.

- Inside a server process, the process's own AsyncServer emits; with REDIS_URL its
  AsyncRedisManager publishes, so sockets on every process get it.
- Anywhere else (manage.py commands, a shell) with REDIS_URL, a write-only RedisManager
  publishes on the same channel. Without REDIS_URL there is no server to reach from outside.

Emits are awaited before the caller goes on, so one socket's messages go out in the order
their transactions committed.
"""

import logging

from asgiref.sync import async_to_sync
from django.conf import settings

logger = logging.getLogger(__name__)

_server = None  # the running process's socketio.AsyncServer, set by chat.realtime.server
_external_manager = None


def attach_server(sio) -> None:
    global _server
    _server = sio


def pubsub_channel() -> str:
    return f"{settings.REDIS_KEY_PREFIX}:socketio"


def _external():
    global _external_manager
    if _external_manager is None and settings.REDIS_URL:
        import socketio

        _external_manager = socketio.RedisManager(
            settings.REDIS_URL, channel=pubsub_channel(), write_only=True
        )
    return _external_manager


def emit(event: str, data: dict, *, room: str, skip_sid: str | None = None) -> None:
    try:
        if _server is not None:
            async_to_sync(_server.emit)(event, data, room=room, skip_sid=skip_sid)
            return
        manager = _external()
        if manager is not None:
            manager.emit(event, data, namespace="/", room=room, skip_sid=skip_sid)
        else:
            logger.debug("no realtime server reachable; %s to %s not sent", event, room)
    except Exception:
        # The write is committed and the database is the source of truth; clients catch up
        # through REST. A broken pub/sub must not turn a stored message into an error.
        logger.exception("realtime emit failed event=%s room=%s", event, room)



async def emit_async(event: str, data: dict, *, room: str) -> None:
    """For code already on the server's event loop (typing indicators): same delivery as emit."""
    try:
        await _server.emit(event, data, room=room)
    except Exception:
        logger.exception("realtime emit failed event=%s room=%s", event, room)


async def _disconnect_sids(sids: list[str]) -> None:
    for sid in sids:
        # A sid on another process: the Redis manager publishes the disconnect to it.
        await _server.disconnect(sid)


def disconnect_user(clerk_id: str) -> int:
    """Disconnect every socket of a user on every process (suspension, deletion); returns how many.

    Their disconnect handlers then update presence and status as for any disconnect. Like
    every emit, call it from sync code after commit (`transaction.on_commit`): inside the
    server it waits for the local disconnects, whose handlers write the user's row.
    """
    from chat.realtime import presence

    sids = presence.sids_of(clerk_id)
    if not sids:
        return 0
    if _server is not None:
        async_to_sync(_disconnect_sids)(sids)
        return len(sids)
    manager = _external()
    if manager is None:
        return 0
    for sid in sids:
        # A write-only manager has no server to run its own disconnect(); publishing the
        # message python-socketio's managers exchange reaches the process holding the sid.
        manager._publish({"method": "disconnect", "sid": sid, "namespace": "/", "host_id": manager.host_id})
    return len(sids)
