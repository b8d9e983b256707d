"""scripts/faults: run the fault scenarios and print the guarantees that held and those that did not.

    scripts/faults [--short] [--only name,name] [--list]

Everything runs on private loopback services started here (PostgreSQL via initdb, Redis, Redis
Sentinel, nginx) and stopped at the end; the shared PostgreSQL and Redis are never touched.
Logs go to var/faults/<time>/. Exit status 0 only if every guarantee held.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import time
import traceback

from faultlib import inputs, load, outages
from faultlib.base import Check, Context
from faultlib.cluster import REPO, migrate
from faultlib.services import PrivatePostgres, PrivateRedis

SCENARIOS = {
    "kill_one_of_two": outages.kill_one_of_two,
    "redis_restart_3s": outages.redis_restart_3s,
    "redis_restart_20s": outages.redis_restart_20s,
    "postgres_restart": outages.postgres_restart,
    "sentinel_failover": outages.sentinel_failover,
    "slow_consumer": load.slow_consumer,
    "hostile_payloads": inputs.hostile_payloads,
    "schemathesis": inputs.schemathesis_doc,
    "reconnect_storm": load.reconnect_storm,
    "nginx": load.nginx,
    "soak": load.soak,
}
LONG_ONLY = {"redis_restart_20s"}
BOUND_SECONDS = {True: 150, False: 900}  # each scenario, short and full


def nginx_binary() -> str | None:
    for candidate in (os.environ.get("FAULTS_NGINX"), shutil.which("nginx"), "/usr/sbin/nginx",
                      str(REPO / "var" / "nginx" / "usr" / "sbin" / "nginx")):  # fmt: skip
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


async def run(names: list[str], ctx: Context) -> list[Check]:
    checks: list[Check] = []
    for name in names:
        started = time.monotonic()
        print(f"== {name}", flush=True)
        try:
            stage = await asyncio.wait_for(SCENARIOS[name](ctx), BOUND_SECONDS[ctx.short])
            found = stage.checks
        except TimeoutError:
            found = [Check(f"{name}: finished within {BOUND_SECONDS[ctx.short]} s", False)]
        except Exception as exc:
            traceback.print_exc()
            found = [Check(f"{name}: ran", False, f"{type(exc).__name__}: {exc}")]
        for check in found:
            print(f"   {'PASS' if check.passed else 'FAIL'} {check.name}{'  (' + check.detail + ')' if check.detail else ''}",
                  flush=True)  # fmt: skip
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
        checks += found
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="the CI version: smaller, and no 20 s Redis outage")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--list", action="store_true", help="print the scenario names and exit")
    args = parser.parse_args()
    if args.list:
        print("\n".join(SCENARIOS))
        return 0
    names = [n for n in args.only.split(",") if n] or [n for n in SCENARIOS if not (args.short and n in LONG_ONLY)]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}; --list names them")
    workdir = REPO / "var" / "faults" / time.strftime("%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    postgres = PrivatePostgres()
    redis = PrivateRedis(workdir, "redis")
    try:
        print(f"faults: private PostgreSQL and Redis; logs in {workdir.relative_to(REPO)}", flush=True)
        postgres.create()
        redis.start()
        migrate(postgres.url)
        ctx = Context(workdir=workdir, short=args.short, postgres=postgres, redis=redis, nginx_bin=nginx_binary())
        checks = asyncio.run(run(names, ctx))
    finally:
        redis.stop()
        postgres.remove()
    if ctx.figures:
        print("\nfigures:")
        for what, value in ctx.figures.items():
            print(f"   {what}: {value}")
    failed = [c for c in checks if not c.passed]
    summary = f"faults: {len(checks) - len(failed)} guarantees passed, {len(failed)} failed"
    if failed:
        summary += " — " + "; ".join(c.name for c in failed)
    print(f"\n{summary} ({time.monotonic() - started:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
