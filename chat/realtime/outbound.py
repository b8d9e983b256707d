"""A byte limit on what waits to be written to one socket (SOCKET_MAX_BUFFER_BYTES).

python-engineio queues every outgoing packet of a socket without limit, and uvicorn's WebSocket
`send` waits while the client does not read: a client that stops reading (a frozen tab, a
stalled mobile link) makes its queue grow until the ping timeout. Here each Engine.IO socket
counts the bytes queued for it plus the batch its writer is still sending; past the limit the
socket is shed: its queue is emptied at once, its TCP connection is aborted (under uvicorn; a
close frame could not get past the unread bytes), and it is disconnected with the reason
`outbound buffer full`. The work runs in a task of its own, so the emit that crossed the limit,
and every other recipient of it, goes on at once.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging

import engineio
from django.conf import settings
from engineio import async_socket

from kernel.logging import log_event

logger = logging.getLogger(__name__)

OVERFLOW_REASON = "outbound buffer full"


def _malloc_trim():
    """glibc's malloc_trim, or None elsewhere (musl, macOS)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


# A shed socket's megabytes are freed at once, but glibc keeps freed heap pages for reuse, so the
# process would stay at its peak size: trimming hands them back to the system.
_trim = _malloc_trim()


def _size(pkt) -> int:
    """The bytes a packet takes on the wire (cached: one emit's packet goes to many sockets)."""
    size = getattr(pkt, "_wire_bytes", None)
    if size is None:
        data = pkt.data
        if isinstance(data, str):
            size = len(data.encode("utf-8", "surrogatepass"))
        elif isinstance(data, (bytes, bytearray)):
            size = len(data)
        else:
            size = 64  # control packets (OPEN, PING, NOOP, CLOSE): a handful of bytes
        pkt._wire_bytes = size + 1
    return pkt._wire_bytes


class BoundedSocket(async_socket.AsyncSocket):
    """An Engine.IO socket that is shed once its pending output passes the limit.

    `pending` is what sits in the queue plus the batch the writer took and has not finished
    sending: the writer takes its next batch only after writing the last one.
    """

    pending = 0
    in_flight = 0
    shed = False
    abort_transport = None  # set for WebSocket connections by _websocket_handler

    async def send(self, pkt):
        if self.shed or self.closed:
            return
        size = _size(pkt)
        if self.pending + size > settings.SOCKET_MAX_BUFFER_BYTES:
            self._shed(self.pending + size)
            return
        self.pending += size
        await super().send(pkt)

    async def poll(self):
        self.batch_written()
        packets = await super().poll()
        self.batch_taken(packets)
        return packets

    def batch_written(self) -> None:
        """The writer finished the batch it took: those bytes no longer wait."""
        self.pending -= self.in_flight
        self.in_flight = 0

    def batch_taken(self, packets) -> None:
        self.in_flight = sum(_size(p) for p in packets if p is not None)

    def attach_transport(self, ws) -> None:
        """Remember how to drop `ws`'s connection (AbortableWebSocket's `abort`)."""
        self.abort_transport = getattr(ws.asgi_send, "abort", None)

    async def _websocket_handler(self, ws):
        self.attach_transport(ws)
        return await super()._websocket_handler(ws)

    def _shed(self, would_be: int) -> None:
        self.shed = True
        while not self.queue.empty():
            self.queue.get_nowait()
            self.queue.task_done()
        self.pending = self.in_flight = 0
        self.queue.put_nowait(None)  # ends a waiting long-polling GET or the WebSocket writer
        if self.abort_transport is not None:
            self.abort_transport()
        self.server.start_background_task(self._close_shed, would_be)

    async def _close_shed(self, would_be: int) -> None:
        await self.close(wait=False, abort=True, reason=OVERFLOW_REASON)
        # Logged once the session is closed: whoever reads it (an operator, a test) finds the
        # session refused from then on, not still answering a poll while its handlers run.
        log_event(
            logger, "socket.overflow", level=logging.WARNING, eio_sid=self.sid, pending_bytes=would_be,
            limit_bytes=settings.SOCKET_MAX_BUFFER_BYTES,
        )  # fmt: skip
        await asyncio.sleep(0)  # the aborted writer lets go of the batch it held
        if _trim is not None:
            await asyncio.to_thread(_trim, 0)


class _BoundedSockets(dict):
    """The server's sockets, each made a BoundedSocket as python-engineio registers it (it
    builds AsyncSocket itself, and sends the OPEN packet only after registering it)."""

    def __setitem__(self, sid, socket):
        if type(socket) is async_socket.AsyncSocket:
            socket.__class__ = BoundedSocket
        super().__setitem__(sid, socket)


class BoundedEngineServer(engineio.AsyncServer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sockets = _BoundedSockets()


class AbortableWebSocket:
    """ASGI middleware: gives each WebSocket connection's `send` an `abort()` that fails the
    send waiting on an unread client and drops the connection (uvicorn's transport), so the
    bytes held for that client are freed now rather than at a TCP timeout."""

    def __init__(self, app):
        self.app = app

    def __call__(self, scope, receive, send):
        # Hands back the app's coroutine (see OversizeFrameGuard): the closures below are all
        # that stays alive per connection.
        if scope["type"] != "websocket":
            return self.app(scope, receive, send)
        waiting: set[asyncio.Task] = set()
        aborted = False

        async def abortable_send(message):
            if aborted:
                raise ConnectionAbortedError(OVERFLOW_REASON)
            task = asyncio.current_task()
            waiting.add(task)
            try:
                await send(message)
            finally:
                waiting.discard(task)

        def abort():
            nonlocal aborted
            aborted = True
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is not None:
                transport.abort()
            for task in list(waiting):
                task.cancel()

        abortable_send.abort = abort
        return self.app(scope, receive, abortable_send)
