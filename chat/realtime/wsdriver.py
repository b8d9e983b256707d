"""python-engineio's WebSocket loop, holding less while a socket waits.

For each WebSocket, python-engineio keeps a reader task per incoming frame (wrapped in
`asyncio.wait_for`), a writer task waiting in another `wait_for`, and a task sleeping until
the next ping: four tasks, two timeouts and their frames for every idle socket. Here a socket
that connects over WebSocket directly is served by one loop in the connection's own task (its
wait bounded by `asyncio.timeout`), one writer awaiting its queue, and a timer for the next
ping. What the loop does with each packet is python-engineio's (`AsyncSocket.receive`), and so
is everything about sockets that upgrade from long-polling.
"""

from __future__ import annotations

import asyncio
import time

from engineio import exceptions, packet
from engineio.async_drivers.asgi import WebSocket

from chat.realtime.outbound import BoundedSocket


class SlimSocket(BoundedSocket):
    """An Engine.IO socket whose next ping waits on a timer, not in a sleeping task (and whose
    output is bounded, as every socket's: chat/realtime/outbound.py)."""

    def schedule_ping(self):
        if self.last_ping:
            self.last_ping = None
            asyncio.get_running_loop().call_later(self.server.ping_interval, self._ping_due)

    def _ping_due(self):
        if not self.closing and not self.closed:
            self.server.start_background_task(self._ping_now)

    async def _ping_now(self):
        if not self.closing and not self.closed:
            self.last_ping = time.time()
            await self.send(packet.Packet(packet.PING))


class SlimWebSocket(WebSocket):
    """python-engineio's ASGI WebSocket wrapper (its `_async["websocket"]`), serving a socket
    that starts on WebSocket with the loop below."""

    def __init__(self, handler, server):
        super().__init__(handler, server)
        self.socket = getattr(handler, "__self__", None)

    async def __call__(self, environ):
        socket = self.socket
        if type(socket) is not BoundedSocket or socket.connected:
            return await super().__call__(environ)  # an upgrade from long-polling
        socket.__class__ = SlimSocket
        self.asgi_receive = environ["asgi.receive"]
        self.asgi_send = environ["asgi.send"]
        socket.attach_transport(self)
        await self.asgi_send({"type": "websocket.accept"})
        await _serve(socket, self)
        return ""


async def _serve(socket: SlimSocket, ws: SlimWebSocket) -> None:
    # As python-engineio's AsyncSocket._websocket_handler, for a socket not upgrading.
    socket.connected = True
    socket.upgraded = True
    server = socket.server
    writer = asyncio.ensure_future(_write(socket, ws))
    quiet_limit = server.ping_interval + server.ping_timeout
    while True:
        try:
            async with asyncio.timeout(quiet_limit):
                data = await ws.wait()
            if data and len(data) > server.max_http_buffer_size:
                raise ValueError("packet is too large")
        except (Exception, asyncio.CancelledError):
            # A closed connection, a peer silent too long, an oversize packet; python-engineio
            # ends the socket the same way, cancellation included.
            break
        if data is None:
            break
        try:
            await socket.receive(packet.Packet(encoded_packet=data))
        except exceptions.UnknownPacketError:
            pass
        except exceptions.SocketIsClosedError:
            break
        except Exception:
            server.logger.exception("Unknown receive error")
    await socket.queue.put(None)  # lets the writer finish
    await writer
    await socket.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)


async def _write(socket: SlimSocket, ws: SlimWebSocket) -> None:
    queue = socket.queue
    while True:
        socket.batch_written()
        first = await queue.get()
        queue.task_done()
        packets = [] if first is None else [first]
        while first is not None:
            try:
                pkt = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            queue.task_done()
            if pkt is None:
                queue.put_nowait(None)
                break
            packets.append(pkt)
        if not packets:
            break
        socket.batch_taken(packets)
        try:
            for pkt in packets:
                await ws.send(pkt.encode())
        except Exception:
            break
    await ws.close()
