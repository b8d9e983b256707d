"""The REST scenario: the two read routes a client hits most, under N concurrent connections.

Seeding goes through the public API only, the same way on both servers (benchlib/sockets.mjs
seed): users P_0..P_50 by `POST /users`; each of P_1..P_50 sends P_0 one message over Socket.IO,
which gives P_0 fifty contact rows on either server (the old server's `POST /contacts` asks
Clerk about the contact first, so it cannot work offline); P_1 then sends P_0 sixty more, so their
conversation holds 61 messages. Then autocannon loads, as P_0 (`x-clerk-id`, the dev identity on
both servers), `GET /contacts` and `GET /conversations/{id}/messages?limit=50`, one route after
the other, while the server's process tree and its PostgreSQL connections are measured from /proc.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

from benchlib.procs import cpu_seconds, http, process_tree

HERE = Path(__file__).resolve().parent
CONTACTS, MESSAGES = 50, 60
ROUTES = (
    ("GET /contacts", "/contacts", "contacts"),
    ("GET /conversations/{id}/messages?limit=50", "/conversations/{id}/messages?limit=50", "messages"),
)


def seed(env, target, log_path: Path) -> dict:
    prefix = f"r{uuid.uuid4().hex[:6]}"
    if target.user_setup == "manage":
        target.create_users(prefix, CONTACTS + 1)
    rest = target.rest_url if target.user_setup == "http" else "none"
    argv = [
        "node",
        str(HERE / "sockets.mjs"),
        "seed",
        "--modules",
        str(env.tools),
        "--url",
        target.socket_url,
        "--rest",
        rest,
        "--prefix",
        prefix,
        "--contacts",
        str(CONTACTS),
        "--messages",
        str(MESSAGES),
        "--timeout",
        "300",
    ]
    with open(log_path, "ab") as log:
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=log, timeout=330)
    lines = out.stdout.decode().strip().splitlines()
    if out.returncode or not lines:
        raise RuntimeError(f"seeding {target.name} failed ({out.returncode}); see {log_path}")
    return json.loads(lines[-1])


def _items(text: str, key: str) -> int | None:
    try:
        body = json.loads(text)
    except ValueError:
        return None
    if isinstance(body, dict):
        body = body.get(key)
    return len(body) if isinstance(body, list) else None


def autocannon(env, url: str, headers: dict, connections: int, duration: float) -> dict:
    argv = ["node", str(env.autocannon), "-c", str(connections), "-d", str(max(1, round(duration))), "-j"]
    for k, v in headers.items():
        argv += ["-H", f"{k}={v}"]
    out = subprocess.run([*argv, url], capture_output=True, text=True, timeout=duration + 120)
    if out.returncode:
        raise RuntimeError(f"autocannon failed: {out.stderr[-1500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(env, target, connections: int, duration: float, log_path: Path, raw_dir: Path, tag: str) -> dict:
    """{route label: row} for both routes."""
    s = seed(env, target, log_path)
    headers = {"x-clerk-id": s["owner"]}
    rows = {}
    for label, path, key in ROUTES:
        url = target.rest_url + path.replace("{id}", str(s["conversationId"]))
        status, text = http("GET", url, headers=headers, timeout=30)
        probe_items = _items(text, key) if status == 200 else None
        tree, db = process_tree(target.pid), target.db_pids()
        cpu0, db0 = cpu_seconds(tree), cpu_seconds(db)
        result = autocannon(env, url, headers, connections, duration)
        cpu1, db1 = cpu_seconds(process_tree(target.pid)), cpu_seconds(db)
        name = "contacts" if key == "contacts" else "messages"
        (raw_dir / f"{target.name}-{tag}-{name}.json").write_text(json.dumps(result, indent=1) + "\n")
        total = result["requests"]["total"]
        seconds = result.get("duration") or duration
        cpu, dbcpu = cpu1 - cpu0, db1 - db0
        rows[label] = {
            "req_s": total / seconds if seconds else None,
            "p50": result["latency"].get("p50"),
            "p99": result["latency"].get("p99"),
            "requests": total,
            "non2xx": result.get("non2xx", 0),
            "errors": result.get("errors", 0) + result.get("timeouts", 0),
            "server_core": cpu / seconds * 100 if seconds else None,
            "server_us": cpu / total * 1e6 if total else None,
            "db_us": dbcpu / total * 1e6 if total and db else None,
            "probe_status": status,
            "items": probe_items,
            "seed_failed": s["failed"] + s.get("unregistered", 0),
        }
    return rows
