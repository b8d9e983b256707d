"""What must hold before the server starts, each problem in one line that names its variable.

Without these, a missing PostgreSQL database showed as ten seconds of psycopg pool retries
(about 95 lines) with the cause buried among them, and Redis being down showed nothing at all.
biosync.serve runs both; `python -m biosync.preflight` checks the database alone, for
scripts/serve to run before migrate.
"""

from __future__ import annotations

import os
import sys

import django
import psycopg
import redis
from django.conf import settings
from django.db import connection

from biosync.env import exit_on_config_error
from kernel import redis as kernel_redis

CONNECT_TIMEOUT_SECONDS = 3


def database_problem() -> str | None:
    """Why the database in DATABASE_URL cannot be used, or None. SQLite files are created on demand."""
    if connection.vendor != "postgresql":
        return None
    db = connection.settings_dict
    port = db["PORT"] or 5432
    where = f"{db['HOST']}:{port}" if db["HOST"] else f"the local socket (port {port})"  # libpq's default
    try:
        psycopg.connect(**connection.get_connection_params(), connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
    except psycopg.OperationalError as exc:
        # `connection to server at "h", port 5432 failed: FATAL:  database "x" does not exist`, …
        cause = str(exc).strip().splitlines()[0].rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip()
        if f'database "{db["NAME"]}" does not exist' in cause:
            host = f"-h {db['HOST']} " if db["HOST"] else ""
            createdb = f"createdb {host}-p {port} -U {db['USER'] or 'postgres'} {db['NAME']}"
            return f"DATABASE_URL: database {db['NAME']} does not exist on {where}; create it with {createdb}"
        return f"DATABASE_URL: cannot connect to PostgreSQL at {where}: {cause}"
    return None


def redis_problem() -> str | None:
    """Why REDIS_URL's server cannot be reached, or None (also None without REDIS_URL)."""
    if not settings.REDIS_URL:
        return None
    client = kernel_redis.connect(
        settings.REDIS_URL, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=CONNECT_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        if kernel_redis.is_sentinel(settings.REDIS_URL):
            sentinels, service, _ = kernel_redis.sentinel_parts(settings.REDIS_URL)
            what = (
                f"the primary of Sentinel service {service} (sentinels {', '.join(f'{h}:{p}' for h, p in sentinels)})"
            )
        else:
            where = client.connection_pool.connection_kwargs
            what = f"Redis at {where.get('host')}:{where.get('port')}"
        return (
            f"REDIS_URL: {what} is unreachable ({exc}); serving "
            "anyway: messages are stored and reach sockets on this process only, until it is back"
        )
    finally:
        client.close()
    return None


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biosync.settings")
    with exit_on_config_error():
        django.setup()
    problem = database_problem()
    if problem:
        sys.exit(problem)


if __name__ == "__main__":
    main()
