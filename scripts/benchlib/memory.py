"""The idle-socket memory scenario: server RSS with N registered, idle sockets held.

benchlib/sockets.mjs (run with the chatload tools' socket.io-client) creates the users, primes
the server with a few connections, then on command connects N websockets, registers each
(`register_user` → `registered`), holds them, and disconnects them on command. Here: read the
server's RSS (its whole process tree, from /proc) once it settles before, while held, and after
the disconnect; the cost per socket is (held − before) ÷ registered sockets.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
import uuid
from pathlib import Path

from benchlib.procs import process_tree, rss_kb

HERE = Path(__file__).resolve().parent


def settled_rss(pid: int, *, quiet: float = 3.0, limit: float = 30.0, step: float = 0.5) -> tuple[int, float]:
    """(RSS in KiB of pid's tree, seconds waited) once it moved less than max(256 KiB, 0.5 %)
    over `quiet` seconds, or after `limit` seconds."""
    t0 = time.monotonic()
    samples: list[tuple[float, int]] = []
    while True:
        now = time.monotonic()
        samples.append((now, rss_kb(process_tree(pid))))
        recent = [kb for t, kb in samples if t >= now - quiet]
        if now - t0 >= quiet and max(recent) - min(recent) <= max(256, 0.005 * recent[-1]):
            return recent[-1], round(now - t0, 1)
        if now - t0 >= limit:
            return samples[-1][1], round(now - t0, 1)
        time.sleep(step)


class _Lines:
    """JSON lines from a child's stdout, with a timeout."""

    def __init__(self, proc: subprocess.Popen):
        self.proc, self.buf = proc, b""

    def next(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"sockets.mjs said nothing for {timeout:.0f} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise RuntimeError(f"sockets.mjs exited ({self.proc.wait()})")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def idle(env, target, sockets: int, log_path: Path) -> dict:
    prefix = f"i{uuid.uuid4().hex[:6]}"
    if target.user_setup == "manage":
        target.create_users(prefix, sockets)
    rest = target.rest_url if target.user_setup == "http" else "none"
    argv = [
        "node",
        str(HERE / "sockets.mjs"),
        "idle",
        "--modules",
        str(env.tools),
        "--url",
        target.socket_url,
        "--rest",
        rest,
        "--prefix",
        prefix,
        "--users",
        str(sockets),
        "--timeout",
        "900",
    ]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    lines = _Lines(proc)

    def say(word):
        proc.stdin.write(word.encode() + b"\n")
        proc.stdin.flush()

    try:
        primed = lines.next(120 + sockets * 0.1)
        before, wait_before = settled_rss(target.pid)
        say("connect")
        connected = lines.next(120 + sockets * 0.2)
        held, wait_held = settled_rss(target.pid)
        say("release")
        released = lines.next(60)
        after, wait_after = settled_rss(target.pid, limit=15)
    finally:
        if proc.poll() is None:
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    registered = connected["registered"]
    return {
        "sockets": sockets,
        "registered": registered,
        "connect_s": connected["ms"] / 1000,
        "rss_before_kb": before,
        "rss_held_kb": held,
        "rss_after_kb": after,
        "kb_per_socket": (held - before) / registered if registered else None,
        "dropped": released.get("droppedWhileHeld", 0),
        "settle_s": wait_held,
        "settle_limit_hit": wait_held >= 30 or wait_before >= 30,
        "primed": primed.get("primeRegistered"),
        "setup": primed.get("setup"),
    }
