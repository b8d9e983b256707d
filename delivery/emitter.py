"""How services (sync code, after commit) reach sockets, wherever they are connected.

- Inside a server process, the process's own AsyncServer emits; with REDIS_URL its
  AsyncRedisManager publishes, so sockets on every process get it.
- Anywhere else (manage.py commands, a shell) with REDIS_URL, a write-only RedisManager
  publishes on the same channel. Without REDIS_URL there is no server to reach from outside.

Inside the server, a worker thread does not wait for its emits: it hands them to one FIFO
queue on the event loop, drained by one task that awaits each emit in turn. Emits leave in
the order they were handed over (so one socket's messages in the order their transactions
committed), and the thread is free for the next event at once instead of blocking on a hop
to the loop for every emit, which cost more CPU than the emit itself.
"""

import asyncio
import logging
import threading
from typing import NamedTuple

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import transaction

from delivery import eventlog, events, leases

logger = logging.getLogger(__name__)

_server = None  # the running process's socketio.AsyncServer, set by chat.realtime.server
_external_manager = None
_loop: asyncio.AbstractEventLoop | None = None  # the server's loop, once its queue runs
_queue: asyncio.Queue | None = None
_drainer: asyncio.Task | None = None
_start_lock = threading.Lock()


def attach_server(sio) -> None:
    global _server
    _server = sio


def pubsub_channel() -> str:
    return f"{settings.REDIS_KEY_PREFIX}:socketio"


def _external():
    global _external_manager
    if _external_manager is None and settings.REDIS_URL:
        import socketio

        _external_manager = socketio.RedisManager(settings.REDIS_URL, channel=pubsub_channel(), write_only=True)
    return _external_manager


async def _drain(queue: asyncio.Queue) -> None:
    while True:
        job = await queue.get()
        try:
            await job()
        except Exception:
            # The write is committed and the database is the source of truth; clients catch up
            # through REST. A broken pub/sub must not turn a stored message into an error.
            logger.exception("realtime emit failed: %s", getattr(job, "describe", "?"))


async def _start() -> None:
    global _loop, _queue, _drainer
    loop = asyncio.get_running_loop()
    if _loop is not loop:
        _queue = asyncio.Queue()
        # Held here: a task nobody references can be garbage-collected.
        _drainer = loop.create_task(_drain(_queue))
        _loop = loop


def _running_loop():
    loop = _loop
    return loop if loop is not None and loop.is_running() else None


def _server_loop():
    """The server's running loop (starting the emit queue on it), or None outside of it."""
    loop = _running_loop()
    if loop is None:
        with _start_lock:
            if _running_loop() is None:
                # The first emit (or a loop that is not the server's): run the hop once, which
                # also starts the queue on the loop that runs the server.
                async_to_sync(_start)()
        loop = _running_loop()
    return loop


def _submit(job) -> None:
    """Queue `job` (an async callable) behind every emit handed over before it."""
    loop = _server_loop()
    if loop is None:
        # Not a thread of the server's loop (no loop to queue on): hop and wait, as before.
        async def run():
            await job()

        async_to_sync(run)()
        return
    try:
        on_loop = asyncio.get_running_loop() is loop
    except RuntimeError:
        on_loop = False
    if on_loop:
        _queue.put_nowait(job)
    else:
        loop.call_soon_threadsafe(_queue.put_nowait, job)


class LocalEmit(NamedTuple):
    """An emit to a socket of this process (`sid`): delivered here and never published, since
    no other process holds it. Queued in order with every other emit."""

    event: str
    data: dict
    sid: str


def _logged_user(event: str, room) -> str | None:
    """Whose event log an emit goes into: a recoverable event to a user's room, while recovery is on."""
    if event not in events.RECOVERABLE_EVENTS or settings.RECOVERY_WINDOW_SECONDS <= 0:
        return None
    return events.user_of_room(room)


async def _emit(event, data, room, skip_sid=None):
    clerk_id = _logged_user(event, room)
    if clerk_id is None:
        return await _server.emit(event, data, room=room, skip_sid=skip_sid)
    if settings.REDIS_URL:
        # The log publishes it to every process (this one too), in log order.
        return _appender().put(eventlog.Logged(clerk_id, event, data, room, skip_sid))
    offset = eventlog.memory.append(clerk_id, event, data, skip_sid)
    await _server.manager.emit(event, data, "/", room=room, skip_sid=skip_sid, offset=offset)


_appenders: dict[int, eventlog.RedisAppender] = {}


def _appender() -> eventlog.RedisAppender:
    loop = asyncio.get_running_loop()
    appender = _appenders.get(id(loop))
    if appender is None:
        appender = _appenders[id(loop)] = eventlog.RedisAppender(pubsub_channel(), _deliver_here)
    return appender


async def _deliver_here(item: eventlog.Logged) -> list[str]:
    """While Redis is down: the event goes to this process's sockets now (the sids returned),
    and to the others once the event log holds it."""
    return await _server.manager.emit_here(item.event, item.data, item.room, skip_sid=item.skip_sid)


def _emit_any(emit):
    if isinstance(emit, LocalEmit):
        return _server.emit(emit.event, emit.data, to=emit.sid, ignore_queue=True)
    return _emit(*emit)


class _Emit:
    __slots__ = ("event", "data", "room", "skip_sid")

    def __init__(self, event, data, room, skip_sid):
        self.event, self.data, self.room, self.skip_sid = event, data, room, skip_sid

    def __call__(self):
        return _emit(self.event, self.data, self.room, self.skip_sid)

    @property
    def describe(self) -> str:
        return f"event={self.event} room={self.room}"


