"""Recovery sessions: what a socket that dropped leaves behind for its successor.

A socket offered connection state recovery has a private session id (`pid`, a random secret
only that client knows). When it disconnects, its session (whose it was, from which offset of
the user's event log it was served, which socket ids it had) is kept for
RECOVERY_WINDOW_SECONDS under that pid; a reconnect presenting the pid takes it up, once. In
Redis with REDIS_URL (any process can take it), otherwise in this process.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import asdict, dataclass, field, fields

import orjson
from django.conf import settings

from kernel import redis as sync_redis

PID_BYTES = 18  # 144 random bits: a pid cannot be guessed


@dataclass
class ResumeSession:
    clerk_id: str
    start: str  # the log offset the first socket of this session was served from
    sids: list[str] = field(default_factory=list)  # the socket ids it had, newest last
    expires_at: float | None = None  # when the identity's proof (a Clerk token) expires
    # Messages its sockets were sent without an offset (a catch-up from the database): not again.
    received: list[int] = field(default_factory=list)


def new_pid() -> str:
    return secrets.token_urlsafe(PID_BYTES)


def _key(pid: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:resume:{pid}"


_memory: dict[str, tuple[float, bytes]] = {}
_memory_lock = threading.Lock()


def save(pid: str, session: ResumeSession) -> None:
    window = settings.RECOVERY_WINDOW_SECONDS
    if window <= 0:
        return
    raw = orjson.dumps(asdict(session))
    client = sync_redis.client()
    if client is not None:
        client.set(_key(pid), raw, ex=window)
        return
    now = time.monotonic()
    with _memory_lock:
        for stale in [p for p, (deadline, _) in _memory.items() if deadline < now]:
            del _memory[stale]
        _memory[pid] = (now + window, raw)


def find(pid) -> ResumeSession | None:
    """The session left under this pid; None when there is none (never was, expired, already
    used, or the server lost it)."""
    if not isinstance(pid, str) or not 0 < len(pid) <= 64:
        return None
    client = sync_redis.client()
    if client is not None:
        raw = client.get(_key(pid))
    else:
        with _memory_lock:
            deadline, raw = _memory.get(pid, (0.0, None))
            if deadline < time.monotonic():
                raw = None
    if not raw:
        return None
    known = {f.name for f in fields(ResumeSession)}
    return ResumeSession(**{k: v for k, v in orjson.loads(raw).items() if k in known})


def forget(pid: str) -> None:
    """A session serves one reconnect: removed once a socket took it up (not before: a refused
    attempt with a stolen pid must not cost its owner the recovery)."""
    client = sync_redis.client()
    if client is not None:
        client.delete(_key(pid))
    else:
        with _memory_lock:
            _memory.pop(pid, None)
