"""The process's Socket.IO server, mounted by biosync.asgi at /socket.io/."""

import socketio
from django.conf import settings
from engineio.payload import Payload

from chat.realtime import emitter

SOCKETIO_PATH = "socket.io"

# A long-polling client that reconnects flushes its whole outbox in one POST (the JS client
# splits only by bytes). python-engineio refuses more than 16 packets per POST and drops
# them all; the body stays bounded by max_http_buffer_size (1 MB) anyway.
Payload.max_decode_packets = 1000


class JsonPacket(socketio.packet.Packet):
    """Never scans outgoing payloads for binary data (ours have none): about ten times cheaper
    per emit than the default packet. Binary events from clients are still decoded."""

    uses_binary_events = False


def _client_manager():
    if settings.REDIS_URL:
        # python-socketio's own Redis manager is the one pub/sub path between processes: it
        # carries room emits, disconnects and acks, which a Channels group cannot.
        return socketio.AsyncRedisManager(settings.REDIS_URL, channel=emitter.pubsub_channel())
    return None


def build_server() -> socketio.AsyncServer:
    from chat.realtime.namespace import ChatNamespace

    sio = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=_client_manager(),
        # An explicit list: an empty list would disable the origin check altogether.
        cors_allowed_origins=list(settings.CORS_ORIGIN),
        cors_credentials=True,
        serializer=JsonPacket,
        logger=False,
        engineio_logger=False,
    )
    sio.register_namespace(ChatNamespace("/"))
    emitter.attach_server(sio)
    return sio


sio = build_server()
asgi_app = socketio.ASGIApp(sio, socketio_path=SOCKETIO_PATH)
