"""The servers one benchmark run compares, each started fresh on loopback ports.

- ours: this repository's scripts/serve (uvicorn) on PostgreSQL and Redis; ours-daphne: the same
  served by daphne (ASGI_SERVER=daphne); ours-ref: another checkout of this repository
  (BENCH_REF_DIR, e.g. a `git worktree` of the commit before a change), to measure a change.
- old: the Bun/TypeScript server being replaced, prepared by benchlib.baseline (never committed).
- relay-py / relay-node: the protocol with no database (the chatload tools' ceilings).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import checks
from benchlib.procs import Postgres, Processes, free_port, http, wait_for_socketio


@dataclass
class Env:
    repo: Path
    tools: Path
    workdir: Path
    pg: Postgres
    redis_url: str
    procs: Processes
    log_dir: Path
    bun: Path | None = None
    baseline: Path | None = None
    relay_python: Path | None = None
    autocannon: Path | None = None


@dataclass
class Target:
    name: str
    env: Env
    db: str | None = None
    socket_url: str = ""
    rest_url: str = ""
    pid: int | None = None
    user_setup: str = "none"  # "http" (POST /users), "manage" (ours before its REST lands), "none"
    server_env: dict = field(default_factory=dict)

    def start(self) -> None:
        raise NotImplementedError

    def _spawn(self, argv, *, env, cwd, ready_timeout=120):
        proc = self.env.procs.spawn(self.name, argv, env={**os.environ, **env}, cwd=cwd)
        self.pid = proc.pid
        wait_for_socketio(self.socket_url, proc, timeout=ready_timeout, log=self.env.log_dir / f"{self.name}.log")

    def create_users(self, prefix: str, count: int) -> None:
        """Only for user_setup == "manage"; chatload creates them over HTTP otherwise."""

    def db_pids(self) -> list[int]:
        return self.env.pg.backend_pids(self.db) if self.db else []

    def redis_pids(self) -> list[int]:
        return []

    def stored(self, prefix: str) -> int | None:
        return self.env.pg.count_messages(self.db, prefix) if self.db else None

    def check(self, prefix: str) -> dict | None:
        """What the run with these users left in the database (benchlib.checks), or None."""
        return checks.consistency(self.env.pg, self.db, prefix) if self.db else None


class Ours(Target):
    asgi_server = "uvicorn"
    database = "biosync_bench"

    def start(self) -> None:
        port, sport = free_port(), free_port()
        self.db = self.database
        self.env.pg.recreate(self.db)
        self.rest_url, self.socket_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sport}"
        self.server_env = {
            "DATABASE_URL": self.env.pg.url(self.db),
            "REDIS_URL": self.env.redis_url,
            # Its own Redis namespace, so concurrent test runs on the same Redis never see it.
            "REDIS_KEY_PREFIX": f"biosync-bench-{uuid.uuid4().hex[:8]}",
            "DEBUG": "false",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "SOCKET_PORT": str(sport),
            "AUTH_MODE": "dev",
            "LOG_LEVEL": "WARNING",
            "ASGI_SERVER": self.asgi_server,
            # A load generator is one sender far above a person's rate: lift the per-user limits.
            "RATE_LIMIT_MESSAGES": "1000000000",
            "RATE_LIMIT_TYPING": "1000000000",
        }
        self.server_env.update(self.env_overrides())
        self._spawn([str(self.repo / "scripts" / "serve")], env=self.server_env, cwd=self.repo)
        probe = f"benchprobe_{uuid.uuid4().hex[:8]}"
        status, _ = http("POST", f"{self.rest_url}/users", headers={"x-clerk-id": probe}, body={"isParalyzed": False})
        self.user_setup = "http" if status in (200, 201) else "manage"

    @property
    def repo(self) -> Path:
        return self.env.repo

    def env_overrides(self) -> dict[str, str]:
        return _prefixed_env("BENCH_OURS_")

    def redis_pids(self) -> list[int]:
        # The local redis-server, when there is exactly one (it is shared: others' use counts too).
        found = [int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit() and _comm(d) == "redis-server"]
        return found if len(found) == 1 else []

    def create_users(self, prefix: str, count: int) -> None:
        code = (
            "from users.models import User\n"
            "from users.services import user_create\n"
            f"have = set(User.objects.filter(clerk_id__startswith={prefix + '_'!r}).values_list('clerk_id', flat=True))\n"
            f"for i in range({count}):\n"
            f"    cid = f'{prefix}_{{i}}'\n"
            "    if cid not in have:\n"
            "        user_create(clerk_id=cid)\n"
        )
        python = self.repo / ".venv" / "bin" / "python"
        subprocess.run(
            [str(python), "manage.py", "shell", "-c", code],
            cwd=self.repo,
            check=True,
            env={**os.environ, **self.server_env},
            capture_output=True,
            timeout=120,
        )


class OursDaphne(Ours):
    """The same code served by daphne (the design card's server), to compare ASGI servers."""

    asgi_server = "daphne"
    database = "biosync_bench_daphne"


class OursRef(Ours):
    """The same server from another checkout (BENCH_REF_DIR): a change against the commit before it."""

    database = "biosync_bench_ref"

    def env_overrides(self) -> dict[str, str]:
        # BENCH_REF_<VAR> on top: one setting against another in one run (BENCH_REF_DIR may be
        # this very checkout).
        return {**super().env_overrides(), **_prefixed_env("BENCH_REF_")}

    @property
    def repo(self) -> Path:
        ref = os.environ.get("BENCH_REF_DIR")
        if not ref or not (Path(ref) / "scripts" / "serve").exists():
            raise SystemExit("ours-ref needs BENCH_REF_DIR: a checkout of this repository (git worktree add DIR REV)")
        return Path(ref)


class Old(Target):
    def start(self) -> None:
        port, sport = free_port(), free_port()
        self.db = "biosync_bench_old"
        self.env.pg.recreate(self.db)
        self.rest_url, self.socket_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sport}"
        env = {
            "PATH": f"{self.env.bun.parent}:{os.environ.get('PATH', '')}",
            "DATABASE_URL": self.env.pg.url(self.db),
            "NEXT_PUBLIC_API_URL": self.rest_url,
            "SOCKET_URL": self.socket_url,
            "CORS_ORIGIN": "http://localhost:3001",
        }
        # Its schema, from its own drizzle definitions (its migrations folder is out of date).
        out = subprocess.run(
            [str(self.env.bun), "x", "drizzle-kit", "push", "--force"],
            cwd=self.env.baseline,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=180,
        )
        if out.returncode:
            raise RuntimeError(f"drizzle-kit push failed:\n{out.stdout}\n{out.stderr}")
        self._spawn([str(self.env.bun), "run", "bench-entry.ts"], env=env, cwd=self.env.baseline)
        self.user_setup = "http"


