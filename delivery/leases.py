"""Presence leases: which users have a socket connected, on any server process. This module
only stores and reads them; users.presence decides what they mean (online, users.status).

With REDIS_URL, every socket holds a lease in Redis: member `user|sid` of one sorted set
scored by the lease's expiry, and member `sid` of its user's own sorted set (read by user).
Each process renews only its own sockets' leases every PRESENCE_HEARTBEAT_SECONDS; readers
ignore expired members and sweeps delete them, so the users of a crashed process go offline
one lease later while a user also connected to a live process stays online.
Without REDIS_URL, presence is this process's own sockets.

The API is synchronous on purpose: services call it from worker threads, through a pooled
(thread-safe) redis-py client. Scripts keep each read-modify-write atomic across processes.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time

from django.conf import settings

from kernel import metrics, redis

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_local: dict[str, str] = {}  # this process's registered sockets: sid -> clerk id
_local_by_user: dict[str, set[str]] = {}

# Sockets arriving ('c') and leaving ('d'), applied in order: for each, how many live sockets its
# user had before it arrived, or has left after it left.
_CHANGE = """
local out = {}
for i = 2, #KEYS do
  local op, member, sid = ARGV[3 * i - 2], ARGV[3 * i - 1], ARGV[3 * i]
  if op == 'c' then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[1])
    out[i - 1] = redis.call('ZCARD', KEYS[i])
    redis.call('ZADD', KEYS[1], ARGV[2], member)
    redis.call('ZADD', KEYS[i], ARGV[2], sid)
    redis.call('EXPIRE', KEYS[i], ARGV[3])
  else
    redis.call('ZREM', KEYS[1], member)
    redis.call('ZREM', KEYS[i], sid)
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[1])
    out[i - 1] = redis.call('ZCARD', KEYS[i])
  end
end
return out
"""
# Renews only leases that still exist (a swept one is reported, never silently revived).
_RENEW = """
local missing = {}
for i = 2, #KEYS do
  local member, sid = ARGV[2 * i - 1], ARGV[2 * i]
  if redis.call('ZSCORE', KEYS[1], member) then
    redis.call('ZADD', KEYS[1], ARGV[1], member)
    redis.call('ZADD', KEYS[i], ARGV[1], sid)
    redis.call('EXPIRE', KEYS[i], ARGV[2])
  else
    table.insert(missing, member)
  end
end
return missing
"""
_SWEEP = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1000)
local gone = {}
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[1], member)
  local cut = string.find(member, '|[^|]*$')
  local user_key = ARGV[2] .. string.sub(member, 1, cut - 1)
  redis.call('ZREM', user_key, string.sub(member, cut + 1))
  redis.call('ZREMRANGEBYSCORE', user_key, '-inf', ARGV[1])
  if redis.call('ZCARD', user_key) == 0 then table.insert(gone, string.sub(member, 1, cut - 1)) end
end
return gone
"""


class _Scripted:
    """The shared Redis client with this module's Lua scripts registered on it."""

    def __init__(self, client):
        self.client = client
        self.scripts = {name: client.register_script(src) for name, src in _SCRIPTS.items()}


_scripted: _Scripted | None = None


def _redis() -> _Scripted | None:
    global _scripted
    if _scripted is None and redis.client() is not None:
        _scripted = _Scripted(redis.client())
    return _scripted


