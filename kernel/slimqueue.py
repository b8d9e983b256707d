"""A FIFO queue with asyncio.Queue's interface, at a fraction of its memory.

Every connected socket holds two queues (the ASGI server's incoming one and python-engineio's
outgoing one). An asyncio.Queue allocates three deques and an Event (a fourth deque) up front,
about 2 KB before it holds anything; this one allocates its item list and its waiter only when
used. Unbounded (`maxsize` is refused), like the queues it replaces.
"""

from __future__ import annotations

import asyncio

# Consumed items are dropped from the front of the list in chunks, not one by one.
_COMPACT_AFTER = 64


class SlimQueue:
    __slots__ = ("_items", "_head", "_getters", "_unfinished", "_joiners")

    def __init__(self, maxsize: int = 0):
        if maxsize:
            raise ValueError("SlimQueue is unbounded")
        self._items: list | None = None
        self._head = 0
        self._getters: list[asyncio.Future] | None = None
        self._unfinished = 0
        self._joiners: list[asyncio.Future] | None = None

    def qsize(self) -> int:
        return len(self._items) - self._head if self._items else 0

    def empty(self) -> bool:
        return not self.qsize()

    def full(self) -> bool:
        return False

    def put_nowait(self, item) -> None:
        self._unfinished += 1
        # Straight to a waiting consumer (one whose wait timed out or was cancelled takes nothing).
        while self._getters:
            getter = self._getters.pop(0)
            if not getter.done():
                getter.set_result(item)
                return
        if self._items is None:
            self._items = []
        self._items.append(item)

    async def put(self, item) -> None:
        self.put_nowait(item)

    def get_nowait(self):
        if not self.qsize():
            raise asyncio.QueueEmpty
        item = self._items[self._head]
        self._items[self._head] = None
        self._head += 1
        if self._head == len(self._items):
            self._items, self._head = None, 0
        elif self._head >= _COMPACT_AFTER and self._head * 2 >= len(self._items):
            del self._items[: self._head]
            self._head = 0
        return item

    def get(self) -> asyncio.Future:
        """The next item, as a future (awaited like asyncio.Queue.get()). A future, not a
        coroutine: `asyncio.wait_for(queue.get(), timeout)`, which python-engineio's writer
        keeps pending on every idle socket, then needs no task of its own. An item handed to a
        consumer that is cancelled before it runs is lost with it; both queues' consumers are
        cancelled only when their connection is closing."""
        future = asyncio.get_running_loop().create_future()
        if self.qsize():
            future.set_result(self.get_nowait())
            return future
        if self._getters is None:
            self._getters = []
        elif len(self._getters) > _COMPACT_AFTER:
            self._getters = [getter for getter in self._getters if not getter.done()]
        self._getters.append(future)
        return future

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if not self._unfinished and self._joiners:
            joiners, self._joiners = self._joiners, None
            for joiner in joiners:
                if not joiner.done():
                    joiner.set_result(None)

    async def join(self) -> None:
        if self._unfinished:
            joiner = asyncio.get_running_loop().create_future()
            if self._joiners is None:
                self._joiners = []
            self._joiners.append(joiner)
            await joiner
