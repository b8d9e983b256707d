"""Probes, metrics and logs an operator relies on."""

import asyncio
import json
import logging
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client import REGISTRY

from kernel.logging import JsonFormatter, log_event
from tests.conftest import free_port


def _get(url: str) -> tuple[int, dict | str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def test_healthz_needs_no_identity(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database_and_redis_when_configured(client, settings):
    body = client.get("/readyz").json()
    assert body["status"] == "ok" and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == ("ok" if settings.REDIS_URL else "not configured")


@pytest.mark.django_db
def test_probes_and_metrics_are_exempt_from_the_ssl_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path).status_code == 200, path


def _sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_stored_messages_are_counted_once_and_metrics_are_served(client, make_user):
    from chat.services import message_send

    ann, bob = make_user("ann"), make_user("bob")
    stored = _sample("biosync_messages_stored_total")
    message_send(sender_id=ann.clerk_id, recipient_id=bob.clerk_id, text="hi", client_message_id="c1")
    message_send(sender_id=ann.clerk_id, recipient_id=bob.clerk_id, text="hi", client_message_id="c1")  # a retry
    assert _sample("biosync_messages_stored_total") == stored + 1

    page = client.get("/metrics")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/plain")
    text = page.content.decode()
    for name in (
        "biosync_connected_sockets",
        "biosync_messages_stored_total",
        "biosync_send_latency_seconds_bucket",
        "biosync_send_failures_total",
    ):
        assert name in text


@pytest.mark.django_db
def test_http_and_database_metrics_count_each_request_and_query(client, make_user):
    """django-prometheus: requests by view, method and status; queries by database vendor."""
    make_user("ann")
    view = {"view": "contacts", "method": "GET", "status": "200"}
    requests = _sample("django_http_responses_total_by_status_view_method_total", **view)
    queries = sum(
        _sample("django_db_execute_total", alias="default", vendor=vendor) for vendor in ("sqlite", "postgresql")
    )

    assert client.get("/contacts", HTTP_X_CLERK_ID="ann").status_code == 200

    assert _sample("django_http_responses_total_by_status_view_method_total", **view) == requests + 1
    assert (
        sum(_sample("django_db_execute_total", alias="default", vendor=vendor) for vendor in ("sqlite", "postgresql"))
        > queries
    )
    text = client.get("/metrics").content.decode()
    for name in (
        "django_http_requests_latency_seconds_by_view_method",
        "django_db_query_duration_seconds",
        "biosync_messages_stored_total",
    ):
        assert name in text


async def _live_samples(server) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    status, text = await asyncio.to_thread(_get, server.url + "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def sender_and_recipient(make_user):
    return make_user("ann"), make_user("bob")


@pytest.mark.django_db(transaction=True)
async def test_the_live_server_measures_sends_failures_and_sockets(asgi_server, sender_and_recipient):
    from tests.chat.realtime.client import Client

    ann, bob = sender_and_recipient
    latency, stored, too_long, sockets = (
        ("biosync_send_latency_seconds_count", ()),
        ("biosync_messages_stored_total", ()),
        ("biosync_send_failures_total", (("reason", "too_long"),)),
        ("biosync_connected_sockets", ()),
    )
    before = await _live_samples(asgi_server)
    client = Client(asgi_server.url)
    await client.connect()
    try:
        await client.register(ann.clerk_id)
        assert (await client.send(bob.clerk_id, "hello"))["success"] is True
        assert (await client.send(bob.clerk_id, "x" * 5000))["success"] is False
        after = await _live_samples(asgi_server)
    finally:
        await client.close()
    assert after[latency] == before[latency] + 1
    assert after[stored] == before[stored] + 1
    assert after[too_long] == before.get(too_long, 0) + 1
    # Other tests' sockets may still be leaving the shared server: at least ours is counted.
    assert after[sockets] >= 1


def test_json_log_lines_carry_the_event_fields_and_timing():
    logger = logging.getLogger("biosync.test")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        log_event(logger, "thing.done", item_id=7, duration_ms=1.5, name="clashes with LogRecord.name")
    finally:
        logger.removeHandler(handler)
    line = JsonFormatter().format(records[0])
    assert "\n" not in line
    body = json.loads(line)
    assert body["event"] == "thing.done" and body["item_id"] == 7 and body["duration_ms"] == 1.5
    assert body["name_"] == "clashes with LogRecord.name"
    assert body["level"] == "INFO" and body["ts"].endswith("Z") and body["logger"] == "biosync.test"


@pytest.mark.django_db(transaction=True)
def test_live_server_probes(asgi_server):
    assert _get(asgi_server.url + "/healthz") == (200, {"status": "ok"})
    status, body = _get(asgi_server.url + "/readyz")
    assert status == 200 and body["checks"]["database"] == "ok"
    status, text = _get(asgi_server.url + "/metrics")
    assert status == 200 and "biosync_send_latency_seconds" in text


@pytest.fixture
def throwaway_redis():
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield port, process
    if process.poll() is None:
        process.kill()
        process.wait()


def _wait_for_redis(port: int) -> None:
    import redis

    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    for _ in range(50):
        try:
            client.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("throwaway redis did not start")


@pytest.mark.django_db(transaction=True)
def test_readyz_is_503_naming_redis_when_redis_stops(asgi_server_factory, throwaway_redis):
    port, redis_process = throwaway_redis
    _wait_for_redis(port)
    server = asgi_server_factory(REDIS_URL=f"redis://127.0.0.1:{port}/0")
    try:
        status, body = _get(server.url + "/readyz")
        assert status == 200 and body["checks"] == {"database": "ok", "redis": "ok"}

        redis_process.kill()
        redis_process.wait()
        status, body = _get(server.url + "/readyz")
        assert status == 503
        assert body["error"] == "redis unreachable"
        assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("down")
        # Alive all the same: the orchestrator must not restart a process for a Redis outage.
        assert _get(server.url + "/healthz") == (200, {"status": "ok"})
    finally:
        server.stop()
    assert "readyz.down" in server.log()


@pytest.mark.django_db
def test_each_request_is_one_log_line_without_its_query_string(client, caplog):
    with caplog.at_level(logging.DEBUG, logger="biosync.http"):
        client.get("/no/such/route", {"q": "private search words"})
        client.get("/healthz")
    lines = [r for r in caplog.records if getattr(r, "event", None) == "http.request"]
    assert [(r.path, r.status, r.levelname) for r in lines] == [
        ("/no/such/route", 404, "INFO"),
        ("/healthz", 200, "DEBUG"),
    ]
    assert all(r.duration_ms >= 0 for r in lines)
    assert "private search words" not in caplog.text


def test_connected_sockets_gauge_follows_presence():
    from delivery import leases

    before = _sample("biosync_connected_sockets")
    leases.socket_connected("user_gauge", "sid-gauge-1")
    try:
        assert _sample("biosync_connected_sockets") == before + 1
    finally:
        leases.socket_disconnected("user_gauge", "sid-gauge-1")
    assert _sample("biosync_connected_sockets") == before


@pytest.mark.django_db
def test_a_4xx_is_logged_once(client, caplog):
    with caplog.at_level(logging.DEBUG):
        assert client.get("/no/such/route").status_code == 404
        assert client.get("/users/me").status_code == 401
    lines = [(r.name, getattr(r, "status", None)) for r in caplog.records if r.name.startswith(("django", "biosync"))]
    assert lines == [("biosync.http", 404), ("biosync.http", 401)]


@pytest.mark.django_db(transaction=True)
def test_development_logs_are_plain_lines_without_colour_codes(asgi_server_factory, asgi_server):
    server = asgi_server_factory(DEBUG="true")
    try:
        assert _get(server.url + "/no/such/route")[0] == 404
    finally:
        server.stop()
    log = server.log()
    # uvicorn's start line carries `color_message`, the same text with ANSI colour codes.
    assert "Started server process" in log and "Started server process" in asgi_server.log()
    assert "\x1b[" not in log and "color_message" not in log and "color_message" not in asgi_server.log()
    assert not [line for line in log.splitlines() if line.startswith("{")]
    [line] = [line for line in log.splitlines() if "/no/such/route" in line]
    assert " INFO biosync.http http.request method=GET path=/no/such/route status=404 duration_ms=" in line
