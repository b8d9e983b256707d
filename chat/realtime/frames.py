"""The Socket.IO frame limit, and an answer instead of a dead socket for a WebSocket frame over it.

python-engineio closes the whole session when a frame is longer than `max_http_buffer_size`,
with nothing said to the client. Over WebSocket this guard sits in front of it: a text frame
over the limit is dropped and answered the way a refused event is (`message_failed` or
`error`, plus a failure ack when the frame asked for one), and the socket keeps working.
What it cannot answer (the README lists it): frames over the ASGI server's own WebSocket
limit (uvicorn closes with 1009 before we see them), binary frames, and long-polling POSTs
over the limit (python-engineio answers 400 and ends the session).
"""

from __future__ import annotations

import re

import orjson

from delivery import events
from kernel import metrics

# Set on purpose, equal to python-engineio's default and advertised to clients as `maxPayload`:
# a send is at most MESSAGE_MAX_LENGTH characters, far below it, and the JS client splits
# long-polling payloads at it.
FRAME_MAX_BYTES = 1_000_000

# engine.io MESSAGE "4", socket.io EVENT "2", an optional namespace, an optional ack id,
# then the event name as the array's first string.
_EVENT_HEAD = re.compile(r'^42(/[^,]{0,200},)?(\d{0,20})\["((?:[^"\\]|\\.){1,100})"')


def refusal_frames(frame: str) -> list[str]:
    """What an oversize text frame is answered with: a failure event, and the ack if one was asked."""
    head = _EVENT_HEAD.match(frame[:400])
    namespace, ack_id, name = (head.group(1) or "", head.group(2), head.group(3)) if head else ("", "", None)
    error = f"Frame too large: the limit is {FRAME_MAX_BYTES} bytes"
    details = {"maxBytes": FRAME_MAX_BYTES}
    if name == events.SEND_MESSAGE:
        metrics.send_failed("frame_too_large")
        failed = [events.MESSAGE_FAILED, events.message_failed_payload(error, details, None)]
    else:
        failed = [events.ERROR, events.error_payload(name, error, details)]
    frames = [f"42{namespace}{orjson.dumps(failed).decode()}"]
    if ack_id:
        frames.append(f"43{namespace}{ack_id}{orjson.dumps([events.failure_payload(error, details)]).decode()}")
    return frames


class OversizeFrameGuard:
    """ASGI middleware in front of python-engineio (see the module docstring)."""

    def __init__(self, app, max_bytes: int = FRAME_MAX_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, scope, receive, send):
        # Hands back the app's coroutine instead of awaiting it: no frame of the guard stays
        # alive for the connection's lifetime (memory per idle socket, README Performance).
        if scope["type"] != "websocket":
            return self.app(scope, receive, send)

        async def guarded_receive():
            while True:
                message = await receive()
                text = message.get("text") if message["type"] == "websocket.receive" else None
                # python-engineio measures a text frame in characters; so does this.
                if text is None or len(text) <= self.max_bytes:
                    return message
                for frame in refusal_frames(text):
                    await send({"type": "websocket.send", "text": frame})

        return self.app(scope, guarded_receive, send)


# --- packets that arrive whole but cannot be decoded -------------------------------------------
# The event a JsonPacket stands in for a packet whose JSON could not be decoded (a lone UTF-16
# surrogate, which a JS client makes by cutting text inside an emoji; nesting deeper than the
# parser allows): the namespace answers it like a refused event instead of python-socketio
# dropping it with a traceback and leaving the client's ack to time out.
UNDECODABLE_EVENT = "__undecodable__"

# After the packet type: an optional namespace, an optional ack id, then the event's name.
_EVENT_PACKET_HEAD = re.compile(r'^2(/[^,]{0,200},)?(\d{0,20})\[\s*"((?:[^"\\]|\\.){1,100})"')


def undecodable_event(encoded_packet: str, error: Exception) -> tuple[str | None, dict]:
    """(the event's name if it can still be read, the payload UNDECODABLE_EVENT carries)."""
    head = _EVENT_PACKET_HEAD.match(encoded_packet[:400]) if isinstance(encoded_packet, str) else None
    name = None
    if head:
        try:
            name = orjson.loads(f'"{head.group(3)}"')  # a name that is itself undecodable stays unknown
        except orjson.JSONDecodeError:
            name = None
    reason = (
        "a lone UTF-16 surrogate in a string"
        if "surrogate" in str(error)
        else ("nesting too deep" if "depth" in str(error) or isinstance(error, RecursionError) else "malformed JSON")
    )
    return name, {"event": name, "reason": reason}
