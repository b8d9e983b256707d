"""Server processes of the project (`python -m biosync.serve`, the entry point of scripts/serve)
on private services, their users, logs and memory."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from faultlib.services import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]


def http(method: str, url: str, body=None, headers=None, timeout: float = 10.0) -> tuple[int, dict | None]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"null")
        except ValueError:
            return error.code, None


class Server:
    """One server process; `restart()` brings it back on the same port."""

    def __init__(self, workdir: Path, name: str, env: dict):
        self.name, self.port = name, free_port()
        self.log_path = workdir / f"{name}.log"
        self.env = {**env, "PORT": str(self.port), "SOCKET_PORT": str(self.port)}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Server:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "biosync.serve"], cwd=REPO, env=self.env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        wait_for_port(self.port, timeout=timeout, proc=self.proc)
        return self

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def restart(self) -> Server:
        self.kill()
        return self.start()

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def non_json_lines(self) -> list[str]:
        bad = []
        for line in self.log().splitlines():
            if line.strip():
                try:
                    json.loads(line)
                except ValueError:
                    bad.append(line)
        return bad


def server_env(database_url: str, redis_url: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "PORT", "SOCKET_PORT"))}
    return {
        **env,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": "faults",
        "DEBUG": "false",
        "LOG_FORMAT": "json",
        "AUTH_MODE": "dev",
        "ALLOWED_HOSTS": "*",
        "HOST": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
        "RATE_LIMIT_MESSAGES": "1000000",
        "RATE_LIMIT_TYPING": "1000000",
        "PRESENCE_HEARTBEAT_SECONDS": "2",
        "PRESENCE_LEASE_SECONDS": "6",
        "DB_POOL_MAX_SIZE": "20",
        **{key: str(value) for key, value in extra.items()},
    }


def migrate(database_url: str) -> None:
    env = {**server_env(database_url, ""), "DJANGO_SETTINGS_MODULE": "biosync.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True,
                   timeout=300, capture_output=True)  # fmt: skip


def create_users(server: Server, prefix: str, count: int) -> list[str]:
    ids = [f"user_{prefix}_{i}" for i in range(count)]
    for clerk_id in ids:
        status, body = http("POST", server.url + "/users", {"isParalyzed": False}, {"x-clerk-id": clerk_id})
        if status not in (200, 201):
            raise RuntimeError(f"POST /users for {clerk_id}: {status} {body}")
    return ids


def wait_ready(server: Server, timeout: float = 30.0) -> float:
    """Seconds until /readyz answers 200."""
    started = time.monotonic()
    while True:
        try:
            if http("GET", server.url + "/readyz", timeout=2)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{server.name} not ready after {timeout} s")
        time.sleep(0.1)
