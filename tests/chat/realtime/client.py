"""A real Socket.IO client for tests: every event it receives goes into a queue per event name,
so tests await what they expect (with a timeout) instead of sleeping."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import socketio
from engineio.payload import Payload

TIMEOUT = 10.0
# python-engineio's client drops a whole long-polling response with more than 16 packets (and
# then the connection); the browser client has no such limit, and a burst produces more.
Payload.max_decode_packets = 1000


class Client:
    """`transport`: "websocket", "polling", or "polling+websocket" (start polling, then upgrade)."""

    def __init__(self, url: str, transport: str = "websocket"):
        self.url = url
        self.transport = transport
        self.clerk_id: str | None = None
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, asyncio.Queue] = defaultdict(asyncio.Queue)
        self.log: list[tuple[str, object]] = []  # every event received, in arrival order
        self.disconnected = asyncio.Event()
        self._arrived = asyncio.Event()
        self.sio.on("*", self._record)
        self.sio.on("disconnect", self._on_disconnect)

    async def _record(self, event, *args):
        payload = args[0] if len(args) == 1 else args
        self.log.append((event, payload))
        self.events[event].put_nowait(payload)
        self._arrived.set()

    async def _on_disconnect(self, *args):
        self.disconnected.set()

    @property
    def sid(self) -> str:
        return self.sio.get_sid()

    async def connect(self, auth=None, headers=None) -> Client:
        await self.sio.connect(
            self.url, transports=self.transport.split("+"), auth=auth, headers=headers or {}, wait_timeout=TIMEOUT
        )
        return self

    async def register(self, clerk_id: str) -> dict:
        await self.sio.emit("register_user", {"clerkId": clerk_id})
        answer = await self.next("registered")
        assert answer["success"] is True, answer
        self.clerk_id = clerk_id
        return answer

    async def emit(self, event: str, data=None) -> None:
        await self.sio.emit(event, data)

    async def call(self, event: str, data=None, timeout: float = TIMEOUT):
        return await self.sio.call(event, data, timeout=timeout)

    async def next(self, event: str, timeout: float = TIMEOUT):
        return await asyncio.wait_for(self.events[event].get(), timeout)

    async def next_matching(self, event: str, predicate, timeout: float = TIMEOUT):
        """The first `event` whose payload satisfies `predicate`; earlier ones are dropped."""

        async def find():
            while True:
                payload = await self.events[event].get()
                if predicate(payload):
                    return payload

        return await asyncio.wait_for(find(), timeout)

    async def until(self, predicate, timeout: float = TIMEOUT) -> None:
        """Returns once `predicate()` holds, checked after each event that arrives."""

        async def wait():
            while not predicate():
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(wait(), timeout)

    def pending(self, event: str) -> list:
        """What arrived so far and was not awaited yet (drains the queue)."""
        queue, items = self.events[event], []
        while not queue.empty():
            items.append(queue.get_nowait())
        return items

    async def send(self, to: str, text: str, **extra) -> dict:
        """send_message with an ack; returns the ack after message_sent and message_delivered."""
        payload = {"fromClerkId": self.clerk_id, "toClerkId": to, "text": text, **extra}
        ack = await self.call("send_message", payload)
        return ack

    async def close(self) -> None:
        if self.sio.connected:
            if self.transport == "polling":
                # A graceful polling disconnect waits out the pending long-poll (~30 s).
                await self.sio.eio.disconnect(abort=True)
            else:
                await self.sio.disconnect()
            await asyncio.wait_for(self.disconnected.wait(), TIMEOUT)
