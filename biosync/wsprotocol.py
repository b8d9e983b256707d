"""uvicorn's sans-I/O WebSocket protocol, holding less for each open connection.

Every idle socket keeps its protocol object for hours: its incoming queue is a SlimQueue
(kernel/slimqueue.py) instead of an asyncio.Queue, and once the handshake is answered it
drops the handshake's request and response (their headers are in the ASGI scope and on the
wire already). The websockets parser that read the handshake keeps the request too, as a local
of its generator, for the connection's life: with nothing unread behind the request, it is
replaced by the frame parser it would have gone on with (websockets' Protocol.parse), started
at the same point. Everything else is uvicorn's and websockets'.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import Protocol

from kernel.slimqueue import SlimQueue


class SlimWebSocketsProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.queue = SlimQueue()

    async def send(self, message) -> None:
        await super().send(message)
        if self.handshake_complete and getattr(self, "response", None) is not None:
            self.request = self.response = None
            conn = self.conn
            if not conn.reader.buffer and not conn.reader.eof and conn.parser_exc is None:
                conn.parser = Protocol.parse(conn)
                next(conn.parser)
