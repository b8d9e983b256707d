"""A PostgreSQL outage, for real: a private PostgreSQL on a free loopback port is stopped under a
running server. REST answers 503 `{error}` with Retry-After (not 500), /readyz says so within a
second, and both recover when the database is back, with no restart."""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from tests.biosync.rawhttp import get, metric_samples
from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.postgres  # needs PostgreSQL's own programs, as the PostgreSQL pass has

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1:] or [""]


def _as_postgres(*argv, **kwargs):
    # initdb and postgres refuse to run as root; the machine's postgres account runs them.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=60, **kwargs)


class PrivatePostgres:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="biosync-outage-")
        shutil.chown(self.dir, "postgres") if os.geteuid() == 0 else None
        self.data, self.port = os.path.join(self.dir, "data"), free_port()
        _as_postgres(f"{BIN[0]}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres")
        self.start()
        subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "outage"], check=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/outage"

    def start(self):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        _as_postgres(f"{BIN[0]}/pg_ctl", "-D", self.data, "-o", options, "-w", "-l", f"{self.dir}/log", "start")

    def stop(self):
        _as_postgres(f"{BIN[0]}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def remove(self):
        subprocess.run(["runuser", "-u", "postgres", "--", f"{BIN[0]}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres():
    database = PrivatePostgres()
    yield database
    database.remove()


def _request(url: str, method: str = "GET", body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                json.loads(response.read()),
                time.perf_counter() - started,
            )
    except urllib.error.HTTPError as error:
        return (
            error.code,
            {k.lower(): v for k, v in error.headers.items()},
            json.loads(error.read()),
            time.perf_counter() - started,
        )


def test_rest_answers_503_and_readyz_answers_at_once_while_postgres_is_down(private_postgres, asgi_server_factory):
    env = {**os.environ, "DATABASE_URL": private_postgres.url}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    server = asgi_server_factory(DATABASE_URL=private_postgres.url, REDIS_URL="", DB_POOL_TIMEOUT="2")
    me = {"x-clerk-id": "user_outage_probe"}
    try:
        assert _request(server.url + "/users", "POST", {"isParalyzed": True}, me)[0] == 200
        assert _request(server.url + "/users/me", headers=me)[0] == 200

        private_postgres.stop()
        status, headers, body, _ = _request(server.url + "/users/me", headers=me)
        assert status == 503 and headers.get("retry-after") == "5"
        assert set(body) == {"error"} and "database" in body["error"]
        status, _, body, took = _request(server.url + "/readyz")
        assert status == 503 and body["checks"]["database"].startswith("down") and took < 1.0

        private_postgres.start()
        deadline = time.monotonic() + 15
        while _request(server.url + "/users/me", headers=me)[0] != 200:
            assert time.monotonic() < deadline, "the server did not recover after the database came back"
            time.sleep(0.2)
        assert _request(server.url + "/readyz")[0] == 200
    finally:
        server.stop()
    assert "http.database_unavailable" in server.log()


def test_a_hot_read_answers_djangos_503_at_once_while_postgres_is_down(private_postgres, asgi_server_factory):
    """The hot-read lane (biosync/hotreads.py) answers a database outage itself, with the bytes and
    headers Django answers it with, instead of handing the request on to wait for the pool again."""
    env = {**os.environ, "DATABASE_URL": private_postgres.url}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    outage = {"DATABASE_URL": private_postgres.url, "REDIS_URL": "", "DB_POOL_TIMEOUT": "2"}
    with_lane = asgi_server_factory(**outage)
    without = asgi_server_factory(**outage, HTTP_HOT_READS="false")
    me = [("x-clerk-id", "user_outage_reader"), ("Origin", "http://localhost:3001")]
    answered = ("biosync_http_hot_reads_total", (("view", "contacts"),))
    try:
        assert _request(with_lane.url + "/users", "POST", {"isParalyzed": True}, dict(me))[0] == 200
        assert get(with_lane, "/contacts", me)[0] == get(without, "/contacts", me)[0] == 200
        assert metric_samples(with_lane)[answered] == 1

        private_postgres.stop()
        status, headers, body = get(with_lane, "/contacts", me)
        assert (status, headers, body) == get(without, "/contacts", me)
        assert status == 503 and ("retry-after", "5") in headers and b"database" in body
        assert metric_samples(with_lane)[answered] == 2  # the lane's answer, not Django's
        # On the event loop (the first read compiled the query on a thread): its own pool waited.
        assert metric_samples(with_lane)[("biosync_http_hot_reads_on_loop_total", (("view", "contacts"),))] == 1

        private_postgres.start()
        deadline = time.monotonic() + 15
        while get(with_lane, "/contacts", me)[0] != 200:
            assert time.monotonic() < deadline, "the lane did not recover after the database came back"
            time.sleep(0.2)
    finally:
        with_lane.stop()
        without.stop()
    assert "http.database_unavailable" in with_lane.log()
