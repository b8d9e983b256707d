"""Per-user rate limits (socket events, abuse reports): fixed windows, counted in Redis when REDIS_URL is set
(so a user's sockets on every process share one budget), else in this process.

Synchronous, like presence: it runs in the worker thread of the call it guards.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter

from django.conf import settings
from redis import RedisError

from kernel import redis
from kernel.errors import ServiceError

logger = logging.getLogger(__name__)

MESSAGES = "messages"
TYPING = "typing"
REPORTS = "reports"
_NOUNS = {MESSAGES: "messages", TYPING: "typing events", REPORTS: "reports"}


class RateLimitedError(ServiceError):
    status_code = 429


_lock = threading.Lock()
_counts: dict[tuple[str, str, int], int] = {}


def _limit(kind: str) -> int:
    return {
        MESSAGES: settings.RATE_LIMIT_MESSAGES,
        TYPING: settings.RATE_LIMIT_TYPING,
        REPORTS: settings.RATE_LIMIT_REPORTS,
    }[kind]


def _window(kind: str) -> float:
    return settings.RATE_LIMIT_REPORTS_WINDOW_SECONDS if kind == REPORTS else settings.RATE_LIMIT_WINDOW_SECONDS


def _counts_after(kind: str, events: dict[str, int]) -> dict[str, int]:
    """Add `events[user]` events of `kind` to each user's current window; each user's new count."""
    window = _window(kind)
    slot = int(time.time() // window)
    client = redis.client()
    if client is None:
        with _lock:
            if len(_counts) > 10_000:
                for key in [key for key in _counts if key[2] < slot]:
                    del _counts[key]
            for clerk_id, n in events.items():
                _counts[(kind, clerk_id, slot)] = _counts.get((kind, clerk_id, slot), 0) + n
            return {clerk_id: _counts[(kind, clerk_id, slot)] for clerk_id in events}
    keys = [f"{settings.REDIS_KEY_PREFIX}:ratelimit:{kind}:{clerk_id}:{slot}" for clerk_id in events]
    try:
        counts = _script(client)(keys=keys, args=[math.ceil(window) + 1, *events.values()])
        return dict(zip(events, counts))
    except RedisError as exc:
        # Fail open: a Redis outage must not stop people from chatting.
        logger.warning("rate limit: Redis unavailable: %s", exc)
        return dict.fromkeys(events, 0)


# One round trip for a whole batch: each key gains its user's events; a key new in this window
# gets its expiry (so a window's count disappears with it).
_INCREMENT = """
local counts = {}
for i, key in ipairs(KEYS) do
    local n = tonumber(ARGV[i + 1])
    local count = redis.call('INCRBY', key, n)
    if count == n then redis.call('EXPIRE', key, ARGV[1]) end
    counts[i] = count
end
return counts
"""
_scripts = {}


def _script(client):
    if client not in _scripts:
        _scripts[client] = client.register_script(_INCREMENT)
    return _scripts[client]


def _count(kind: str, clerk_id: str) -> int:
    return _counts_after(kind, {clerk_id: 1})[clerk_id]


def over_limit(kind: str, clerk_ids: list[str]) -> list[bool]:
    """Count one event per entry (a batch, in arrival order); True where it exceeds the limit."""
    totals = Counter(clerk_ids)
    counts = _counts_after(kind, totals)
    limit, seen, over = _limit(kind), Counter(), []
    for clerk_id in clerk_ids:
        seen[clerk_id] += 1
        # This user's events in the batch are the last ones counted in their window.
        over.append(counts[clerk_id] - totals[clerk_id] + seen[clerk_id] > limit)
    return over


def refusal(kind: str) -> ServiceError:
    limit, window = _limit(kind), _window(kind)
    return RateLimitedError(
        f"Too many {_NOUNS[kind]}: at most {limit} per {window:g} seconds; try again {'later' if kind == REPORTS else 'shortly'}",
        code="rate_limited",
        details={"limit": limit, "windowSeconds": window},
    )


def check(kind: str, clerk_id: str) -> None:
    if _count(kind, clerk_id) > _limit(kind):
        raise refusal(kind)


def guarded(kind: str, clerk_id: str, call, /, **kwargs):
    """Count one event of `kind` for the user, then run `call(**kwargs)` (in the same thread)."""
    check(kind, clerk_id)
    return call(**kwargs)
