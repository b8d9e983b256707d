"""Load scenarios: a slow consumer, a soak, a reconnect storm, and two processes behind nginx."""

from __future__ import annotations

import asyncio
import time

from faultlib.base import Context, Stage
from faultlib.chat import Ledger, connect_all, load, until_delivered
from faultlib.services import PrivateNginx
from faultlib.stalled import StalledClient

BIG_TEXT = 3_900  # characters: near MESSAGE_MAX_LENGTH, so the stalled socket's buffer fills fast


async def _settled_rss(server, seconds: float = 3.0) -> float:
    await asyncio.sleep(seconds)
    return server.rss_mb()


async def _burst(sender, to: str, count: int, tag: str, ledger: Ledger, concurrency: int = 8) -> None:
    async def one(n):
        ack = await sender.send(to, f"{tag}{n:06d}" + "y" * BIG_TEXT, f"{tag}-{n}")
        if ack.get("success"):
            ledger.acked[to][ack["messageId"]] = time.monotonic()
        else:
            ledger.failed += 1

    for start in range(0, count, concurrency):
        await asyncio.gather(*(one(n) for n in range(start, min(start + concurrency, count))))


async def slow_consumer(ctx: Context) -> Stage:
    async with Stage(ctx, "slow_consumer") as stage:
        limit = 2 * 1024 * 1024 if ctx.short else 8 * 1024 * 1024
        # The suggestion learner keeps models of what it learns (up to ASSIST_MODEL_CACHE_MB): off
        # here, so the figures are the socket's alone.
        a = stage.server("a", SOCKET_MAX_BUFFER_BYTES=limit, ASSIST_LEARN_IN_SERVER="false")
        sender_id, reader_id, frozen_id = stage.users(a, 3)
        sender, reader = stage.client(a.url, sender_id), stage.client(a.url, reader_id)
        await connect_all([sender, reader])
        # Each message carries its text twice (text and content); the kernel takes up to 4 MiB
        # (tcp_wmem) before anything waits in the process.
        count = int((limit + 6 * 1024 * 1024) / (2 * BIG_TEXT))
        # Warm-up: the same volume to a reader, so the baseline includes what any such load costs.
        warm = Ledger()
        await _burst(sender, reader_id, count, "warm", warm)
        await until_delivered(warm, {reader_id: [reader]}, 30)
        before = await _settled_rss(a)
        stalled = await asyncio.to_thread(StalledClient, a.url, frozen_id)
        ledger, others = Ledger(), Ledger()
        started = time.monotonic()
        samples = [before]

        async def sample():
            while True:
                samples.append(a.rss_mb())
                await asyncio.sleep(0.2)

        sampler = asyncio.create_task(sample())
        await asyncio.gather(
            _burst(sender, frozen_id, count, "stuck", ledger), _burst(sender, reader_id, 200, "other", others, 2)
        )
        sampler.cancel()
        peak = max(samples)
        # The line is written once the shed session has closed: give that a moment.
        deadline = time.monotonic() + 5
        while not (shed := '"socket.overflow"' in a.log()) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        stage.check("the stalled socket is disconnected once past SOCKET_MAX_BUFFER_BYTES", shed)
        took = await until_delivered(others, {reader_id: [reader]}, 20)
        stage.check("the other user got every message meanwhile", took is not None and not reader.dropped,
                    f"{others.lost_count({reader_id: [reader]})} missing")  # fmt: skip
        after = await _settled_rss(a)
        stage.check("memory back within 5 MB of before", after - before <= 5, f"{before:.1f} → {after:.1f} MB")
        ctx.figures[f"slow consumer (limit {limit // 1048576} MiB): RSS before / peak / after"] = (
            f"{before:.1f} / {peak:.1f} / {after:.1f} MB ({count} messages of {BIG_TEXT} characters in "
            f"{time.monotonic() - started:.1f} s)"
        )
        await asyncio.to_thread(stalled.close)
        stage.json_logs_check()
    return stage


