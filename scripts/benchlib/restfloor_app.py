"""The ASGI app of scripts/rest_floor: the work of a `GET /contacts` with none of BioSync's code.

One Redis script call over the contacts' presence keys, one PostgreSQL query of the owner's
contacts with their users, the rows as dicts with a status each, written with orjson. FLOOR_MODE
chooses how: `thread` (psycopg's and redis-py's blocking APIs on a pool of worker threads, the
way Django runs a request), `async` (their asyncio APIs on the event loop), or `bare` (the
body of the first answer written again: uvicorn alone).
"""

from __future__ import annotations

import asyncio
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import orjson
import psycopg
import redis
import redis.asyncio as aredis

MODE = os.environ["FLOOR_MODE"]
DATABASE_URL = os.environ["FLOOR_DATABASE_URL"]
REDIS_URL = os.environ["FLOOR_REDIS_URL"]
PREFIX = os.environ["FLOOR_PREFIX"]
THREADS = int(os.environ.get("FLOOR_THREADS", "8"))
CONTACTS_SQL = (
    "SELECT c.id, c.contact_id, c.nickname, c.last_message_preview, c.last_message_at, c.unread_count, "
    "c.created_at, u.username, u.full_name, u.image_url, u.is_paralyzed, u.last_seen_at "
    "FROM floor_contacts c JOIN floor_users u ON u.id = c.contact_id WHERE c.owner_id = %s "
    "ORDER BY c.last_message_at DESC NULLS LAST, c.id"
)
PRESENCE_LUA = (
    "local out = {} for i, k in ipairs(KEYS) do if redis.call('EXISTS', k) == 1 then out[#out+1] = i end end return out"
)
OWNER = "owner"

sys.setswitchinterval(0.0005)  # as biosync.serve sets it
_executor = ThreadPoolExecutor(THREADS)
_sync_redis = redis.Redis.from_url(REDIS_URL)
_sync_presence = _sync_redis.register_script(PRESENCE_LUA)
_async_presence = aredis.Redis.from_url(REDIS_URL).register_script(PRESENCE_LUA)
_sync_connections: list[psycopg.Connection] = []
_async_connections: asyncio.Queue | None = None
_bare_body: bytes | None = None


def _body(rows: list[tuple], columns: list[str], online: set[int]) -> bytes:
    contacts = [dict(zip(columns, row)) for row in rows]
    for contact in contacts:
        contact["status"] = "online" if contact["contact_id"] in online else "offline"
    return orjson.dumps({"contacts": contacts})


def _presence_keys() -> list[str]:
    return [f"{PREFIX}:online:{i}" for i in range(1, 51)]


def _thread_answer() -> bytes:
    online = set(_sync_presence(keys=_presence_keys()))
    connection = _sync_connections.pop() if _sync_connections else psycopg.connect(DATABASE_URL, autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(CONTACTS_SQL, (OWNER,), prepare=True)
            return _body(cursor.fetchall(), [d.name for d in cursor.description], online)
    finally:
        _sync_connections.append(connection)


async def _async_answer() -> bytes:
    global _async_connections
    if _async_connections is None:
        _async_connections = asyncio.Queue()
        for _ in range(THREADS):
            _async_connections.put_nowait(await psycopg.AsyncConnection.connect(DATABASE_URL, autocommit=True))
    online = set(await _async_presence(keys=_presence_keys()))
    connection = await _async_connections.get()
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(CONTACTS_SQL, (OWNER,), prepare=True)
            return _body(await cursor.fetchall(), [d.name for d in cursor.description], online)
    finally:
        _async_connections.put_nowait(connection)


async def app(scope, receive, send):
    global _bare_body
    if scope["type"] != "http":
        return
    if MODE == "async" or (MODE == "bare" and _bare_body is None):
        body = _bare_body = await _async_answer()
    elif MODE == "bare":
        body = _bare_body
    else:
        body = await asyncio.get_running_loop().run_in_executor(_executor, _thread_answer)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
