"""A Socket.IO client over a raw WebSocket that registers and then stops reading: a frozen tab.

Its TCP receive buffer is tiny, so what the server sends it piles up on the server's side.
"""

from __future__ import annotations

import json
import socket

import websocket

RECEIVE_BUFFER_BYTES = 4096


class StalledClient:
    def __init__(self, url: str, clerk_id: str):
        ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(
            ws_url,
            timeout=10,
            suppress_origin=True,
            sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)],
        )
        assert self.ws.recv().startswith("0")  # Engine.IO OPEN
        self.ws.send("40")
        assert self.ws.recv().startswith("40")  # Socket.IO CONNECT
        self.ws.send("42" + json.dumps(["register_user", {"clerkId": clerk_id}]))
        while True:
            frame = self.ws.recv()
            if frame.startswith('42["registered"'):
                assert json.loads(frame[2:])[1]["success"] is True, frame
                break

    def read_until_closed(self, timeout: float = 30.0) -> int:
        """Reads again: the frames the server still had for it, until the connection ends.
        Returns how many `receive_message` frames arrived; raises TimeoutError if it never ends."""
        self.ws.settimeout(timeout)
        received = 0
        try:
            while True:
                frame = self.ws.recv()
                if not frame:
                    return received
                if frame == "2":
                    self.ws.send("3")  # Engine.IO ping: still alive from its side
                received += frame.startswith('42["receive_message"')
        except websocket.WebSocketTimeoutException as exc:
            raise TimeoutError("the server kept the connection open") from exc
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            return received

    def close(self) -> None:
        self.ws.close()