async def soak(ctx: Context) -> Stage:
    async with Stage(ctx, "soak") as stage:
        seconds = 12 if ctx.short else 300
        a, b = stage.server("a"), stage.server("b")
        ids = stage.users(a, 16)
        clients = [stage.client((a if i % 2 else b).url, cid) for i, cid in enumerate(ids)]
        await connect_all(clients)
        ledger, stop = Ledger(), asyncio.Event()
        running = asyncio.create_task(load(clients, ids, ledger, rate=60, stop=stop))
        samples = []
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            await asyncio.sleep(seconds / 12)
            samples.append(a.rss_mb() + b.rss_mb())
        stop.set()
        await running
        recipients = {c.clerk_id: [c] for c in clients}
        await until_delivered(ledger, recipients, 30)
        lost = ledger.lost_count(recipients)
        acked = sum(len(v) for v in ledger.acked.values())
        stage.check("0 lost, 0 failed", lost == 0 and ledger.failed == 0,
                    f"{acked} acked, {lost} lost, {ledger.failed} failed")  # fmt: skip
        # The first half warms up (connection pools, the suggestion models' cache, allocator arenas).
        half = samples[len(samples) // 2]
        stage.check("memory flat (the second half grows less than 10 MB)", samples[-1] - half < 10,
                    f"{half:.1f} → {samples[-1]:.1f} MB for both processes")  # fmt: skip
        ctx.figures[f"soak {seconds} s at 60 msg/s, two processes"] = (
            f"{acked} delivered, RSS {samples[0]:.0f} → {samples[-1]:.0f} MB"
        )
        stage.json_logs_check()
    return stage


async def reconnect_storm(ctx: Context) -> Stage:
    async with Stage(ctx, "reconnect_storm") as stage:
        count = 200 if ctx.short else 1000
        a = stage.server("a")
        ids = stage.users(a, count)
        clients = [stage.client(a.url, cid, reconnect=True) for cid in ids]
        await connect_all(clients, batch=100)
        a.kill()
        await asyncio.sleep(1)
        await asyncio.to_thread(a.start)
        ready = time.monotonic()

        async def all_back():
            await asyncio.gather(*(c.registered.wait() for c in clients))

        try:
            await asyncio.wait_for(all_back(), 60)
            took = time.monotonic() - ready
        except TimeoutError:
            took = None
        back = sum(c.registered.is_set() for c in clients)
        stage.check(f"all {count} sockets back and registered within 60 s", took is not None, f"{back} back")
        if took is not None:
            ctx.figures[f"reconnect storm: {count} sockets back after the server is ready"] = f"{took:.1f} s"
        stage.json_logs_check()
    return stage


async def nginx(ctx: Context) -> Stage:
    async with Stage(ctx, "nginx") as stage:
        if not ctx.nginx_bin:
            stage.check("nginx is installed", False, "no nginx binary (scripts/faults installs Debian's)")
            return stage
        a, b = stage.server("a"), stage.server("b")
        proxy = PrivateNginx(ctx.workdir / f"nginx-{ctx.run_id}", [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"],
                             binary=ctx.nginx_bin).start()  # fmt: skip
        stage.callback(proxy.stop)
        ids = stage.users(a, 24)
        # Distinct loopback source addresses, so the proxy's per-address stickiness spreads them.
        clients = [
            stage.client(proxy.url, cid, transport="polling" if i % 2 else "websocket", local_addr=f"127.0.0.{10 + i}")
            for i, cid in enumerate(ids)
        ]  # fmt: skip
        await connect_all(clients)
        ledger, stop = Ledger(), asyncio.Event()
        running = asyncio.create_task(load(clients, ids, ledger, rate=40, stop=stop))
        await asyncio.sleep(5 if ctx.short else 30)
        stop.set()
        await running
        recipients = {c.clerk_id: [c] for c in clients}
        await until_delivered(ledger, recipients, 20)
        lost, acked = ledger.lost_count(recipients), sum(len(v) for v in ledger.acked.values())
        stage.check("WebSocket and polling sockets stay connected through nginx",
                    not any(c.dropped for c in clients), f"{sum(c.dropped for c in clients)} dropped")  # fmt: skip
        stage.check("0 lost, 0 failed through nginx", lost == 0 and ledger.failed == 0,
                    f"{acked} acked, {lost} lost, {ledger.failed} failed: {dict(ledger.errors)}")  # fmt: skip
        served = [server.log().count("register_user") for server in (a, b)]
        stage.check("both processes serve sockets", all(served), f"register_user lines per process: {served}")
        stage.json_logs_check()
    return stage
