"""The process's one Redis client (redis-py, thread-safe, pooled) for presence leases, rate
limits and health checks; None without REDIS_URL. Pub/sub between server processes is
python-socketio's own Redis manager (delivery.emitter), which keeps its own connections."""

from __future__ import annotations

import threading

import redis
from django.conf import settings

# Short timeouts: every caller either tolerates Redis being down (presence, rate limits fail
# open) or reports it (readiness), and none of them may hang a socket handler or a probe.
CONNECT_TIMEOUT_SECONDS = 1.0
COMMAND_TIMEOUT_SECONDS = 2.0

_client: redis.Redis | None = None
_lock = threading.Lock()


def client() -> redis.Redis | None:
    global _client
    if _client is None and settings.REDIS_URL:
        with _lock:
            if _client is None:
                _client = redis.Redis.from_url(
                    settings.REDIS_URL,
                    decode_responses=True,
                    socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    socket_timeout=COMMAND_TIMEOUT_SECONDS,
                )
    return _client
