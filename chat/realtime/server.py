"""The process's Socket.IO server, mounted by biosync.asgi at /socket.io/."""

import asyncio
import logging
import time

import orjson
import socketio
from django.conf import settings
from engineio import packet as eio_packet
from engineio.async_drivers.asgi import WebSocket as AsgiWebSocket
from engineio.payload import Payload

from chat.realtime import confirmations
from chat.realtime.catchup import catch_up, hold_all
from chat.realtime.frames import FRAME_MAX_BYTES, UNDECODABLE_EVENT, OversizeFrameGuard, undecodable_event
from chat.realtime.namespace import ChatNamespace
from chat.realtime.outbound import AbortableWebSocket, BoundedEngineServer
from chat.realtime.recovery import RecoveringServer, logs_of
from chat.realtime.wsdriver import SlimWebSocket
from delivery import emitter, eventlog, events
from kernel.slimqueue import SlimQueue

SOCKETIO_PATH = "socket.io"

logger = logging.getLogger(__name__)

# A long-polling client that reconnects flushes its whole outbox in one POST (the JS client
# splits only by bytes). python-engineio refuses more than 16 packets per POST and drops
# them all; the body stays bounded by max_http_buffer_size (FRAME_MAX_BYTES) anyway.
Payload.max_decode_packets = 1000
# How often a lost pub/sub subscription is tried again: every event published meanwhile waits.
LISTEN_RETRY_SECONDS = 0.5


class _OrJson:
    """The json module interface python-socketio and python-engineio use, on orjson: several
    times faster at what every packet costs (our payloads are plain JSON types)."""

    JSONDecodeError = orjson.JSONDecodeError

    @staticmethod
    def dumps(obj, **_options) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(data, **_options):
        return orjson.loads(data)


class JsonPacket(socketio.packet.Packet):
    """Never scans outgoing payloads for binary data (ours have none): about ten times cheaper
    per emit than the default packet. Binary events from clients are still decoded."""

    uses_binary_events = False
    json = _OrJson

    def decode(self, encoded_packet):
        try:
            return super().decode(encoded_packet)
        except ValueError as exc:  # orjson.JSONDecodeError: lone surrogates, nesting too deep
            if self.packet_type != socketio.packet.EVENT:
                raise
            _, payload = undecodable_event(encoded_packet, exc)
            # The ack id, when there is one, was read before the data: the client's ack is answered.
            self.data = [UNDECODABLE_EVENT, payload]
            return 0


class _DirectLocalEmit(socketio.AsyncManager):
    """Delivers an emit to this process's sockets in one pass, without a task per recipient.

    python-socketio starts one task per recipient and waits for them all: a send is only a
    put on the socket's outgoing queue, so the tasks cost more than the sends, and the wait
    makes every emit take at least one more turn of the event loop. Sending in turn also
    keeps consecutive emits in order for each recipient.

    `offset` (a recoverable event's place in its user's log) goes as the last argument to the
    sockets offered connection state recovery (`logs_of`, see chat.realtime.recovery).
    """

    def _packets(self, namespace, args):
        encoded = self.server.packet_class(socketio.packet.EVENT, namespace=namespace, data=args).encode()
        return [eio_packet.Packet(eio_packet.MESSAGE, p) for p in (encoded if isinstance(encoded, list) else [encoded])]

    async def emit(
        self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, offset=None, **kwargs
    ):
        room = to or room
        if callback is not None or namespace not in self.rooms:
            return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback)
        if isinstance(data, tuple):
            data = list(data)
        else:
            data = [data] if data is not None else []
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        targets = [(sid, eio_sid) for sid, eio_sid in self.get_participants(namespace, room) if sid not in skip]
        if not targets:
            return []
        packets = self._packets(namespace, [event, *data])
        logs = logs_of(self)
        with_offset = None
        sent = []
        payload = data[0] if len(data) == 1 else data
        for sid, eio_sid in targets:
            log = logs.get(sid)
            if log is not None and offset is not None and not log.accepts(event, payload, offset):
                continue
            if log is not None and not log.first_time(event, payload):
                continue
            offered = log is not None and offset is not None and log.pid is not None
            if offered:
                with_offset = with_offset or self._packets(namespace, [event, *data, offset])
            try:
                for pkt in with_offset if offered else packets:
                    await self.server._send_eio_packet(eio_sid, pkt)
                sent.append(sid)
            except Exception:
                # One closing socket must not keep the event from the others.
                logger.warning("emit of %s to one socket failed", event, exc_info=True)
        if sent:
            confirmations.sent(
                event, payload, {logs[sid].clerk_id if sid in logs else events.user_of_room(room) for sid in sent}
            )
        return sent

    async def emit_here(self, event, data, room, skip_sid=None) -> list[str]:
        """Emit to this process's sockets only, never published; returns the sids sent to."""
        if "/" not in self.rooms:
            return []
        return await _DirectLocalEmit.emit(self, event, data, "/", room=room, skip_sid=skip_sid)