# Which of these users hold a live lease: one command for any number of users (a contact list).
_ONLINE = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('ZCOUNT', key, ARGV[1], '+inf') end
return out
"""

_SCRIPTS = {"online": _ONLINE, "change": _CHANGE, "renew": _RENEW, "sweep": _SWEEP}
_async_online: dict[int, tuple[object, object]] = {}  # each event loop's client: (client, its "online" script)


def _leases_key() -> str:
    # One hash tag: every presence key lives in the same Redis Cluster slot, as scripts need.
    return f"{{{settings.REDIS_KEY_PREFIX}:presence}}:leases"


def _user_key_prefix() -> str:
    return f"{{{settings.REDIS_KEY_PREFIX}:presence}}:user:"


def _user_key(clerk_id: str) -> str:
    return _user_key_prefix() + clerk_id


def _expiry(now: float) -> float:
    return now + settings.PRESENCE_LEASE_SECONDS


def _ttl() -> int:
    return math.ceil(settings.PRESENCE_LEASE_SECONDS) * 2


def _tolerant(default):
    """Redis down: answer as if nobody else were online, and keep chatting.

    The database stays the source of truth (a message is stored, only marked "saved"); when
    Redis is back the heartbeat finds this process's lost leases and records them again.
    """

    def decorate(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except Exception as exc:
                import redis

                if not isinstance(exc, redis.RedisError):
                    raise
                logger.warning("presence: Redis unavailable in %s: %s", function.__name__, exc)
                return default() if callable(default) else default

        return run

    return decorate


# --- reads ------------------------------------------------------------------------------------
@_tolerant(list)
def sids_of(clerk_id: str) -> list[str]:
    """The user's live sockets, on every process."""
    scripted = _redis()
    if scripted is None:
        with _lock:
            return sorted(_local_by_user.get(clerk_id, ()))
    return scripted.client.zrangebyscore(_user_key(clerk_id), f"({time.time()}", "+inf")


@_tolerant(set)
def online_among(clerk_ids) -> set[str]:
    ids = list(dict.fromkeys(clerk_ids))
    client = _redis()
    if client is None:
        return local_among(ids)  # without Redis, this process is all there is
    if not ids:
        return set()
    counts = client.scripts["online"](keys=[_user_key(clerk_id) for clerk_id in ids], args=[f"({time.time()}"])
    return {clerk_id for clerk_id, count in zip(ids, counts) if count}


async def aonline_among(clerk_ids) -> set[str]:
    """`online_among` on the event loop, with its asyncio client (the hot-read lane)."""
    ids = list(dict.fromkeys(clerk_ids))
    client = redis.async_client()
    if client is None:
        return local_among(ids)  # without Redis, this process is all there is
    if not ids:
        return set()
    owner, script = _async_online.get(id(client), (None, None))
    if owner is not client:
        script = client.register_script(_ONLINE)
        _async_online[id(client)] = (client, script)
    counts = await script(keys=[_user_key(clerk_id) for clerk_id in ids], args=[f"({time.time()}"])
    return {clerk_id for clerk_id, count in zip(ids, counts) if count}


def local_among(clerk_ids) -> set[str]:
    """Those of the users with a socket on this process, answered without a Redis round trip:
    a socket is recorded here before its lease and forgotten before it, so a local answer never
    outlives the socket, and this process sends those users their events itself."""
    with _lock:
        return {clerk_id for clerk_id in clerk_ids if clerk_id in _local_by_user}


def is_online(clerk_id: str) -> bool:
    return bool(online_among([clerk_id]))


def local_sockets() -> dict[str, str]:
    with _lock:
        return dict(_local)


# Read at scrape time, so no connect/disconnect path can forget to count.
metrics.CONNECTED_SOCKETS.set_function(lambda: len(_local))


def is_local(sid: str) -> bool:
    with _lock:
        return sid in _local


# --- writes -----------------------------------------------------------------------------------
def socket_connected(clerk_id: str, sid: str) -> bool:
    """Record a socket; True when it is the user's first anywhere (the user just came online)."""
    return sockets_changed([(True, clerk_id, sid)])[0]


def socket_disconnected(clerk_id: str, sid: str) -> bool:
    """Forget a socket; True when it was the user's last anywhere (the user just went offline)."""
    return sockets_changed([(False, clerk_id, sid)])[0]


