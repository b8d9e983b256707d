"""Child processes, PostgreSQL databases and small HTTP probes for scripts/bench (stdlib only)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


class Processes:
    """Every server the benchmark starts, each in its own session so its whole group stops."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen]] = []

    def spawn(self, name: str, argv: list[str], *, env: dict, cwd: Path) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.started.append((name, proc))
        return proc

    def stop_all(self) -> None:
        # Each child leads its own process group (start_new_session), so signalling the group
        # by the child's pid reaches its helpers too and nothing else.
        for _, proc in reversed(self.started):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 8
        for _, proc in reversed(self.started):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)
        self.started.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, *, headers: dict | None = None, body: dict | None = None, timeout=5):
    """(status, text) or (None, error) when nothing answered."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (OSError, urllib.error.URLError) as exc:
        return None, str(exc)


def wait_for_socketio(url: str, proc: subprocess.Popen, *, timeout: float, log: Path) -> None:
    """Until an Engine.IO polling handshake answers 200 (the server accepts sockets)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log}")
        status, _ = http("GET", f"{url}/socket.io/?EIO=4&transport=polling", timeout=2)
        if status == 200:
            return
        time.sleep(0.3)
    raise RuntimeError(f"no Socket.IO answer on {url} after {timeout:.0f} s; see {log}")


class Postgres:
    """The benchmark's own databases on a server reachable with psql (trust or PG* variables)."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def url(self, db: str) -> str:
        return f"{self.base_url}/{db}"

    def psql(self, db: str, sql: str) -> str:
        out = subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.url(db), "-c", sql],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if out.returncode:
            raise RuntimeError(f"psql on {db}: {out.stderr.strip()}")
        return out.stdout.strip()

    def recreate(self, db: str) -> None:
        assert db.startswith("biosync_bench"), db  # never drop anything but our own databases
        self.psql("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        self.psql("postgres", f'CREATE DATABASE "{db}"')

    def backend_pids(self, db: str) -> list[int]:
        """Server processes of the connections to `db` (the servers keep pooled connections)."""
        rows = self.psql(
            "postgres", f"SELECT pid FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()"
        )
        pids = [int(p) for p in rows.split() if p]
        return [p for p in pids if Path(f"/proc/{p}").exists()]  # only when PostgreSQL is local

    def count_messages(self, db: str, prefix: str) -> int:
        # Both schemas keep messages in `messages` with the sender in `from_clerk_id`.
        return int(self.psql(db, f"SELECT count(*) FROM messages WHERE from_clerk_id LIKE '{prefix}\\_%'"))


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, from /proc (empty when `root` is gone)."""
    parents: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(d.name))
    if not Path(f"/proc/{root}").exists():
        return []
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def rss_kb(pids: list[int]) -> int:
    """Sum of VmRSS (resident set, KiB) of these processes; shared pages count once per process."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            pass
    return total


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes (not their children: pass the whole tree)."""
    tck = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / tck