class LocalManager(_DirectLocalEmit):
    """The manager without REDIS_URL: this process's sockets only."""


class OrderedRedisManager(socketio.AsyncRedisManager, _DirectLocalEmit):
    """Publishes without making the emitter wait for Redis, in order, many messages at once.

    python-socketio awaits one PUBLISH round trip per emit (after delivering to this
    process's own sockets), and every process, the sender included, then parses every
    message. Here `_publish` only appends the message to an outbox; one task publishes
    whatever has gathered as a single pub/sub message, so messages reach every other process
    in the order they were emitted, and a process skips its own batches unparsed but for one
    field. Like the parent, it tries twice and then logs and drops a batch (pub/sub is at most
    once anyway).
    """

    BATCH = "batch"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._outbox: list[dict] = []
        self._wake = asyncio.Event()
        self._sender: asyncio.Task | None = None

    async def _publish(self, data):
        self._outbox.append(data)
        self._wake.set()
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_forever())

    async def _send_forever(self):
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._outbox = self._outbox, []
            if batch:
                await self._send(batch)

    async def _send(self, batch: list[dict]) -> None:
        message = batch[0] if len(batch) == 1 else {"method": self.BATCH, "host_id": self.host_id, "messages": batch}
        encoded = self.json.dumps(message)
        for attempt in (1, 2):
            try:
                if not self.connected:
                    self._redis_connect()
                await self.redis.publish(self.channel, encoded)
                return
            except Exception as exc:
                self.connected = False
                if attempt == 2:
                    logger.error("cannot publish %d message(s) to Redis; dropped: %s", len(batch), exc)

    async def _handle_emit(self, message):
        # The event log's messages (delivery.eventlog) carry the event's offset.
        if message.get("host_id") != eventlog.PUBLISHER_HOST_ID:
            return await super()._handle_emit(message)
        data = message["data"][0] if len(message["data"]) == 1 else tuple(message["data"])
        await _DirectLocalEmit.emit(
            self, message["event"], data, message.get("namespace") or "/", room=message.get("room"),
            skip_sid=message.get("skip_sid"), offset=message.get("offset"),
        )  # fmt: skip

    async def _redis_listen_with_retries(self):
        """python-socketio's listener, retried every LISTEN_RETRY_SECONDS instead of on a doubling
        back-off, and followed by a catch-up after each outage: pub/sub drops whatever is
        published while a subscriber is away, so every socket of this process is held and sent
        what it missed from the database and its user's event log (catchup.catch_up)."""
        lost_at = None
        while True:
            try:
                self._redis_connect()
                await self.pubsub.subscribe(self.channel)
                if lost_at is not None:
                    # Held before the next message is read: newer events wait behind the catch-up.
                    self.server.start_background_task(catch_up, self.server, hold_all(self), lost_at)
                    lost_at = None
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:
                if lost_at is None:
                    logger.error("pub/sub lost: %s; subscribing again every %ss", exc, LISTEN_RETRY_SECONDS)
                    lost_at = time.time()
                await asyncio.sleep(LISTEN_RETRY_SECONDS)

    async def _listen(self):
        # python-socketio's listener takes one message at a time: unpack our batches for it.
        async for raw in super()._listen():
            data = self.json.loads(raw) if isinstance(raw, (bytes, str)) else raw
            if not isinstance(data, dict) or data.get("method") != self.BATCH:
                yield data
            elif data.get("host_id") != self.host_id:
                for message in data.get("messages", ()):
                    yield message