class _EmitMany:
    """Several emits in one hop to the loop (a batch of sends), still one after the other."""

    __slots__ = ("emits",)

    def __init__(self, emits):
        self.emits = emits

    async def __call__(self):
        for emit in self.emits:
            try:
                await _emit_any(emit)
            except Exception:
                # One failed emit must not keep the others from their sockets.
                logger.exception("realtime emit failed event=%s", emit[0])

    @property
    def describe(self) -> str:
        return f"{len(self.emits)} emits"


def send_event_on_commit(emits) -> None:
    """The one way services send realtime events: once the current transaction commits (at once
    outside one), so a rolled-back write tells no one anything; in the given order.

    `emits`: (event, data, room, skip_sid) tuples and LocalEmits, or a callable that builds
    them after the commit (for events that read what was committed).
    """
    transaction.on_commit(lambda: _emit_many(emits() if callable(emits) else emits))


def disconnect_user_on_commit(clerk_id: str) -> None:
    """Once the current transaction commits, close every socket of the user on every process."""
    transaction.on_commit(lambda: disconnect_user(clerk_id))


def _emit_many(emits: list[tuple[str, dict, str, str | None] | LocalEmit]) -> None:
    """(event, data, room, skip_sid) tuples and LocalEmits, sent in this order."""
    if not emits:
        return
    try:
        if _server is not None:
            _submit(_EmitMany(emits) if len(emits) > 1 or isinstance(emits[0], LocalEmit) else _Emit(*emits[0]))
            return
        manager = _external()
        for event, data, room, skip_sid in (e for e in emits if not isinstance(e, LocalEmit)):
            clerk_id = _logged_user(event, room) if manager is not None else None
            if clerk_id is not None:
                logged = [eventlog.Logged(clerk_id, event, data, room, skip_sid)]
                eventlog.append_sync(logged, channel=pubsub_channel())
            elif manager is not None:
                manager.emit(event, data, namespace="/", room=room, skip_sid=skip_sid)
            else:
                logger.debug("no realtime server reachable; %s to %s not sent", event, room)
    except Exception:
        logger.exception("realtime emit of %d event(s) failed", len(emits))


async def flushed() -> None:
    """Returns once every emit queued on this loop before the call has been sent; with Redis, a
    recoverable event is then in its user's event log (or, Redis down, held by this process and
    sent to its own sockets): an acked send's events survive a crash of this process."""
    loop = asyncio.get_running_loop()
    if _running_loop() is not loop:
        return  # nothing was queued on this loop
    done = loop.create_future()

    async def mark():
        done.set_result(None)

    _queue.put_nowait(mark)
    await done
    appender = _appenders.get(id(loop))
    if appender is not None:
        await appender.logged()


async def emit_async(event: str, data: dict, *, room: str) -> None:
    """For code already on the server's event loop (typing indicators): same queue as emit."""
    if _running_loop() is not asyncio.get_running_loop():
        await _start()
    _queue.put_nowait(_Emit(event, data, room, None))


# How long a service's thread waits for a user's disconnects before going on without them.
DISCONNECT_WAIT_SECONDS = 2.0
_disconnecting: set[asyncio.Task] = set()  # held: a task nobody references can be garbage-collected


async def _disconnect_sids(sids: list[str]) -> None:
    # All at once: each sends its socket the disconnect before running the handler, and one
    # socket's slow handler must not keep the others connected. A sid on another process:
    # the Redis manager publishes the disconnect to it.
    results = await asyncio.gather(*(_server.disconnect(sid) for sid in sids), return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            logger.error("disconnecting a socket failed", exc_info=result)


def _disconnect_apart(sids: list[str]) -> threading.Event:
    """Run the disconnects as their own task, not in the emit queue: their handlers wait for
    the socket's events in flight and write to the database, and every other emit of the
    process would wait behind them."""
    done = threading.Event()

    async def run():
        try:
            await _disconnect_sids(sids)
        finally:
            done.set()

    def start():
        task = asyncio.get_running_loop().create_task(run())
        _disconnecting.add(task)
        task.add_done_callback(_disconnecting.discard)

    loop = _server_loop()
    if loop is None:
        async_to_sync(run)()
    else:
        loop.call_soon_threadsafe(start)
    return done


def disconnect_user(clerk_id: str) -> int:
    """Disconnect every socket of a user on every process (suspension, deletion); returns how many.

    Their disconnect handlers then update presence and status as for any disconnect. Call it
    from sync code after commit (`transaction.on_commit`). Inside the server the sockets are
    told at once; the caller waits for their handlers at most DISCONNECT_WAIT_SECONDS.
    """
    sids = leases.sids_of(clerk_id)
    if not sids:
        return 0
    if _server is not None:
        if not _disconnect_apart(sids).wait(DISCONNECT_WAIT_SECONDS):
            logger.warning("disconnect handlers of %d socket(s) still running; not waiting for them", len(sids))
        return len(sids)
    manager = _external()
    if manager is None:
        return 0
    for sid in sids:
        # A write-only manager has no server to run its own disconnect(); publishing the
        # message python-socketio's managers exchange reaches the process holding the sid.
        manager._publish({"method": "disconnect", "sid": sid, "namespace": "/", "host_id": manager.host_id})
    return len(sids)
