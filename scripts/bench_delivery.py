"""Cross-process delivery under faults, measured (not a test: it takes about a minute).

    scripts/bench_delivery [--scenarios redis3,redis20,kill] [--pairs 20] [--rate 100]
        [--database-url postgres://postgres@127.0.0.1:5432/biosync_bench_delivery]

Two server processes (`python -m biosync.serve`) on a private Redis (a free loopback port) and
a PostgreSQL database of their own (dropped and recreated). PAIRS senders send RATE messages/s
in all, each to its own recipient, which stays connected to the other process, over WebSocket.
- redisN: Redis is killed (SIGKILL) after 2 s, started again N s later (empty, as after a
  crash without persistence); sending goes on throughout and 2 s after.
- kill: half the senders are on each process; the second process is killed (SIGKILL) after 2 s;
  the first process's senders go on for 3 s to the dead process's users.
Then it waits (at most 60 s) until every message in the database has reached its connected
recipient, and reports per scenario: messages stored, never delivered to a connected recipient,
duplicated, out of order, and the time from Redis coming back (or the kill) to the last one
arriving; for kill, also messages to the dead process's users that the database still calls
delivered (false) after DELIVERY_CONFIRM_SECONDS, and the "saved" corrections their senders got.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import socketio

REPO = Path(__file__).resolve().parent.parent
CONFIRM_SECONDS = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(text: str) -> None:
    print(f"[bench_delivery] {text}", file=sys.stderr, flush=True)


class Redis:
    def __init__(self):
        self.port, self.process = free_port(), None

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout != b"PONG\n":
            time.sleep(0.02)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def recreate(database_url: str) -> None:
    parsed = urlparse(database_url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.path[1:]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.path[1:]}"')
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True)


def create_users(database_url: str, clerk_ids: list[str]) -> None:
    code = f"from users.services import user_create\nfor c in {clerk_ids!r}:\n    user_create(clerk_id=c)\n"
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=REPO, env=env, check=True, capture_output=True
    )


def start_server(
    database_url: str, redis: Redis, prefix: str, log_dir: Path, name: str
) -> tuple[str, subprocess.Popen]:
    port = free_port()
    env = {
        **os.environ, "DATABASE_URL": database_url, "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
        "REDIS_KEY_PREFIX": prefix, "HOST": "127.0.0.1", "PORT": str(port), "SOCKET_PORT": str(port),
        "DEBUG": "false", "ALLOWED_HOSTS": "*", "RATE_LIMIT_MESSAGES": "100000", "LOG_LEVEL": "WARNING",
        "PRESENCE_HEARTBEAT_SECONDS": "1", "PRESENCE_LEASE_SECONDS": "30",
        "DELIVERY_CONFIRM_SECONDS": str(CONFIRM_SECONDS),
    }  # fmt: skip
    out = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child holds it
    process = subprocess.Popen([sys.executable, "-m", "biosync.serve"], cwd=REPO, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return f"http://127.0.0.1:{port}", process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"server {name} did not start; see {log_dir / name}.log") from None
            time.sleep(0.1)


class User:
    def __init__(self, clerk_id: str):
        self.clerk_id = clerk_id
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: list[tuple[int, float]] = []  # (message id, arrival)
        self.statuses: list[tuple[int, str]] = []
        self.sio.on("receive_message", self._receive)
        self.sio.on("message_delivered", self._status)

    async def _receive(self, payload, *_):
        self.received.append((payload["messageId"], time.monotonic()))

    async def _status(self, payload, *_):
        self.statuses.append((payload["messageId"], payload["status"]))

    async def connect(self, url: str) -> None:
        registered = asyncio.get_running_loop().create_future()
        self.sio.on("registered", lambda data: registered.done() or registered.set_result(data))
        await self.sio.connect(url, transports=["websocket"])
        await self.sio.emit("register_user", {"clerkId": self.clerk_id})
        await asyncio.wait_for(registered, 10)


async def sender_loop(sender: User, to: str, interval: float, stop_at: float, acks: list) -> None:
    n = 0
    while time.monotonic() < stop_at and sender.sio.connected:
        started = time.monotonic()
        try:
            ack = await sender.sio.call(
                "send_message", {"fromClerkId": sender.clerk_id, "toClerkId": to, "text": f"m{n}"}, timeout=10
            )
            if ack.get("success"):
                acks.append((ack["messageId"], ack["status"], time.monotonic()))
        except Exception:
            pass  # a killed process: its senders stop
        n += 1
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


def stored_messages(database_url: str, prefix: str) -> list[tuple[int, str, str, bool]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT id, from_clerk_id, to_clerk_id, delivered_at IS NOT NULL FROM messages "
            "WHERE from_clerk_id LIKE %s ORDER BY id",
            [f"{prefix}%"],
        ).fetchall()


async def scenario(name: str, a) -> dict:
    prefix = f"bd{uuid.uuid4().hex[:6]}"
    redis = Redis()
    redis.start()
    log_dir = Path(a.out)
    killing = name == "kill"
    outage = 0.0 if killing else float(name.removeprefix("redis"))
    senders = [f"{prefix}_s{i}" for i in range(a.pairs)]
    recipients = [f"{prefix}_r{i}" for i in range(a.pairs)]
    create_users(a.database_url, senders + recipients)
    (url_a, proc_a), (url_b, proc_b) = (
        start_server(a.database_url, redis, prefix, log_dir, f"{name}-{x}") for x in "ab"
    )
    users = {c: User(c) for c in senders + recipients}
    # redisN: every sender on a, every recipient on b. kill: half each way; b is killed.
    on_b = set(recipients) if not killing else set(senders[a.pairs // 2 :]) | set(recipients[: a.pairs // 2])
    await asyncio.gather(*(u.connect(url_b if c in on_b else url_a) for c, u in users.items()))
    acks: dict[str, list] = {s: [] for s in senders}
    start = time.monotonic()
    fault_at, back_at = start + 2.0, start + 2.0 + outage
    stop_at = back_at + (3.0 if killing else 2.0)
    interval = a.pairs / a.rate
    loops = [sender_loop(users[s], r, interval, stop_at, acks[s]) for s, r in zip(senders, recipients)]

    async def fault():
        await asyncio.sleep(fault_at - time.monotonic())
        if killing:
            proc_b.send_signal(signal.SIGKILL)
            log(f"{name}: process b killed")
            return
        redis.kill()
        log(f"{name}: Redis killed")
        await asyncio.sleep(back_at - time.monotonic())
        redis.start()
        log(f"{name}: Redis back")

    await asyncio.gather(fault(), *loops)
    # Connected recipients: all of them for redisN, those on a for kill.
    connected = {r for r in recipients if not (killing and r in on_b)}
    deadline = time.monotonic() + 60
    while True:
        stored = stored_messages(a.database_url, prefix)
        missing = [m for m in stored if m[2] in connected and m[0] not in {i for i, _ in users[m[2]].received}]
        if not missing or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    if killing:
        await asyncio.sleep(CONFIRM_SECONDS + 1.5)  # the corrections' deadline, and their flush
        stored = stored_messages(a.database_url, prefix)
    result = {"scenario": name, "stored": len(stored), "acked": sum(len(v) for v in acks.values())}
    result["never_delivered"] = len(missing)
    duplicated = out_of_order = 0
    # Everything acked before Redis came back (before the kill) reached its connected recipient by then.
    settled_at = fault_at if killing else back_at
    acked_before = {i for v in acks.values() for i, _, t in v if t < settled_at}
    last_arrival = settled_at
    for r in connected:
        ids = [i for i, _ in users[r].received]
        duplicated += len(ids) - len(set(ids))
        out_of_order += sum(1 for x, y in zip(ids, ids[1:]) if y < x)
        last_arrival = max([last_arrival, *(t for i, t in users[r].received if i in acked_before)])
    result |= {"duplicated": duplicated, "out_of_order": out_of_order}
    result["full_delivery_after_s"] = round(last_arrival - settled_at, 2)
    if killing:
        dead = {r for r in recipients if r in on_b}
        reached = {i for r in dead for i, _ in users[r].received}
        unreached = [m for m in stored if m[2] in dead and m[0] not in reached]
        result["to_dead_process_unreached"] = len(unreached)
        result["false_delivered"] = sum(1 for m in unreached if m[3])
        corrected = {i for s in senders for i, status in users[s].statuses if status == "saved"}
        result["announced_delivered_then_saved"] = sum(1 for m in unreached if m[0] in corrected)
    for u in users.values():
        if u.sio.connected:
            await u.sio.disconnect()
    for process in (proc_a, proc_b):
        if process.poll() is None:
            process.terminate()
            process.wait(10)
    redis.kill()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", default="redis3,redis20,kill")
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--rate", type=float, default=100.0, help="messages/s in all")
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/biosync_bench_delivery")
    ap.add_argument("--out", default=None, help="server logs (default var/bench_delivery/<time>)")
    a = ap.parse_args()
    a.out = a.out or str(REPO / "var" / "bench_delivery" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    Path(a.out).mkdir(parents=True, exist_ok=True)
    recreate(a.database_url)
    results = [asyncio.run(scenario(name, a)) for name in a.scenarios.split(",")]
    for result in results:
        print(json.dumps(result))
    (Path(a.out) / "results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