class _SlimEngineIO(BoundedEngineServer):
    """python-engineio with SOCKET_MAX_BUFFER_BYTES per socket (chat/realtime/outbound.py), a
    SlimQueue (kernel/slimqueue.py) as each socket's outgoing queue, and a leaner WebSocket loop
    per socket (chat/realtime/wsdriver.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self._async.get("websocket") is AsgiWebSocket:
            self._async = {**self._async, "websocket": SlimWebSocket}

    def create_queue(self, *args, **kwargs):
        return SlimQueue(*args, **kwargs)


class ChatServer(RecoveringServer):
    """The process's Socket.IO server: output bounded and held state per socket kept small (see
    _SlimEngineIO)."""

    def _engineio_server_class(self):
        return _SlimEngineIO

    async def _handle_eio_connect(self, eio_sid, environ):
        # A socket's connect environ lives as long as the socket, with its ASGI scope. python-engineio's
        # ASGI driver puts a body reader in it of a class it creates per request, which a websocket
        # never reads, and the scope's raw headers were read once, into the environ, already.
        scope = environ.get("asgi.scope", {})
        if scope.get("type") == "websocket":
            environ.pop("wsgi.input", None)
            scope["headers"] = []
        return await super()._handle_eio_connect(eio_sid, environ)


def _client_manager():
    if settings.REDIS_URL:
        # python-socketio's own Redis manager is the one pub/sub path between processes: it
        # carries room emits, disconnects and acks, which a Channels group cannot.
        return OrderedRedisManager(settings.REDIS_URL, channel=emitter.pubsub_channel())
    return LocalManager()


def build_server() -> socketio.AsyncServer:
    sio = ChatServer(
        async_mode="asgi",
        client_manager=_client_manager(),
        # An explicit list: an empty list would disable the origin check altogether.
        cors_allowed_origins=list(settings.CORS_ORIGIN),
        cors_credentials=True,
        serializer=JsonPacket,
        max_http_buffer_size=FRAME_MAX_BYTES,
        # Loggers of our own: given True/False, python-socketio and python-engineio add a plain
        # StreamHandler of their own, whose lines (Redis reconnects) bypass the JSON format.
        logger=logging.getLogger("socketio.server"),
        engineio_logger=logging.getLogger("engineio.server"),
    )
    sio.register_namespace(ChatNamespace("/"))
    emitter.attach_server(sio)
    return sio


class _SizedPollingResponses:
    """Gives Engine.IO's long-polling responses a Content-Length.

    python-engineio sends each response as one body without a length, which uvicorn then
    streams chunked; python-engineio's own client closes its session on a refusal before
    reading such a body. A length is what daphne sent and what proxies handle best.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return self.app(scope, receive, send)  # its coroutine: no frame of ours per WebSocket
        return self._sized(scope, receive, send)

    async def _sized(self, scope, receive, send):
        pending = []

        async def sized_send(message):
            if message["type"] == "http.response.start":
                pending.append(message)
                return
            if pending and message["type"] == "http.response.body":
                start = pending.pop()
                if not message.get("more_body") and not any(
                    k.lower() == b"content-length" for k, _ in start["headers"]
                ):
                    length = str(len(message.get("body", b""))).encode()
                    start = {**start, "headers": [*start["headers"], (b"content-length", length)]}
                await send(start)
            await send(message)

        return await self.app(scope, receive, sized_send)


sio = build_server()
asgi_app = OversizeFrameGuard(
    AbortableWebSocket(_SizedPollingResponses(socketio.ASGIApp(sio, socketio_path=SOCKETIO_PATH)))
)
