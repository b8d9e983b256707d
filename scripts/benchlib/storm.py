"""The reconnect storm (`storm[N]`), for every target: N sockets connect and register (50 at a
time, timed), then every socket's transport closes at once and each reconnects immediately by
itself and registers again, as the app does on `connect`; the time from the drop until all N are
registered again. benchlib/sockets.mjs (`storm`) drives it; the server's CPU seconds (its process
tree, /proc) for each phase are read here."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

from benchlib.procs import cpu_seconds, process_tree

HERE = Path(__file__).resolve().parent


def run(env, target, sockets: int, log_path: Path) -> dict:
    prefix = f"s{uuid.uuid4().hex[:6]}"
    if target.user_setup == "manage":
        target.create_users(prefix, sockets)
    rest = target.rest_url if target.user_setup == "http" else "none"
    argv = ["node", str(HERE / "sockets.mjs"), "storm", "--modules", str(env.tools), "--url", target.socket_url]
    argv += ["--rest", rest, "--prefix", prefix, "--users", str(sockets), "--timeout", "600"]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log)
    try:
        phases, cpu = {}, []
        # The server's CPU from the users' creation to the end of each phase.
        for line in proc.stdout:
            cpu.append(cpu_seconds(process_tree(target.pid)))
            got = json.loads(line)
            phases[got["phase"]] = got
            if got["phase"] == "storm":
                break
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    r = phases["storm"]
    return {
        "sockets": r["sockets"],
        "registered": r["registered"],
        "connect_s": r["connectMs"] / 1000,
        "back": r["back"],
        "recovered": r["recovered"],
        "storm_s": r["stormMs"] / 1000,
        "timed_out": r["timedOut"],
        "connect_cpu_s": round(cpu[1] - cpu[0], 2),
        "storm_cpu_s": round(cpu[2] - cpu[1], 2),
    }


def table(rows: dict[tuple[str, str], dict]) -> str:
    head = (
        "| server | scenario | sockets registered | connect s | back after the drop | recovered "
        "| all back s | server CPU s: connect | server CPU s: storm |"
    )
    lines = [head, "|" + "---|" * 9]
    for (name, scenario), r in rows.items():
        lines.append(
            f"| {name} | {scenario} | {r['registered']:,} / {r['sockets']:,} | {r['connect_s']:.2f} "
            f"| {r['back']:,} | {r['recovered']:,} | {r['storm_s']:.2f}{' (timed out)' if r['timed_out'] else ''} "
            f"| {r['connect_cpu_s']:.2f} | {r['storm_cpu_s']:.2f} |"
        )
    return "\n".join(lines)
