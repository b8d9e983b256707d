"""Per-user logs of the recoverable events (events.RECOVERABLE_EVENTS), each entry with an offset.

Connection state recovery replays a user's log after the offset a reconnecting socket last
saw, and a process catching up after a pub/sub outage reads it the same way. With REDIS_URL
each user's log is a Redis Stream (`<prefix>:events:<clerk id>`), shared by every process;
without it, a ring buffer in the one process. Either way a log keeps at most RECOVERY_MAX_EVENTS entries, none
older than `retention_seconds()`, and a log without a new entry for that long is gone.

Offsets are Redis Stream ids (`<milliseconds>-<sequence>`, ordered), in memory too. A log knows
the newest offset it ever dropped, so a read after an offset it can no longer fully answer
says so (None) instead of returning a gap.

With Redis, appending also publishes the event to every process (a Lua script: XADD then
PUBLISH, one step): each process then delivers a user's events in log order, the order that
makes "everything after the last offset I saw" exact.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections import deque
from typing import NamedTuple

import orjson
import redis.asyncio
from django.conf import settings

from kernel import redis as sync_redis

logger = logging.getLogger(__name__)

# How long a dead transport can go unnoticed (python-engineio's ping interval + timeout, 25 + 20
# seconds) plus slack: the events sent into it before the server noticed must still be there.
RETENTION_MARGIN_SECONDS = 60
START = "0-0"  # the offset before every entry
# Marks the messages the log publishes: every process (the appending one too) delivers them.
PUBLISHER_HOST_ID = "eventlog"

_OFFSET = re.compile(r"^(\d{1,15})-(\d{1,15})$")


class Entry(NamedTuple):
    offset: str
    event: str
    data: dict
    # The sockets not to send it: the one that sent the message, and those this process already
    # sent it to while Redis was down (see RedisAppender).
    skip_sids: tuple[str, ...]


def skips_of(skip_sid) -> tuple[str, ...]:
    """A skip_sid argument (None, one sid or a list) as a tuple."""
    if not skip_sid:
        return ()
    return (skip_sid,) if isinstance(skip_sid, str) else tuple(skip_sid)


def offset_key(offset: str) -> tuple[int, int] | None:
    """An offset as a comparable pair, or None when it is not one (a forged value)."""
    match = _OFFSET.match(offset) if isinstance(offset, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def retention_seconds() -> int:
    return settings.RECOVERY_WINDOW_SECONDS + RETENTION_MARGIN_SECONDS


def _key(clerk_id: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:events:{clerk_id}"


# --- Redis --------------------------------------------------------------------------------
# KEYS: one stream per event; ARGV[1] cap, ARGV[2] retention (ms), ARGV[3] channel, then four per
# event: name, payload JSON, skip sid, pub/sub message without its offset (`<offset>"}` follows).
# One call for a whole batch, and one PUBLISH: every process receives the batch in log order.
_APPEND = """
local now = redis.call('TIME')
local oldest = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[2])
local ids, messages = {}, {}
for i, key in ipairs(KEYS) do
  local a = 3 + (i - 1) * 4
  ids[i] = redis.call('XADD', key, 'MAXLEN', ARGV[1], '*', 'e', ARGV[a + 1], 'd', ARGV[a + 2], 's', ARGV[a + 3])
  if oldest > 0 then redis.call('XTRIM', key, 'MINID', oldest) end
  redis.call('PEXPIRE', key, ARGV[2])
  messages[i] = ARGV[a + 4] .. ids[i] .. '"}'
end
if ARGV[3] ~= '' and #messages == 1 then redis.call('PUBLISH', ARGV[3], messages[1])
elseif ARGV[3] ~= '' then
  local batch = '{"method":"batch","host_id":"eventlog","messages":[' .. table.concat(messages, ',') .. ']}'
  redis.call('PUBLISH', ARGV[3], batch)
end
return ids
"""
# KEYS[1] the user's stream; ARGV[1] the offset. Returns {newest dropped offset, entries after}.
_AFTER = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'0-0', {}} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local dropped = '0-0'
for i = 1, #info, 2 do if info[i] == 'max-deleted-entry-id' then dropped = info[i + 1] end end
return {dropped, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+')}
"""

REDIS_CONNECTIONS = 32
APPEND_CHUNK = 500  # events per append script: a long backlog must not block Redis in one call
_async_clients: dict[int, tuple[redis.asyncio.Redis, object, object]] = {}