def sockets_changed(changes: list[tuple[bool, str, str]]) -> list[bool]:
    """Record sockets arriving (True, clerk id, sid) and leaving (False, ...), in this order, in
    one Redis call. For each: True when an arrival is its user's first socket anywhere, or a
    departure its user's last. Redis down: False for all (see _tolerant)."""
    with _lock:
        here = []
        for connected, clerk_id, sid in changes:
            if connected:
                here.append(clerk_id not in _local_by_user)
                _local[sid] = clerk_id
                _local_by_user.setdefault(clerk_id, set()).add(sid)
            else:
                _local.pop(sid, None)
                sids = _local_by_user.get(clerk_id, set())
                sids.discard(sid)
                here.append(not sids)
                if not sids:
                    _local_by_user.pop(clerk_id, None)
    client = _redis()
    if client is None or not changes:
        return here
    counts = _sockets_recorded(client, changes)
    return [False] * len(changes) if counts is None else [count == 0 for count in counts]


@_tolerant(lambda: None)
def _sockets_recorded(client, changes) -> list[int] | None:
    now = time.time()
    keys, args = [_leases_key()], [now, _expiry(now), _ttl()]
    for connected, clerk_id, sid in changes:
        keys.append(_user_key(clerk_id))
        args += ["c" if connected else "d", f"{clerk_id}|{sid}", sid]
    return client.scripts["change"](keys=keys, args=args)


@_tolerant(list)
def renew() -> list[tuple[str, str]]:
    """Extend this process's leases; returns (clerk id, sid) of live sockets whose lease was lost.

    A lease is lost when this process stalled longer than a lease and another process swept
    it; the caller records those sockets again.
    """
    client = _redis()
    sockets = local_sockets()
    if client is None or not sockets:
        return []
    keys, args = [_leases_key()], [_expiry(time.time()), _ttl()]
    for sid, clerk_id in sockets.items():
        keys.append(_user_key(clerk_id))
        args += [f"{clerk_id}|{sid}", sid]
    missing = client.scripts["renew"](keys=keys, args=args)
    return [tuple(member.rsplit("|", 1)) for member in missing]


@_tolerant(list)
def sweep() -> list[str]:
    """Delete expired leases (of crashed processes); returns users left with no live socket."""
    client = _redis()
    if client is None:
        return []
    gone = client.scripts["sweep"](keys=[_leases_key()], args=[time.time(), _user_key_prefix()])
    return list(dict.fromkeys(gone))


# --- server processes ---------------------------------------------------------------------------
# Each process's own lease (score: its expiry) and the time up to which everything it stored had
# been handed to Redis (its events logged), renewed every heartbeat. A process whose lease ran
# out died: the others look in the database for what it stored after that time (chat/realtime/catchup.py).
PROCESS_FORGET_SECONDS = 600


def _processes_key() -> str:
    return f"{{{settings.REDIS_KEY_PREFIX}:presence}}:processes"


def _logged_key() -> str:
    return f"{{{settings.REDIS_KEY_PREFIX}:presence}}:processes-logged"


@_tolerant(None)
def process_renew(host_id: str, logged_through: float) -> None:
    client = _redis()
    if client is None:
        return
    with client.client.pipeline(transaction=True) as pipe:
        pipe.zadd(_processes_key(), {host_id: _expiry(time.time())})
        pipe.hset(_logged_key(), host_id, logged_through)
        pipe.execute()


@_tolerant(list)
def processes_gone() -> list[tuple[str, float, float]]:
    """(host id, lease expiry, logged through) of the processes whose lease ran out lately."""
    client = _redis()
    if client is None:
        return []
    now = time.time()
    expired = client.client.zrangebyscore(_processes_key(), "-inf", f"({now}", withscores=True)
    forgotten = [host for host, score in expired if score < now - PROCESS_FORGET_SECONDS]
    if forgotten:
        client.client.zrem(_processes_key(), *forgotten)
        client.client.hdel(_logged_key(), *forgotten)
    expired = [(host, score) for host, score in expired if host not in forgotten]
    if not expired:
        return []
    logged = client.client.hmget(_logged_key(), [host for host, _ in expired])
    return [(host, score, float(at or 0)) for (host, score), at in zip(expired, logged)]
