"""The floor of `GET /contacts` on this stack: the same work with none of BioSync's code.

    scripts/rest_floor [--duration 8] [--repeat 2] [--connections 32] [--modes bare,thread,async]

Serves scripts/benchlib/restfloor_app.py with uvicorn as biosync.serve does (uvloop, httptools,
one process) on a PostgreSQL database of its own holding one owner with 50 contacts (half of
them online in Redis), and loads it with autocannon like `scripts/bench --scenarios rest`.
Each mode does one Redis script call and one PostgreSQL query and writes 50 contacts with
orjson: `thread` with the blocking client APIs on worker threads (the way Django, and so our
server, runs them), `async` with their asyncio APIs on the event loop; `bare` writes a stored
body (uvicorn alone). Prints requests/s and server CPU per request, the median of the rounds.
See the README's Performance section.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

import redis  # noqa: E402
from benchlib import prepare, rest  # noqa: E402
from benchlib.procs import Postgres, Processes, cpu_seconds, free_port, http  # noqa: E402

DATABASE = "biosync_bench_restfloor"
SCHEMA = """
CREATE TABLE floor_users (id text PRIMARY KEY, username text, full_name text, image_url text,
    is_paralyzed boolean, last_seen_at timestamptz);
CREATE TABLE floor_contacts (id bigserial PRIMARY KEY, owner_id text REFERENCES floor_users,
    contact_id text REFERENCES floor_users, nickname text, last_message_preview text,
    last_message_at timestamptz, unread_count integer, created_at timestamptz);
CREATE INDEX floor_contacts_owner ON floor_contacts (owner_id, last_message_at DESC);
INSERT INTO floor_users SELECT 'owner', 'owner', 'The Owner', NULL, false, now();
INSERT INTO floor_users SELECT g::text, 'user' || g, 'User Number ' || g, 'https://img.example/' || g || '.png',
    g % 3 = 0, now() - g * interval '1 minute' FROM generate_series(1, 50) g;
INSERT INTO floor_contacts (owner_id, contact_id, nickname, last_message_preview, last_message_at, unread_count, created_at)
    SELECT 'owner', g::text, NULL, 'the last thing user ' || g || ' wrote, cut to a preview',
    now() - g * interval '1 hour', g % 4, now() - interval '1 day' FROM generate_series(1, 50) g;
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--modes", default="bare,thread,async")
    args = parser.parse_args()
    workdir = Path(os.environ.get("BENCH_WORKDIR", "/tmp/biosync-bench"))
    tools = prepare.tools(Path(os.environ.get("BENCH_TOOLS", "/work/shared/bench")), workdir)
    load = SimpleNamespace(autocannon=prepare.autocannon(tools, workdir))
    pg = Postgres(os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    pg.recreate(DATABASE)
    pg.psql(DATABASE, SCHEMA)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"biosync-restfloor-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_url)
    for i in range(1, 51, 2):
        client.set(f"{prefix}:online:{i}", 1, ex=3600)
    log_dir = Path(__file__).resolve().parent.parent / "var" / "bench" / "rest_floor"
    log_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    try:
        for mode in args.modes.split(","):
            rounds = [
                _round(mode, args, load, pg.url(DATABASE), redis_url, prefix, log_dir) for _ in range(args.repeat)
            ]
            results[mode] = (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds))
            print(f"[rest_floor] {mode}: rounds {rounds}", file=sys.stderr, flush=True)
    finally:
        client.delete(*[f"{prefix}:online:{i}" for i in range(1, 51, 2)])
    print(f"\nGET /contacts floor, {args.connections} connections, {args.duration:g} s x {args.repeat} (medians)\n")
    print("| mode | req/s | server CPU µs/req |\n|---|---|---|")
    for mode, (rps, cpu) in results.items():
        print(f"| {mode} | {rps:,.0f} | {cpu:,.0f} |")
    return 0


def _round(mode, args, load, database_url, redis_url, prefix, log_dir) -> tuple[float, float]:
    port = free_port()
    env = {**os.environ, "FLOOR_MODE": mode, "FLOOR_DATABASE_URL": database_url, "FLOOR_REDIS_URL": redis_url,
           "FLOOR_PREFIX": prefix}  # fmt: skip
    argv = [sys.executable, "-m", "uvicorn", "benchlib.restfloor_app:app", "--port", str(port), "--loop", "uvloop",
            "--http", "httptools", "--log-level", "warning", "--no-access-log"]  # fmt: skip
    processes = Processes(log_dir)
    server = processes.spawn(f"floor-{mode}", argv, env=env, cwd=Path(__file__).resolve().parent)
    url = f"http://127.0.0.1:{port}/contacts"
    try:
        deadline = time.monotonic() + 30
        while http("GET", url, timeout=2)[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"the floor server did not answer; see {log_dir}")
            time.sleep(0.2)
        before = cpu_seconds([server.pid])
        result = rest.autocannon(load, url, {}, args.connections, args.duration)
        used = cpu_seconds([server.pid]) - before
    finally:
        processes.stop_all()
    if result["non2xx"] or result["errors"]:
        raise RuntimeError(f"{mode}: {result['non2xx']} non-2xx and {result['errors']} errors")
    total = result["requests"]["total"]
    return round(result["requests"]["average"], 1), round(used * 1e6 / max(total, 1))


if __name__ == "__main__":
    sys.exit(main())
