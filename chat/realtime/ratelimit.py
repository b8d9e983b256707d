"""Per-user rate limits on socket events: fixed windows, counted in Redis when REDIS_URL is set
(so a user's sockets on every process share one budget), else in this process.

Synchronous, like presence: it runs in the worker thread of the call it guards.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import redis
from django.conf import settings

from biosync.errors import ServiceError
from chat.realtime import presence

logger = logging.getLogger(__name__)

MESSAGES = "messages"
TYPING = "typing"

_lock = threading.Lock()
_counts: dict[tuple[str, str, int], int] = {}


def _limit(kind: str) -> int:
    return settings.RATE_LIMIT_MESSAGES if kind == MESSAGES else settings.RATE_LIMIT_TYPING


def _count(kind: str, clerk_id: str) -> int:
    window = settings.RATE_LIMIT_WINDOW_SECONDS
    slot = int(time.time() // window)
    client = presence.redis_client()
    if client is None:
        with _lock:
            if len(_counts) > 10_000:
                for key in [key for key in _counts if key[2] < slot]:
                    del _counts[key]
            key = (kind, clerk_id, slot)
            _counts[key] = _counts.get(key, 0) + 1
            return _counts[key]
    key = f"{settings.REDIS_KEY_PREFIX}:ratelimit:{kind}:{clerk_id}:{slot}"
    pipe = client.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, math.ceil(window) + 1)
    try:
        return pipe.execute()[0]
    except redis.RedisError as exc:
        # Fail open: a Redis outage must not stop people from chatting.
        logger.warning("rate limit: Redis unavailable: %s", exc)
        return 0


def check(kind: str, clerk_id: str) -> None:
    limit = _limit(kind)
    if _count(kind, clerk_id) > limit:
        window = settings.RATE_LIMIT_WINDOW_SECONDS
        raise ServiceError(
            f"Too many {'messages' if kind == MESSAGES else 'typing events'}: at most {limit} per {window:g} seconds; "
            "try again shortly",
            code="rate_limited",
            details={"limit": limit, "windowSeconds": window},
        )


def guarded(kind: str, clerk_id: str, call, /, **kwargs):
    """Count one event of `kind` for the user, then run `call(**kwargs)` (in the same thread)."""
    check(kind, clerk_id)
    return call(**kwargs)