class RelayPy(Target):
    """The Python relay ceiling, served like ours (benchlib/relay_serve.py): same virtualenv,
    same uvicorn transport settings."""

    def start(self) -> None:
        sport = free_port()
        self.socket_url = f"http://127.0.0.1:{sport}"
        self._spawn(
            [
                str(self.env.relay_python),
                str(Path(__file__).resolve().parent / "relay_serve.py"),
                str(self.env.tools / "ceilings"),
                str(sport),
            ],
            env={"PYTHONPATH": str(self.env.repo)},
            cwd=self.env.workdir,
        )


class RelayNode(Target):
    def start(self) -> None:
        sport = free_port()
        self.socket_url = f"http://127.0.0.1:{sport}"
        self._spawn(
            [
                "node",
                str(self.env.tools / "ceilings" / "relay_node.mjs"),
                "--host",
                "127.0.0.1",
                "--port",
                str(sport),
                "--max-seconds",
                "3600",
            ],
            env={},
            cwd=self.env.workdir,
        )


def _comm(proc_dir: Path) -> str:
    try:
        return (proc_dir / "comm").read_text().strip()
    except OSError:
        return ""


def _prefixed_env(prefix: str) -> dict:
    """BENCH_OURS_DB_POOL_MAX_SIZE=40 becomes DB_POOL_MAX_SIZE=40 for our server only."""
    return {k[len(prefix) :]: v for k, v in os.environ.items() if k.startswith(prefix)}


KINDS = {
    "ours": Ours,
    "ours-daphne": OursDaphne,
    "ours-ref": OursRef,
    "old": Old,
    "relay-py": RelayPy,
    "relay-node": RelayNode,
}
