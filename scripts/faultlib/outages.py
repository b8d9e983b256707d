"""Outage scenarios: a process killed, Redis restarted, PostgreSQL restarted, a Sentinel failover.

Each runs chat load across the processes, breaks something, restores it, stops the load, and
counts acked messages that never reached a recipient who stayed connected."""

from __future__ import annotations

import asyncio
import time

from faultlib.base import Context, Stage
from faultlib.chat import Ledger, connect_all, load, until_delivered
from faultlib.services import PrivateSentinels

RATE = 40  # messages per second across all senders
# Seconds for the last messages to arrive once the load stopped (short runs, full runs).
DELIVERY_WAIT = {True: 10.0, False: 30.0}


async def _two_processes(stage: Stage, users_each: int = 6, redis_url: str | None = None, **env):
    a, b = stage.server("a", redis_url, **env), stage.server("b", redis_url, **env)
    ids = stage.users(a, 2 * users_each)
    clients = [stage.client((a if i < users_each else b).url, cid) for i, cid in enumerate(ids)]
    await connect_all(clients)
    return a, b, ids, clients


def _recipients(clients):
    found = {}
    for client in clients:
        found.setdefault(client.clerk_id, []).append(client)
    return found


async def _load_around(stage: Stage, clients, ids, fault, *, before: float, after: float) -> tuple[Ledger, float]:
    """Load before, during and after `fault()` (which returns when the service is back);
    returns the ledger and the time the service was back."""
    ledger, stop = Ledger(), asyncio.Event()
    running = asyncio.create_task(load(clients, ids, ledger, rate=RATE, stop=stop))
    await asyncio.sleep(before)
    await fault()
    back = time.monotonic()
    await asyncio.sleep(after)
    stop.set()
    await running
    return ledger, back


async def _delivery_checks(stage: Stage, ledger: Ledger, clients, back: float, label: str) -> None:
    recipients = _recipients(clients)
    wait = DELIVERY_WAIT[stage.ctx.short]
    await until_delivered(ledger, recipients, wait)
    lost = ledger.lost_count(recipients)
    acked = sum(len(v) for v in ledger.acked.values())
    stage.check(
        "0 stored-but-never-delivered to connected recipients",
        lost == 0,
        f"{acked} acked, {lost} never reached a connected recipient ({wait:.0f} s after the load)",
    )
    # Of the messages acked before the service was back, when the last reached its recipient.
    before = {mid for ids in ledger.acked.values() for mid, at in ids.items() if at <= back}
    arrivals = [t for c in clients if not c.dropped for mid, t in c.received.items() if mid in before]
    if lost == 0 and arrivals:
        full = max(arrivals) - back
        stage.ctx.figures[f"{label}: last message acked before recovery delivered"] = f"{max(full, 0):.1f} s after"


async def kill_one_of_two(ctx: Context) -> Stage:
    async with Stage(ctx, "kill_one_of_two") as stage:
        a, b, ids, clients = await _two_processes(stage)

        async def fault():
            b.kill()

        ledger, back = await _load_around(stage, clients, ids, fault, before=2, after=3)
        survivors = [c for c in clients if not c.dropped]
        stage.check("the survivor's sockets stayed connected", len(survivors) == len(clients) // 2)
        await _delivery_checks(stage, ledger, clients, back, "SIGKILL of one of two processes")
        stage.json_logs_check()
    return stage


async def _redis_restart(ctx: Context, seconds: float) -> Stage:
    async with Stage(ctx, f"redis_restart_{seconds:g}s") as stage:
        ctx.redis.cli("flushall")
        a, b, ids, clients = await _two_processes(stage)

        async def fault():
            ctx.redis.kill()
            await asyncio.sleep(seconds)
            ctx.redis.start()

        ledger, back = await _load_around(stage, clients, ids, fault, before=2, after=3)
        stage.check("no socket dropped", not any(c.dropped for c in clients))
        stage.check("no send failed (stored and answered while Redis was down)", ledger.failed == 0,
                    f"{ledger.failed} failed: {dict(ledger.errors)}")  # fmt: skip
        await _delivery_checks(stage, ledger, clients, back, f"Redis down {seconds:g} s")
        stage.json_logs_check()
    return stage


async def redis_restart_3s(ctx: Context) -> Stage:
    return await _redis_restart(ctx, 3)


async def redis_restart_20s(ctx: Context) -> Stage:
    return await _redis_restart(ctx, 20)


async def postgres_restart(ctx: Context) -> Stage:
    async with Stage(ctx, "postgres_restart") as stage:
        a = stage.server("a", DB_POOL_TIMEOUT="2")
        ids = stage.users(a, 8)
        clients = [stage.client(a.url, cid) for cid in ids]
        await connect_all(clients)
        first_ok_after: list[float] = []

        async def fault():
            await asyncio.to_thread(ctx.postgres.stop)
            await asyncio.sleep(3)
            await asyncio.to_thread(ctx.postgres.start)

        ledger, back = await _load_around(stage, clients, ids, fault, before=2, after=5)
        unanswered = ledger.errors.get("TimeoutError", 0)
        stage.check("every send during the outage answered (no ack timeout)", unanswered == 0,
                    f"{ledger.failed} failed clearly ({dict(ledger.errors)})")  # fmt: skip
        acked_after = [t for ids_ in ledger.acked.values() for t in ids_.values() if t >= back]
        stage.check("sends succeed again after the restart, without a server restart", bool(acked_after))
        if acked_after:
            first_ok_after.append(min(acked_after) - back)
            ctx.figures["PostgreSQL down 3 s: first acked send after it is back"] = f"{first_ok_after[0]:.1f} s"
        await _delivery_checks(stage, ledger, clients, back, "PostgreSQL down 3 s")
        stage.json_logs_check()
    return stage


async def sentinel_failover(ctx: Context) -> Stage:
    async with Stage(ctx, "sentinel_failover") as stage:
        sentinels = PrivateSentinels(ctx.workdir / f"sentinel-{ctx.run_id}").start()
        stage.callback(sentinels.stop)
        a, b, ids, clients = await _two_processes(stage, redis_url=sentinels.url(0))
        failover: list[float] = []

        async def fault():
            failover.append(await asyncio.to_thread(sentinels.kill_primary_and_wait_for_failover))

        ledger, back = await _load_around(stage, clients, ids, fault, before=2, after=3)
        ctx.figures["Sentinel failover (primary SIGKILLed, down-after 1 s)"] = f"{failover[0]:.1f} s"
        stage.check("no socket dropped", not any(c.dropped for c in clients))
        stage.check("no send failed", ledger.failed == 0, f"{ledger.failed} failed: {dict(ledger.errors)}")
        await _delivery_checks(stage, ledger, clients, back, "Sentinel failover")
        # Presence on the new primary: a user who connects now is reached, and acked `delivered`.
        late_id = stage.users(b, 1, tag="_late")[0]
        late = stage.client(b.url, late_id)
        await late.connect()
        ack = await clients[0].send(late_id, "after the failover", f"late-{ctx.run_id}")
        arrived = await until_delivered(
            _single(ack, late_id), {late_id: [late]}, 15.0
        ) if ack.get("success") else None  # fmt: skip
        stage.check("presence and delivery work on the new primary", ack.get("status") == "delivered" and arrived is not None,
                    f"ack {ack}")  # fmt: skip
        stage.json_logs_check()
    return stage


def _single(ack: dict, to: str) -> Ledger:
    ledger = Ledger()
    ledger.acked[to][ack["messageId"]] = time.monotonic()
    return ledger
