"""Real Socket.IO clients (python-socketio) and the delivery bookkeeping of the scenarios.

Every send is acked; an acked send is a stored message. Every recipient records the message
ids it received. "Stored but never delivered" counts acked messages whose recipient stayed
connected the whole time (never saw a disconnect) and never received them.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

import aiohttp
import socketio
from engineio.payload import Payload

Payload.max_decode_packets = 1000
ACK_TIMEOUT = 10.0


class ChatClient:
    def __init__(self, url: str, clerk_id: str, *, transport: str = "websocket", local_addr: str | None = None,
                 reconnect: bool = False):  # fmt: skip
        self.url, self.clerk_id, self.transport, self.local_addr = url, clerk_id, transport, local_addr
        self.reconnect = reconnect
        self.received: dict[int, float] = {}  # message id -> when it arrived
        self.dropped = False  # saw a disconnect at any time
        self.registered = asyncio.Event()
        self.session: aiohttp.ClientSession | None = None
        self.sio: socketio.AsyncClient | None = None

    async def connect(self, timeout: float = 15.0) -> ChatClient:
        if self.local_addr:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(self.local_addr, 0)))
        self.sio = socketio.AsyncClient(
            reconnection=self.reconnect, reconnection_delay=0.5, reconnection_delay_max=2,
            http_session=self.session,
        )  # fmt: skip
        self.sio.on("receive_message", self._on_message)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("registered", self._on_registered)
        await self.sio.connect(self.url, transports=[self.transport], wait_timeout=timeout)
        await asyncio.wait_for(self.registered.wait(), timeout)
        return self

    async def _on_connect(self):
        await self.sio.emit("register_user", {"clerkId": self.clerk_id})

    async def _on_registered(self, data):
        if isinstance(data, dict) and data.get("success"):
            self.registered.set()

    async def _on_disconnect(self, *args):
        self.dropped = True
        self.registered.clear()

    async def _on_message(self, data, *rest):
        if isinstance(data, dict) and isinstance(data.get("messageId"), int):
            self.received.setdefault(data["messageId"], time.monotonic())

    async def send(self, to: str, text: str, client_message_id: str) -> dict:
        payload = {"fromClerkId": self.clerk_id, "toClerkId": to, "text": text, "clientMessageId": client_message_id}
        return await self.sio.call("send_message", payload, timeout=ACK_TIMEOUT)

    async def close(self) -> None:
        try:
            if self.sio is not None and self.sio.connected:
                await asyncio.wait_for(self.sio.disconnect(), 5)
        except Exception:
            pass
        if self.session is not None:
            await self.session.close()


@dataclass
class Ledger:
    """Acked sends per recipient, failures, and what the recipients received."""

    acked: dict[str, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))  # to -> id -> ack time
    failed: int = 0
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sent: int = 0

    def missing(self, recipients: dict[str, list[ChatClient]]) -> dict[str, set[int]]:
        """Acked messages not received by any connected (never dropped) socket of their recipient."""
        out = {}
        for to, ids in self.acked.items():
            clients = [c for c in recipients.get(to, []) if not c.dropped]
            if not clients:
                continue
            got = set().union(*(c.received.keys() for c in clients))
            lost = set(ids) - got
            if lost:
                out[to] = lost
        return out

    def lost_count(self, recipients) -> int:
        return sum(len(v) for v in self.missing(recipients).values())


_serial = itertools.count()


async def load(senders: list[ChatClient], targets: list[str], ledger: Ledger, *, rate: float, stop: asyncio.Event,
               text_size: int = 40) -> None:  # fmt: skip
    """Each sender sends to a random target at `rate` messages per second in total until `stop`."""
    per_sender = max(rate / max(len(senders), 1), 0.1)

    async def one(sender: ChatClient):
        while not stop.is_set():
            to = random.choice([t for t in targets if t != sender.clerk_id])
            n = next(_serial)
            ledger.sent += 1
            try:
                ack = await sender.send(to, f"{n:08d} " + "x" * text_size, f"fault-{n}")
            except Exception as exc:
                ack = {"success": False, "error": type(exc).__name__}
            if ack.get("success") and isinstance(ack.get("messageId"), int):
                ledger.acked[to][ack["messageId"]] = time.monotonic()
            else:
                ledger.failed += 1
                ledger.errors[str(ack.get("error"))[:60]] += 1
            try:
                await asyncio.wait_for(stop.wait(), 1 / per_sender)
            except TimeoutError:
                pass

    await asyncio.gather(*(one(s) for s in senders))


async def until_delivered(ledger: Ledger, recipients: dict[str, list[ChatClient]], timeout: float) -> float | None:
    """Seconds until every acked message reached its connected recipients, or None at the timeout."""
    started = time.monotonic()
    while ledger.lost_count(recipients):
        if time.monotonic() - started > timeout:
            return None
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def connect_all(clients: list[ChatClient], batch: int = 50) -> None:
    for i in range(0, len(clients), batch):
        await asyncio.gather(*(c.connect() for c in clients[i : i + batch]))
