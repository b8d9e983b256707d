"""PostgreSQL on the event loop, for the hot-read lane's reads only (biosync/hotreads.py).

Everything else reaches the database through Django on worker threads. A read there costs the
event loop and a worker thread a GIL handover around each blocking call, a large share of a
`GET /contacts` (README, Performance: `scripts/rest_floor`). These reads run SQL the ORM
compiled (kernel.queries) on psycopg's asyncio connections: a small pool per event loop, opened
with Django's own connection parameters (adapters, credentials) and configured as Django
configures its own (time zone, role, health checks), in autocommit like Django's, waiting for a
connection as long as Django's pool would (DB_POOL_TIMEOUT). Errors come out as Django's
database exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

# Reads on one event loop are short and never wait on each other; Django's pool serves the rest.
POOL_MAX_SIZE = 4

_pools: dict[int, tuple[asyncio.AbstractEventLoop, AsyncConnectionPool]] = {}


class _Held:
    """The connection a request's reads share (`request_connection`), once the first took it."""

    __slots__ = ("connection", "pool")

    def __init__(self):
        self.connection, self.pool = None, None


_held: ContextVar[_Held | None] = ContextVar("hot_read_connection", default=None)


@functools.cache
def available(using: str = DEFAULT_DB_ALIAS) -> bool:
    return connections[using].vendor == "postgresql"


@contextlib.asynccontextmanager
async def request_connection():
    """Every read of the enclosed code (one request) on one connection, taken from the pool at
    its first read and given back at the end, as Django holds one per request."""
    held = _Held()
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
        if held.connection is not None:
            await held.pool.putconn(held.connection)


def _pool_options(using: str) -> dict:
    return connections[using].settings_dict["OPTIONS"].get("pool") or {}


async def _pool(using: str) -> AsyncConnectionPool:
    loop = asyncio.get_running_loop()
    owner, pool = _pools.get(id(loop), (None, None))
    if owner is not loop:  # none yet, or one of a closed loop whose id this loop reuses
        params = connections[using].get_connection_params()
        params.pop("cursor_factory")  # Django's cursors are blocking ones
        params["autocommit"] = True
        options = _pool_options(using)
        check = AsyncConnectionPool.check_connection if connections[using].settings_dict["CONN_HEALTH_CHECKS"] else None
        pool = AsyncConnectionPool(
            kwargs=params, min_size=0, max_size=min(POOL_MAX_SIZE, options.get("max_size", POOL_MAX_SIZE)),
            timeout=options.get("timeout", 10.0), open=False, name=f"hot-reads-{using}",
            configure=functools.partial(_configure, using), check=check,
        )  # fmt: skip
        _pools[id(loop)] = (loop, pool)
        await pool.open()
    return pool


async def _configure(using: str, connection: AsyncConnection) -> None:
    """What Django's pool does to each new connection (its `_configure_connection`): the time
    zone Django reads in, and the role it assumes."""
    wrapper = connections[using]
    name = wrapper.timezone_name
    if name and connection.info.parameter_status("TimeZone") != name:
        await connection.execute(wrapper.ops.set_time_zone_sql(), [name])
    if role := wrapper.settings_dict["OPTIONS"].get("assume_role"):
        await connection.execute(sql.SQL("SET ROLE {}").format(sql.Literal(role)))


async def fetch(query: str, params, *, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    """The rows of `query` (Django's %s placeholders), prepared as kernel.queries.fetch_prepared
    prepares them (DB_PREPARED_STATEMENTS); on the request's connection inside
    `request_connection`."""
    # Translates psycopg's exceptions into django.db's (an outage is an OperationalError).
    with connections[using].wrap_database_errors:
        held = _held.get()
        if held is None:
            async with (await _pool(using)).connection() as connection:
                return await _rows(connection, query, params)
        if held.connection is None:
            held.pool = await _pool(using)
            held.connection = await held.pool.getconn()
        return await _rows(held.connection, query, params)


async def _rows(connection: AsyncConnection, query: str, params) -> list[tuple]:
    async with connection.cursor() as cursor:
        await cursor.execute(query, params, prepare=settings.DB_PREPARED_STATEMENTS or None)
        return await cursor.fetchall()


async def close() -> None:
    """Closes this event loop's pool (a loop that ends before its process does: tests)."""
    _, pool = _pools.pop(id(asyncio.get_running_loop()), (None, None))
    if pool is not None:
        await pool.close()
