"""The reconnect scenario (`drops[N]`): N users in pairs under load; half of them have their
transport closed and reconnect by themselves (socket.io-client's connection state recovery).
benchlib/drops.mjs drives it and counts lost and duplicated messages (both must be 0); here,
besides, the Redis memory the recovery logs and sessions take, per user, read before the users
connect and after the run (their logs outlive it by the recovery window)."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
RATE = 200  # messages/s in all
SECONDS = 12


def _redis_used_bytes(redis_url: str) -> int | None:
    try:
        info = subprocess.run(
            ["redis-cli", "-u", redis_url, "info", "memory"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return next((int(line.split(":")[1]) for line in info.splitlines() if line.startswith("used_memory:")), None)


def run(env, target, users: int, log_path: Path) -> dict:
    prefix = f"d{uuid.uuid4().hex[:6]}"
    if target.user_setup == "manage":
        target.create_users(prefix, users)
    rest = target.rest_url if target.user_setup == "http" else "none"
    before = _redis_used_bytes(env.redis_url)
    argv = ["node", str(HERE / "drops.mjs"), "--modules", str(env.tools), "--url", target.socket_url]
    argv += ["--rest", rest, "--prefix", prefix, "--users", str(users), "--rate", str(RATE), "--seconds", str(SECONDS)]
    with open(log_path, "ab") as log:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=log, timeout=900, check=True)
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    after = _redis_used_bytes(env.redis_url)
    grown = after - before if before is not None and after is not None else None
    result["redis_kb_per_user"] = round(grown / 1024 / result["users"], 2) if grown is not None else None
    return result


def table(rows: dict[tuple[str, str], dict]) -> str:
    head = "| server | scenario | users | sent | acked | lost | duplicated | dropped | recovered | Redis KB/user |"
    lines = [head, "|" + "---|" * 10]
    for (name, scenario), r in rows.items():
        lines.append(
            f"| {name} | {scenario} | {r['users']} | {r['sent']} | {r['acked']} | {r['lost']} | {r['duplicated']} "
            f"| {r['dropped']} | {r['recovered']} | {r['redis_kb_per_user']} |"
        )
    return "\n".join(lines)
