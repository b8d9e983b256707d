"""`suggest` latency: a real server on PostgreSQL + Redis, USERS typists each typing the rest of
their chat over Socket.IO, one `suggest` per selection (after a history learned by the server).

Run by main.py; `python latency.py seed` is the child that fills the benchmark database.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATABASE = "biosync_bench_assist"


def seed(pairs: int, history: int) -> None:
    """The chats' first `history` messages, stored and learned as the server would."""
    import django

    django.setup()
    from assist.learning import assist_learn_pending
    from assistbench.corpus import conversation
    from chat.models import Conversation, Message
    from users.models import User

    for i in range(pairs):
        typist, carer = f"bench_typist{i}", f"bench_carer{i}"
        User.objects.bulk_create([User(clerk_id=typist, is_paralyzed=True), User(clerk_id=carer)])
        chat = Conversation.objects.create(user1_id=min(typist, carer), user2_id=max(typist, carer))
        rows = conversation(typist, carer, history, seed=i)
        Message.objects.bulk_create([Message(conversation=chat, sender_id=m.sender, recipient_id=m.recipient,
                                             content=m.text) for m in rows])  # fmt: skip
    while assist_learn_pending(batch=2000, settle_seconds=0):
        pass


async def _typist(
    url: str, index: int, history: int, duration: float, pace: float, latencies: list[float], ready, phase: float
):
    import socketio

    from assistbench.corpus import conversation
    from assistbench.simulate import typing_steps

    me, carer = f"bench_typist{index}", f"bench_carer{index}"
    # Generated before the clock starts: it would hold up every client's loop.
    to_type = [m.text for m in conversation(me, carer, history * 2, seed=index)[history:] if m.sender == me]
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, transports=["websocket"])
    await client.call("register_user", {"clerkId": me}, timeout=10)
    # Warm-up, not measured: the server builds its base model and parses this user's model once.
    await client.call("suggest", {"text": "", "toClerkId": carer}, timeout=60)
    await ready.wait_for_everyone()
    # People typing at the same time are not in step to the millisecond: each starts at its own
    # point of the pace interval (phase), unless --aligned asks for the all-at-once worst case.
    await asyncio.sleep(phase)
    deadline = time.monotonic() + duration
    try:
        for text in to_type:
            steps = typing_steps(text)
            try:
                typed, _ = next(steps)
                while True:
                    started = time.perf_counter()
                    answer = await client.call("suggest", {"text": typed, "toClerkId": carer}, timeout=10)
                    latencies.append(time.perf_counter() - started)
                    if time.monotonic() > deadline:
                        return
                    await asyncio.sleep(pace)
                    typed, _ = steps.send((answer["words"], answer["replies"]))
            except StopIteration:
                pass
    finally:
        await client.disconnect()


class Barrier:
    def __init__(self, parties: int):
        self.parties, self.arrived, self.event = parties, 0, asyncio.Event()

    async def wait_for_everyone(self):
        self.arrived += 1
        if self.arrived == self.parties:
            self.event.set()
        await self.event.wait()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(args) -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    from benchlib.procs import Postgres, Processes, free_port, wait_for_socketio

    pg = Postgres(os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    pg.recreate(DATABASE)
    port = free_port()
    env = {
        **os.environ, "DATABASE_URL": pg.url(DATABASE),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "REDIS_KEY_PREFIX": f"assist-bench-{uuid.uuid4().hex[:6]}", "DEBUG": "false", "LOG_LEVEL": "WARNING",
        "AUTH_MODE": "dev", "ALLOWED_HOSTS": "*", "PORT": str(port), "SOCKET_PORT": str(port),
    }  # fmt: skip
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    started = time.perf_counter()
    subprocess.run(
        [python, __file__, "seed", str(args.users), str(args.latency_history)], cwd=REPO, env=env, check=True
    )
    print(f"seeded and learned {args.users} x {args.latency_history} messages in {time.perf_counter() - started:.0f} s")
    log_dir = REPO / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = Processes(log_dir)
    try:
        server = processes.spawn("assist-server", [python, "-m", "biosync.serve"], env=env, cwd=REPO)
        url = f"http://127.0.0.1:{port}"
        wait_for_socketio(url, server, timeout=60, log=log_dir / "assist-server.log")
        latencies: list[float] = []

        async def everyone():
            ready = Barrier(args.users)
            phases = random.Random(7)
            await asyncio.gather(*(
                _typist(url, i, args.latency_history, args.duration, args.pace_ms / 1000, latencies, ready,
                        phase=0.0 if args.aligned else phases.uniform(0, args.pace_ms / 1000))
                for i in range(args.users)
            ))  # fmt: skip

        # The clients' own garbage collections (this process holds the corpus) paused all 50 of
        # them for up to ~60 ms: a client-side tail, not the server's. Off while they type.
        gc.collect()
        gc.disable()
        try:
            asyncio.run(everyone())
        finally:
            gc.enable()
    finally:
        processes.stop_all()
    ms = [v * 1000 for v in latencies]
    start = "all starting in the same millisecond" if args.aligned else "each starting at its own phase"
    print(f"suggest over Socket.IO, {args.users} typists at once ({start}), one call per selection "
          f"({args.pace_ms} ms between selections), {args.duration} s, PostgreSQL + Redis:")  # fmt: skip
    print(f"  calls {len(ms)} ({len(ms) / args.duration:.0f}/s)  p50 {_percentile(ms, 0.5):.1f} ms  "
          f"p99 {_percentile(ms, 0.99):.1f} ms  max {max(ms):.1f} ms")  # fmt: skip


if __name__ == "__main__" and sys.argv[1:2] == ["seed"]:
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "scripts"))
    seed(int(sys.argv[2]), int(sys.argv[3]))
