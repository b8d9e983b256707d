"""kernel.slimqueue: the per-socket queue keeps asyncio.Queue's behaviour where the ASGI server
and python-engineio rely on it."""

import asyncio

import pytest

from kernel.slimqueue import SlimQueue


async def test_items_come_out_in_order_to_waiting_and_later_consumers():
    queue = SlimQueue()
    waiting = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("first")
    for i in range(200):  # past the point where consumed items are compacted away
        await queue.put(i)
    assert await waiting == "first"
    assert [await queue.get() for _ in range(150)] == list(range(150))
    assert queue.qsize() == 50 and not queue.empty()
    assert [queue.get_nowait() for _ in range(50)] == list(range(150, 200))
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()


async def test_a_timed_out_wait_takes_nothing_and_join_waits_for_task_done():
    queue = SlimQueue()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)
    queue.put_nowait("kept")
    assert await asyncio.wait_for(queue.get(), 1) == "kept"
    joined = asyncio.ensure_future(queue.join())
    await asyncio.sleep(0)
    assert not joined.done()
    queue.task_done()
    await asyncio.wait_for(joined, 1)
    with pytest.raises(ValueError):
        queue.task_done()
    with pytest.raises(ValueError):
        SlimQueue(maxsize=5)