def _async_client():
    """(client, append script, read script) of this event loop: a redis.asyncio connection
    belongs to the loop that opened it. The scripts run by their SHA (EVALSHA)."""
    loop_id = id(asyncio.get_running_loop())
    found = _async_clients.get(loop_id)
    if found is None:
        options = {"decode_responses": True, "socket_connect_timeout": 1.0, "socket_timeout": 2.0}
        if sync_redis.is_sentinel(settings.REDIS_URL):
            # redis-py's Sentinel pools do not block; the primary's address comes from the sentinels.
            client = sync_redis.connect(settings.REDIS_URL, use_asyncio=True, **options)
        else:
            # A bounded pool that makes a burst of connects wait for a connection instead of failing.
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                settings.REDIS_URL, max_connections=REDIS_CONNECTIONS, timeout=2.0, **options
            )
            client = redis.asyncio.Redis(connection_pool=pool)
        found = _async_clients[loop_id] = (client, client.register_script(_APPEND), client.register_script(_AFTER))
    return found


class Logged(NamedTuple):
    """A recoverable event for one user's log (and, with Redis, for that user's room)."""

    clerk_id: str
    event: str
    data: dict
    room: str
    skip_sid: str | list[str] | None


def _append_args(items: list[Logged], channel: str) -> tuple[list[str], list]:
    args: list = [settings.RECOVERY_MAX_EVENTS, retention_seconds() * 1000, channel]
    for item in items:
        message = {
            "method": "emit", "event": item.event, "data": [item.data], "binary": False, "namespace": "/",
            "room": item.room, "skip_sid": item.skip_sid, "callback": None, "host_id": PUBLISHER_HOST_ID, "offset": "",
        }  # fmt: skip
        head = orjson.dumps(message).decode()[: -len('""}')] + '"'
        args += [item.event, orjson.dumps(item.data).decode(), ",".join(skips_of(item.skip_sid)), head]
    return [_key(item.clerk_id) for item in items], args


def _entries(raw: list) -> list[Entry]:
    out = []
    for offset, fields in raw:
        values = dict(zip(fields[::2], fields[1::2])) if isinstance(fields, list) else fields
        skips = tuple(values["s"].split(",")) if values["s"] else ()
        out.append(Entry(offset, values["e"], orjson.loads(values["d"]), skips))
    return out


class RedisAppender:
    """Appends (and so publishes) recoverable events without making the emitter wait: whatever
    gathered while the previous batch was in flight goes as the next batch, in order.

    While Redis refuses appends, nothing is dropped: each event goes at once to this process's
    own sockets (`deliver_here`, which returns their sids) and waits in `held`, in order, with
    those sids to skip; every RETRY_SECONDS the held events are appended again, before any newer
    one, so the other processes get them late, once, and in order. At most HELD_MAX events wait
    (the oldest go first, logged); the database stays the source of truth for them (GET /sync).
    """

    RETRY_SECONDS = 0.5
    HELD_MAX = 100_000

    def __init__(self, channel: str, deliver_here):
        self.channel, self.deliver_here = channel, deliver_here
        self._pending: list[Logged] = []
        self._markers: list[asyncio.Future] = []  # resolved once the batch they follow is logged or held
        self.held: list[Logged] = []
        self._retry_at = 0.0
        self._busy = False  # a batch is being logged or held
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        _appenders.append(self)

    def put(self, item: Logged) -> None:
        self._pending.append(item)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._send_forever())

    async def logged(self) -> None:
        """Returns once every event put before the call is in the log (or held, see above)."""
        if not self._pending and not self._busy:
            return
        marker = asyncio.get_running_loop().create_future()
        self._markers.append(marker)
        self._wake.set()
        await marker

    async def _send_forever(self) -> None:
        while True:
            self._busy = False
            try:
                await asyncio.wait_for(self._wake.wait(), self.RETRY_SECONDS if self.held else None)
            except TimeoutError:
                pass
            self._busy = True
            self._wake.clear()
            batch, self._pending = self._pending, []
            markers, self._markers = self._markers, []
            try:
                await self._send(batch)
            finally:
                for marker in markers:
                    if not marker.done():
                        marker.set_result(None)

    async def _send(self, batch: list[Logged]) -> None:
        if self.held and time.monotonic() < self._retry_at:
            await self._hold(batch)  # Redis was refusing a moment ago: do not wait on it again yet
            return
        if not (self.held or batch):
            return
        held, self.held = self.held, []
        done = 0
        try:
            _, append, _ = _async_client()
            todo = [*held, *batch]
            while done < len(todo):  # a long outage's backlog goes in chunks, oldest first
                keys, args = _append_args(todo[done : done + APPEND_CHUNK], self.channel)
                await append(keys=keys, args=args)
                done += min(APPEND_CHUNK, len(todo) - done)
        except Exception as exc:
            if not held:
                logger.error("cannot log recoverable events; holding them until Redis is back: %s", exc)
            self._retry_at = time.monotonic() + self.RETRY_SECONDS
            self.held = held[done:]
            await self._hold(batch[max(0, done - len(held)) :])
        else:
            if held:
                logger.warning("Redis is back: %d held recoverable event(s) logged", len(held))

    async def _hold(self, batch: list[Logged]) -> None:
        for item in batch:
            try:
                sent = await self.deliver_here(item)
            except Exception:
                logger.exception("local delivery of a held event failed")
                sent = []
            self.held.append(item._replace(skip_sid=[*skips_of(item.skip_sid), *sent]))
        if len(self.held) > self.HELD_MAX:
            dropped = len(self.held) - self.HELD_MAX
            logger.error("%d held recoverable event(s) dropped (over %d)", dropped, self.HELD_MAX)
            del self.held[:dropped]


