"""Shared fixtures.

The suite runs on whatever DATABASE_URL / REDIS_URL say: unset, SQLite and in-process
presence; set, PostgreSQL and Redis. `.ci/run` runs it both ways.

Realtime tests talk to a real server: `asgi_server_factory` starts `biosync.serve` processes on free
ports against the test database, and tests connect real Socket.IO clients to them.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# One Redis namespace per test session: parallel runs sharing a Redis server never meet.
TEST_REDIS_PREFIX = f"biosync-test-{uuid.uuid4().hex[:10]}"


def pytest_configure(config):
    settings.REDIS_KEY_PREFIX = TEST_REDIS_PREFIX
    os.environ["REDIS_KEY_PREFIX"] = TEST_REDIS_PREFIX
    _flush_retries_deadlocks()


def _flush_retries_deadlocks() -> None:
    """Retry the test database's flush when PostgreSQL picks it as a deadlock victim.

    A live server's handlers run a few milliseconds past the test that triggered them (a
    disconnect updating users.status and reading contacts). The flush's TRUNCATE locks the
    tables in an arbitrary order (a set's), so it can deadlock with such a transaction;
    PostgreSQL aborts one of the two, and retrying is its documented remedy. Without this the
    flush fails and the next test starts on the previous one's rows.
    """
    from django.core.management.base import CommandError
    from django.core.management.commands import flush

    original = flush.Command.handle

    def handle(self, **options):
        for attempt in range(5):
            try:
                return original(self, **options)
            except CommandError as exc:
                if attempt == 4 or "deadlock detected" not in str(exc.__cause__):
                    raise

    flush.Command.handle = handle


@pytest.hookimpl(tryfirst=True)  # marks added before `-m` selects on them
def pytest_collection_modifyitems(config, items):
    """Tests marked `redis` need a shared Redis (several processes), tests marked `postgres` the
    PostgreSQL-only write path; the embedded default has neither. .ci/run's second pass runs them.
    Tests that write the repository's .env are marked `dotenv`: every process started meanwhile
    would read it, so CI runs them alone, after the parallel run."""
    for item in items:
        if "dotenv_file" in item.fixturenames:
            item.add_marker("dotenv")
    needs = {
        "redis": bool(settings.REDIS_URL),
        "postgres": settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    }
    kept, dropped = [], []
    for item in items:
        (dropped if any(item.get_closest_marker(m) and not ok for m, ok in needs.items()) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
        print(f"\n{len(dropped)} tests need REDIS_URL or PostgreSQL; .ci/run's second pass runs them.")


# Variables a developer may have exported that would change what a started process reads.
CONFIG_VARS = [
    "DATABASE_URL",
    "REDIS_URL",
    "PORT",
    "SOCKET_PORT",
    "HOST",
    "ASGI_SERVER",
    "CORS_ORIGIN",
    "AUTH_MODE",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CLERK_JWT_KEY",
    "CLERK_JWKS_URL",
    "MESSAGE_MAX_LENGTH",
    "LOG_FORMAT",
    "LOG_LEVEL",
]


def environ_without_config(**extra: str) -> dict:
    """os.environ minus CONFIG_VARS, plus `extra`: what a freshly started process should read."""
    return {**{k: v for k, v in os.environ.items() if k not in CONFIG_VARS}, **extra}


@pytest.fixture
def dotenv_file():
    """The repository's .env, which settings read (write it in the test); removed afterwards."""
    path = ROOT / ".env"
    # One .env for the repository: tests on other pytest-xdist workers wait for this one.
    (ROOT / "var").mkdir(exist_ok=True)
    with open(ROOT / "var" / "dotenv-test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():  # a developer's own .env: leave it alone and prove nothing here
            raise AssertionError("remove your .env before running this test; it would be overwritten")
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shared_database_url() -> str:
    """The URL of the database pytest-django created, for server processes to share it."""
    from django.db import connection

    params = connection.settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


@dataclass
class AsgiServer:
    url: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig=None) -> None:
        if self.process.poll() is None:
            if sig is None:
                self.process.terminate()
            else:
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_until_up(server: AsgiServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start in {timeout}s:\n{server.log()}")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases, made droppable at the end of the run.

    PostgreSQL refuses to drop a database others are connected to ("being accessed by other
    users"). Before pytest-django drops it: psycopg's pool (its idle connections) is closed, and
    any connection still open on it, from a server process the tests started or a worker
    thread, is terminated. pytest_sessionfinish below then checks the database is gone.
    """
    from django.db import connections

    _test_databases.update(
        connection.settings_dict["NAME"] for connection in connections.all() if connection.vendor == "postgresql"
    )
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            if hasattr(connection, "close_pool"):
                connection.close_pool()
            if connection.vendor == "postgresql":
                _terminate_other_connections(connection)


_test_databases: set[str] = set()


def _terminate_other_connections(connection) -> None:
    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if a PostgreSQL test database was left behind (it would break the next run)."""
    if not _test_databases or session.config.getoption("reuse_db", False):
        return  # --reuse-db keeps the database on purpose
    import psycopg

    params = settings.DATABASES["default"]
    # A connection of its own: Django's are closed, and pytest-django blocks them here.
    with psycopg.connect(
        dbname="postgres", user=params.get("USER") or "postgres", password=params.get("PASSWORD") or None,
        host=params.get("HOST") or "127.0.0.1", port=params.get("PORT") or 5432,
    ) as admin:  # fmt: skip
        rows = admin.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", [sorted(_test_databases)])
        left = [row[0] for row in rows.fetchall()]
    if left:
        print(f"\nERROR: test database(s) left behind after the run: {', '.join(left)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def asgi_server_factory(django_db_setup, django_db_blocker, tmp_path_factory):
    """Start server processes (`python -m biosync.serve`; ASGI_SERVER=daphne for daphne) on the test
    database; all are stopped at session end."""
    started: list[AsgiServer] = []
    with django_db_blocker.unblock():
        database_url = shared_database_url()

    def start(**extra_env) -> AsgiServer:
        port = free_port()
        log_path = tmp_path_factory.mktemp("server") / "server.log"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": settings.REDIS_URL,
            "REDIS_KEY_PREFIX": TEST_REDIS_PREFIX,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "*",
            "PYTHONUNBUFFERED": "1",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "SOCKET_PORT": str(port),
            # Small pools: a session keeps dozens of these servers alive on one PostgreSQL, whose
            # connections are few (100 by default); a test that needs more says so.
            "DB_POOL_MIN_SIZE": "1",
            "DB_POOL_MAX_SIZE": "6",
            **{key: str(value) for key, value in extra_env.items()},
        }
        log = open(log_path, "w")
        process = subprocess.Popen(
            # The README's server entry point (scripts/serve ends in it), on one port for both roles.
            [sys.executable, "-m", "biosync.serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = AsgiServer(url=f"http://127.0.0.1:{port}", port=port, process=process, log_path=log_path)
        started.append(server)
        wait_until_up(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def asgi_server(asgi_server_factory) -> AsgiServer:
    """One shared server process for the realtime and HTTP tests."""
    return asgi_server_factory()


@pytest.fixture
def make_user(db):
    """Create a BioSync user with a unique Clerk id (unique also across a shared live server)."""
    from users.models import User

    def make(name: str = "user", **fields) -> User:
        clerk_id = f"user_{name}_{uuid.uuid4().hex[:8]}"
        fields.setdefault("username", f"{name}{uuid.uuid4().hex[:4]}")
        fields.setdefault("full_name", name.title())
        fields.setdefault("email", f"{clerk_id}@example.com")
        return User.objects.create(clerk_id=clerk_id, **fields)

    return make


@pytest.fixture
def moderator(client):
    """A superuser signed in to the admin with the `client` test client."""
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_superuser("moderator", "mod@example.com", "pw-not-used")
    client.force_login(staff)
    return staff


@pytest.fixture
def api_as():
    """`api_as(user_or_clerk_id)`: a DRF APIClient sending that identity as the frontend does (x-clerk-id)."""
    from rest_framework.test import APIClient

    def make(who) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_X_CLERK_ID=getattr(who, "clerk_id", who))
        return client

    return make


@pytest.fixture
def mark_online():
    """`mark_online(user)`: the user has a socket connected, as presence records it; undone afterwards."""
    from delivery import leases

    marked = []

    def mark(user) -> None:
        leases.socket_connected(user.clerk_id, f"test-sid-{user.clerk_id}")
        marked.append(user.clerk_id)

    yield mark
    for clerk_id in marked:
        leases.socket_disconnected(clerk_id, f"test-sid-{clerk_id}")


@pytest.fixture
def forget():
    """`forget((clerk_id, sid))`: a presence lease a test records directly is removed afterwards
    (this process's registry is shared by every test)."""
    from delivery import leases

    recorded: list[tuple[str, str]] = []
    yield recorded.append
    for clerk_id, sid in recorded:
        leases.socket_disconnected(clerk_id, sid)
