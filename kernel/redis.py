"""The process's one Redis client (redis-py, thread-safe, pooled) for presence leases, rate
limits and health checks; None without REDIS_URL. Pub/sub between server processes is
python-socketio's own Redis manager (delivery.emitter), which keeps its own connections.

`connect` is how every Redis user in the project opens a client from REDIS_URL, so that a
Sentinel URL (`redis+sentinel://host:26379,host2:26379/<db>/<service>`) works for all of them
alike: the client asks the sentinels where the primary is, and again after a failover.
python-socketio reads the same URL itself (the same parser is used here).
"""

from __future__ import annotations

import asyncio
import threading

import redis
import redis.asyncio
import redis.asyncio.sentinel
import redis.sentinel
from django.conf import settings
from socketio.redis_manager import parse_redis_sentinel_url

SENTINEL_SCHEME = "redis+sentinel"

# Short timeouts: every caller either tolerates Redis being down (presence, rate limits fail
# open) or reports it (readiness), and none of them may hang a socket handler or a probe.
CONNECT_TIMEOUT_SECONDS = 1.0
COMMAND_TIMEOUT_SECONDS = 2.0

_client: redis.Redis | None = None
_lock = threading.Lock()
_async_clients: dict[int, tuple[asyncio.AbstractEventLoop, redis.asyncio.Redis]] = {}


def is_sentinel(url: str) -> bool:
    return url.split("://", 1)[0] == SENTINEL_SCHEME


def sentinel_parts(url: str) -> tuple[list[tuple[str, int]], str, dict]:
    """(sentinel addresses, service name, connection options such as db and password)."""
    sentinels, service, options = parse_redis_sentinel_url(url)
    if not service:
        raise ValueError("a Sentinel URL names its service: redis+sentinel://host:26379/<db>/<service>")
    return sentinels, service, options


def connect(url: str, *, use_asyncio: bool = False, **options):
    """A client for `url` (redis://, rediss://, unix:// or redis+sentinel://); `options` are
    redis-py's connection options (timeouts, decode_responses)."""
    if not is_sentinel(url):
        return (redis.asyncio.Redis if use_asyncio else redis.Redis).from_url(url, **options)
    sentinels, service, url_options = sentinel_parts(url)
    module = redis.asyncio.sentinel if use_asyncio else redis.sentinel
    # The sentinels are asked with the same short timeouts as the primary.
    timeouts = {key: value for key, value in options.items() if key.startswith("socket_") and value is not None}
    sentinel = module.Sentinel(sentinels, sentinel_kwargs=timeouts, **url_options)
    return sentinel.master_for(service, **options)


def client() -> redis.Redis | None:
    global _client
    if _client is None and settings.REDIS_URL:
        with _lock:
            if _client is None:
                _client = connect(
                    settings.REDIS_URL,
                    decode_responses=True,
                    socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    socket_timeout=COMMAND_TIMEOUT_SECONDS,
                )
    return _client


def async_client() -> redis.asyncio.Redis | None:
    """This event loop's asyncio client (one belongs to the loop that made it), with the same
    options as `client()`; None without REDIS_URL. The hot-read lane reads presence with it."""
    if not settings.REDIS_URL:
        return None
    loop = asyncio.get_running_loop()
    owner, found = _async_clients.get(id(loop), (None, None))
    if owner is not loop:  # none yet, or one of a closed loop whose id this loop reuses
        found = connect(
            settings.REDIS_URL,
            use_asyncio=True,
            decode_responses=True,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=COMMAND_TIMEOUT_SECONDS,
        )
        _async_clients[id(loop)] = (loop, found)
    return found