_appenders: list[RedisAppender] = []  # one per event loop that emitted (one in a server)


def events_held() -> int:
    """Recoverable events this process holds because Redis refused them (see RedisAppender)."""
    return sum(len(appender.held) for appender in _appenders)


# --- in memory (no REDIS_URL) -------------------------------------------------------------
class _Stored(NamedTuple):
    key: tuple[int, int]
    added: float
    entry: Entry


class MemoryLogs:
    """The one process's logs: the same bounds and answers as the Redis Streams."""

    SWEEP_SECONDS = 30.0

    def __init__(self):
        self._logs: dict[str, deque[_Stored]] = {}
        self._dropped: dict[str, tuple[int, int]] = {}
        self._last = (0, 0)
        self._swept = time.monotonic()
        self._lock = threading.Lock()

    def _next_offset(self) -> tuple[int, int]:
        ms = int(time.time() * 1000)
        self._last = (ms, 0) if ms > self._last[0] else (self._last[0], self._last[1] + 1)
        return self._last

    def _trim(self, clerk_id: str, log: deque[_Stored], now: float) -> None:
        while log and (len(log) > settings.RECOVERY_MAX_EVENTS or now - log[0].added > retention_seconds()):
            self._dropped[clerk_id] = log.popleft().key

    def append(self, clerk_id: str, event: str, data: dict, skip_sid: str | None) -> str:
        now = time.monotonic()
        with self._lock:
            key = self._next_offset()
            offset = f"{key[0]}-{key[1]}"
            log = self._logs.setdefault(clerk_id, deque())
            log.append(_Stored(key, now, Entry(offset, event, data, skips_of(skip_sid))))
            self._trim(clerk_id, log, now)
            if now - self._swept > self.SWEEP_SECONDS:
                self._sweep(now)
        return offset

    def _sweep(self, now: float) -> None:
        # A log with nothing new for the retention is gone, as an expired Redis key is.
        self._swept = now
        for clerk_id in [c for c, log in self._logs.items() if now - log[-1].added > retention_seconds()]:
            del self._logs[clerk_id]
            self._dropped.pop(clerk_id, None)

    def position(self, clerk_id: str) -> str:
        with self._lock:
            log = self._logs.get(clerk_id)
            return log[-1].entry.offset if log else START

    def after(self, clerk_id: str, offset: str) -> list[Entry] | None:
        after = offset_key(offset)
        with self._lock:
            log = self._logs.get(clerk_id)
            if log is None:
                return []
            self._trim(clerk_id, log, time.monotonic())
            if self._dropped.get(clerk_id, (0, 0)) > after:
                return None
            return [s.entry for s in log if s.key > after]

    def size(self) -> int:
        return sum(len(log) for log in self._logs.values())


memory = MemoryLogs()


# --- the interface ----------------------------------------------------------------------
def append_sync(items: list[Logged], *, channel: str) -> list[str]:
    """Log (and publish on `channel`) recoverable events from outside the server's loop
    (manage.py commands, a shell): Redis only. Returns their offsets."""
    keys, args = _append_args(items, channel)
    return sync_redis.client().register_script(_APPEND)(keys=keys, args=args)


async def position(clerk_id: str) -> str:
    """The offset of the user's newest event (START when there is none)."""
    if not settings.REDIS_URL:
        return memory.position(clerk_id)
    client, _, _ = _async_client()
    newest = await client.xrevrange(_key(clerk_id), count=1)
    return newest[0][0] if newest else START


async def after(clerk_id: str, offset: str) -> list[Entry] | None:
    """The user's events after `offset`, in order; None when some of them are no longer kept.

    No log at all means no event for the whole retention, so nothing after any recent offset."""
    if offset_key(offset) is None:
        return None
    if not settings.REDIS_URL:
        return memory.after(clerk_id, offset)
    _, _, read = _async_client()
    dropped, raw = await read(keys=[_key(clerk_id)], args=[offset])
    if offset_key(dropped) > offset_key(offset):
        return None
    return _entries(raw)
