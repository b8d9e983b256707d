"""When the server cannot serve, it says why in one line naming the variable, and exits non-zero.

Real processes (`python -m biosync.serve`, `scripts/serve`), a real bound socket, a real
PostgreSQL server without the database, a Redis port nobody listens on.
"""

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT, environ_without_config, free_port, shared_database_url


@pytest.fixture
def database_url(django_db_setup, django_db_blocker) -> str:
    """The test database (tests using it are marked django_db, so that pytest-django creates it)."""
    with django_db_blocker.unblock():
        return shared_database_url()


def start(argv: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=environ_without_config(**env), cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.django_db
@pytest.mark.parametrize("variable", ["PORT", "SOCKET_PORT"])
def test_a_taken_port_is_one_line_naming_its_variable_and_nothing_claims_to_serve(variable, asgi_server, database_url):
    assert "REST on http://127.0.0.1:" in asgi_server.log()  # where the ports are free, the line is printed
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {"PORT": str(free_port()), "SOCKET_PORT": str(free_port()), variable: str(port)}
        # DEBUG as under scripts/serve: no dev-mode identity warning before the line.
        out = start([sys.executable, "-m", "biosync.serve"], DATABASE_URL=database_url, DEBUG="true", **ports)
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        f"{variable}: port {port} on 127.0.0.1 is already in use; "
        f"stop what listens there or set {variable} to a free port"
    ]
    assert out.stdout == ""


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "argv", [[sys.executable, "-m", "biosync.serve"], ["bash", "scripts/serve"]], ids=["serve", "scripts/serve"]
)
def test_a_missing_database_is_one_line_with_the_command_that_creates_it(argv, database_url):
    assert start([sys.executable, "-m", "biosync.preflight"], DATABASE_URL=database_url).returncode == 0
    base, name = database_url.rsplit("/", 1)
    started = time.monotonic()
    out = start(argv, DATABASE_URL=f"{base}/{name}_missing", PORT=str(free_port()), SOCKET_PORT=str(free_port()))
    assert time.monotonic() - started < 30  # not DB_POOL_TIMEOUT per pooled retry
    assert out.returncode == 1
    # The first scripts/serve of a checkout may add pip's notes about the package index.
    [line] = [line for line in out.stderr.splitlines() if not line.startswith("WARNING: Location")]
    assert line.startswith(f"DATABASE_URL: database {name}_missing does not exist on ")
    assert "; create it with createdb -h " in line and line.endswith(f" {name}_missing")
    assert "REST on" not in out.stdout


@pytest.mark.django_db(transaction=True)
def test_redis_down_at_start_is_one_warning_naming_redis_url_and_the_server_serves(asgi_server_factory):
    redis_port = free_port()  # nothing listens there
    server = asgi_server_factory(REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    try:
        with urllib.request.urlopen(server.url + "/healthz", timeout=10) as response:
            assert response.status == 200
    finally:
        server.stop()
    warnings = [line for line in server.log().splitlines() if "REDIS_URL" in line]
    assert len(warnings) == 1
    assert f"REDIS_URL: Redis at 127.0.0.1:{redis_port} is unreachable" in warnings[0] and "WARNING" in warnings[0]
